/**
 * One running live view: its socket, lifecycle, render state and the diffs
 * it sends. All callbacks of one instance run one after another.
 */
import { TRACING } from '../telemetry/channels.js';
import { InletError } from '../errors.js';
import { DIFF, type WireObject, type WireValue } from '../render/keys.js';
import { releaseStreamEntries, renderTemplate, treeToHtml, type RList, type RNode } from '../render/tree.js';
import { diff, toWire } from '../render/wire.js';
import { ChildRenderer, type ChildPlacement } from './children.js';
import { Components } from './component.js';
import type { AppServices, ExtensionInstance, ViewExtension } from './extensions.js';
import { decodeForm, targetPath, type Params } from './params.js';
import type { PubSub, Unsubscribe } from './pubsub.js';
import type { OnMount, Router } from './router.js';
import { LiveViewSocket, type Effects, type Navigation } from './socket.js';
import type { Signer } from './tokens.js';
import type { LiveEvent, LiveView, RenderMeta, Session, UpdateTarget } from './view.js';

/** What a view needs to render child views (the app provides it). */
export interface ChildServices {
  readonly signer: Signer;
  readonly tokenTtlMs: number;
  viewKey(view: LiveView<object>): string;
}

/**
 * Most patches `handleParams` may chain without a render (a patch whose
 * handleParams patches again, …); one more crashes the view, as in Phoenix.
 */
export const MAX_PATCH_CHAIN = 20;

/** How a callback ended, for the channel to report. */
export interface Outcome {
  /** The diff to send, if anything changed. */
  diff?: WireObject;
  live_patch?: { to: string; kind: 'push' | 'replace' };
  live_redirect?: { to: string; kind: 'push' | 'replace'; flash?: string };
  redirect?: { to: string; flash?: string };
}

export interface InstanceOptions {
  readonly id: string;
  readonly view: LiveView<object>;
  readonly url: URL;
  readonly session: Session;
  readonly csrfToken: string;
  /** The socket's connect params (absent in the HTTP render). */
  readonly connectParams?: Readonly<Record<string, string>>;
  /** The join's `params` (`socket.connectParams`; absent in the HTTP render). */
  readonly joinParams?: Readonly<Record<string, unknown>>;
  readonly connected: boolean;
  /** The route's live action. */
  readonly liveAction?: string;
  /** The live session's hooks, run before `mount`. */
  readonly onMount?: readonly OnMount[];
  readonly router: Router<LiveView<object>>;
  readonly pubsub: PubSub;
  /** What the app offers extensions (signer, log). */
  readonly app: AppServices;
  /** Per-view extensions (uploads, …), each given its own state in this instance. */
  readonly extensions?: readonly ViewExtension[];
  /** Signs flash for navigation; absent in the HTTP render. */
  readonly signFlash?: (flash: Record<string, string>) => string;
  /** Called with unsolicited outcomes (from handleInfo, timers, uploads). */
  readonly push?: (outcome: Outcome) => void;
  /** Called when a callback outside a client request throws. */
  readonly crash?: (error: unknown) => void;
  /** Lets the view render child views ({@link liveRender}). */
  readonly children?: ChildServices;
  /** A child view: `mount` gets no params and `handleParams` never runs. */
  readonly child?: boolean;
  /** A child view: patches are the root view's, so they go to it. */
  readonly forwardPatch?: (to: string, replace: boolean) => void;
  /** A child view: delivers `socket.sendParent` messages to the parent's `handleInfo`. */
  readonly sendParent?: (info: unknown) => void;
}

export class ViewInstance {
  readonly id: string;
  readonly socket: LiveViewSocket<object>;
  readonly components: Components;
  readonly #children?: ChildRenderer;
  readonly #extensions = new Map<string, ExtensionInstance>();
  #url: URL;
  readonly #options: InstanceOptions;
  readonly #subscriptions = new Map<string, Subscription>();
  /** Subscriptions asked for and not yet live; a callback's outcome waits for them. */
  readonly #pendingSubscriptions = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #tree?: RNode;
  /** Stream lists of the last render, released once their diff is produced. */
  #streamLists: RList[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #mounted = false;

  constructor(options: InstanceOptions) {
    this.#options = options;
    this.id = options.id;
    this.#url = options.url;
    this.socket = new LiveViewSocket<object>({
      id: options.id,
      connected: options.connected,
      extension: (name) => this.#extensions.get(name),
      subscribe: (topic) => this.#subscribe(topic),
      unsubscribe: (topic) => this.#unsubscribe(topic),
      broadcast: (topic, message) => {
        options.pubsub.broadcast(topic, message).catch((e: unknown) => {
          this.#options.app.logger.error({ err: e, view: this.id, topic }, 'pubsub broadcast failed');
        });
      },
      sendInfo: (info, delayMs) => this.#sendInfo(info, delayMs),
      ...(options.joinParams ? { connectParams: options.joinParams } : {}),
      ...(options.sendParent ? { sendParent: options.sendParent } : {}),
      sendUpdate: (target, assigns, delayMs) => this.#sendUpdate(target, assigns, delayMs),
      update: (fn) => this.update(fn),
      handleAsync: (name, outcome, socket) => {
        const view = options.view;
        if (!view.handleAsync) throw new InletError('INLET_ERR_VIEW_ASYNC', `startAsync("${name}") finished, but the view has no handleAsync.`);
        return view.handleAsync(name, outcome, socket);
      },
    });
    const services = options.children;
    if (services) {
      this.#children = new ChildRenderer({
        id: options.id,
        connected: options.connected,
        session: options.session,
        url: () => this.#url,
        signer: services.signer,
        tokenTtlMs: services.tokenTtlMs,
        viewKey: (view) => services.viewKey(view),
        renderDead: (placement, session) => this.#renderDeadChild(placement, session),
      });
    }
    this.components = new Components({
      pushEvent: (event, payload, opts) => this.socket.pushEvent(event, payload, opts),
      sendInfo: (info) => this.#sendInfo(info),
      reply: (payload) => this.socket.reply(payload),
      connected: options.connected,
      hook: (item) => options.app.colocated?.seen(item, options.connected),
      view: this.socket,
      update: (fn) => this.update(fn),
      child: (marker) => {
        if (!this.#children) throw new InletError('INLET_ERR_VIEW_CHILD', 'this view cannot render child views.');
        return this.#children.place(marker);
      },
      sendUpdate: (target, assigns, delayMs) => this.#sendUpdate(target, assigns, delayMs),
      extension: (name) => this.#extensions.get(name),
      componentMeta: (cid) => {
        let meta: Record<string, unknown> = {};
        for (const ext of this.#extensions.values()) if (ext.componentMeta) meta = { ...meta, ...ext.componentMeta(cid) };
        return meta;
      },
    });
    const host = {
      id: options.id,
      connected: options.connected,
      socket: this.socket,
      app: options.app,
      connectParams: options.connectParams ?? {},
      update: (fn: () => Promise<void> | void) => this.update(fn),
      touchComponent: (cid: number) => this.components.markDirty(cid),
    };
    for (const extension of options.extensions ?? []) this.#extensions.set(extension.name, extension.create(host));
  }

  /** The state of the extension registered as `name` (e.g. `'uploads'`), if any. */
  extension<T extends ExtensionInstance>(name: string): T | undefined {
    return this.#extensions.get(name) as T | undefined;
  }

  /** Whether any extension's state changed since the last render (forces one). */
  #extensionsTouched(): boolean {
    let touched = false;
    for (const ext of this.#extensions.values()) if (ext.touched?.()) touched = true;
    return touched;
  }

  get url(): URL {
    return this.#url;
  }

  get view(): LiveView<object> {
    return this.#options.view;
  }

  get connected(): boolean {
    return this.#options.connected;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs `task` after every earlier callback of this instance. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(task, task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Mounts: `mount`, then `handleParams`. Returns the navigation asked for,
   * if any (the caller redirects instead of rendering).
   */
  mount(params: Params, flash?: Record<string, string>): Promise<Navigation | undefined> {
    const context = { view: this.id, route: this.#url.pathname, connected: this.#options.connected };
    return TRACING.mount.tracePromise(() => this.#mount(params, flash), context);
  }

  async #mount(params: Params, flash?: Record<string, string>): Promise<Navigation | undefined> {
    if (flash) LiveViewSocket.seed(this.socket, { flash });
    LiveViewSocket.setLiveAction(this.socket, this.#options.liveAction);
    for (const hook of this.#options.onMount ?? []) {
      await hook(this.socket, this.#options.session, params);
      const nav = this.#peekNavigation();
      if (nav && nav.kind !== 'patch') return nav;
    }
    await this.#options.view.mount?.(this.socket, this.#options.session, params);
    const afterMount = this.#peekNavigation();
    if (afterMount && afterMount.kind !== 'patch') return afterMount;
    if (!this.#options.child) await this.#options.view.handleParams?.(this.#url, this.socket);
    this.#mounted = true;
    await this.#subscriptionsLive();
    return this.#peekNavigation();
  }

  #pendingEffects?: Effects;
  /** The page title last set, for full renders. */
  #title?: string;

  #peekNavigation(): Navigation | undefined {
    const effects = LiveViewSocket.takeEffects(this.socket);
    this.#mergePending(effects);
    return this.#pendingEffects?.navigation;
  }

  #mergePending(effects: Effects): void {
    if (effects.title !== undefined) this.#title = effects.title;
    const pending = this.#pendingEffects;
    if (!pending) {
      this.#pendingEffects = effects;
      return;
    }
    for (const key of effects.changed) pending.changed.add(key);
    pending.events.push(...effects.events);
    if (effects.title !== undefined) pending.title = effects.title;
    if (effects.reply !== undefined) pending.reply = effects.reply;
    pending.navigation = effects.navigation;
  }

  #takeEffects(): Effects {
    const effects = LiveViewSocket.takeEffects(this.socket);
    this.#mergePending(effects);
    const all = this.#pendingEffects as Effects;
    this.#pendingEffects = undefined;
    return all;
  }

  /** The full render for a join reply: rendered tree plus title, events and components. */
  async renderFull(): Promise<WireObject> {
    const effects = this.#takeEffects();
    const tree = this.#renderRoot();
    await this.components.settle();
    const out = toWire(tree) as WireObject;
    const c = this.components.render(true);
    if (c) out[DIFF.COMPONENTS] = c;
    if (this.#title !== undefined) out[DIFF.TITLE] = this.#title;
    if (effects.events.length > 0) out[DIFF.EVENTS] = effects.events;
    this.#tree = tree;
    this.#releaseStreams();
    return out;
  }

  /** The full HTML (HTTP render): mount must have run. */
  async renderHtml(): Promise<{ html: string; title?: string }> {
    this.#takeEffects();
    const tree = this.#renderRoot();
    await this.components.settle();
    this.components.render(true);
    await this.#children?.settle();
    const html = treeToHtml(tree, (cid) => this.components.tree(cid));
    this.#releaseStreams();
    return { html, title: this.#title };
  }

  /** HTTP render of a child view: mount (not connected), render, stop. */
  async #renderDeadChild(placement: ChildPlacement, session: Session): Promise<string> {
    const o = this.#options;
    const child = new ViewInstance({
      id: placement.id,
      view: placement.view,
      url: this.#url,
      session,
      csrfToken: o.csrfToken,
      connected: false,
      router: o.router,
      pubsub: o.pubsub,
      app: o.app,
      ...(o.extensions ? { extensions: o.extensions } : {}),
      ...(o.children ? { children: o.children } : {}),
      child: true,
    });
    try {
      await child.mount({});
      return (await child.renderHtml()).html;
    } finally {
      await child.stop();
    }
  }

  /**
   * Stream items are in the client's DOM now: the server forgets them (the
   * view's pending changes, after its components rendered too, since a
   * component may render a stream it was given, and the rendered entries).
   */
  #releaseStreams(): void {
    LiveViewSocket.pruneStreams(this.socket);
    releaseStreamEntries(this.#streamLists);
    this.#streamLists = [];
    this.components.releaseStreams();
  }

  /** The full HTML of the current state, from the trees last sent (tests, conformance). */
  currentHtml(): string {
    return this.#tree ? treeToHtml(this.#tree, (cid) => this.components.tree(cid)) : '';
  }

  #renderRoot(): RNode {
    return TRACING.render.traceSync(() => this.#renderRootNow(), { view: this.id });
  }

  #renderRootNow(): RNode {
    const liveAction = this.socket.liveAction;
    let meta: RenderMeta = {
      csrfToken: this.#options.csrfToken,
      uploads: {},
      connected: this.#options.connected,
      url: this.#url,
      ...(liveAction !== undefined ? { liveAction } : {}),
    };
    for (const ext of this.#extensions.values()) if (ext.renderMeta) meta = { ...meta, ...ext.renderMeta() };
    const template = this.#options.view.render(this.socket.assigns, meta);
    return renderTemplate(template, this.components.context(this.#streamLists));
  }

  /**
   * Finishes a callback: applies navigation, renders what changed and
   * returns the outcome. `forceRender` renders even without assign changes.
   */
  async finish(forceRender = false): Promise<Outcome> {
    await this.#subscriptionsLive();
    let effects = this.#takeEffects();
    const outcome: Outcome = {};
    const forward = this.#options.forwardPatch;
    if (forward && effects.navigation?.kind === 'patch') {
      forward(effects.navigation.to, effects.navigation.replace);
      effects.navigation = undefined;
    }
    for (let chain = 0; effects.navigation?.kind === 'patch'; chain++) {
      const nav = effects.navigation;
      const target = new URL(nav.to, this.#url);
      const match = this.#options.router.match(target.pathname);
      if (!match || match.view !== this.#options.view) {
        effects.navigation = { kind: 'navigate', to: nav.to, replace: nav.replace };
        break;
      }
      if (chain >= MAX_PATCH_CHAIN) {
        throw new InletError('INLET_ERR_VIEW_PATCH_LOOP', `${MAX_PATCH_CHAIN} patches in a row to ${target.pathname}${target.search}: does handleParams always call pushPatch?`);
      }
      this.#url = target;
      LiveViewSocket.setLiveAction(this.socket, match.action);
      outcome.live_patch = { to: target.pathname + target.search, kind: nav.replace ? 'replace' : 'push' };
      const carried = effects;
      carried.navigation = undefined;
      await this.#options.view.handleParams?.(this.#url, this.socket);
      this.#pendingEffects = carried;
      effects = this.#takeEffects();
    }
    const nav = effects.navigation;
    if (nav) {
      const flash = this.socket.assigns.flash;
      const signed = Object.keys(flash).length > 0 ? this.#options.signFlash?.(flash) : undefined;
      if (nav.kind === 'navigate') outcome.live_redirect = { to: nav.to, kind: nav.replace ? 'replace' : 'push', ...(signed ? { flash: signed } : {}) };
      else outcome.redirect = { to: nav.to, ...(signed ? { flash: signed } : {}) };
    }
    const d = await this.#renderDiff(effects, forceRender);
    if (d) outcome.diff = d;
    return outcome;
  }

  async #renderDiff(effects: Effects, forceRender: boolean): Promise<WireObject | undefined> {
    let out: WireObject | undefined;
    if (forceRender || effects.changed.size > 0 || !this.#tree) {
      const tree = this.#renderRoot();
      await this.components.settle();
      const d: WireValue | undefined = this.#tree ? diff(this.#tree, tree) : toWire(tree);
      this.#tree = tree;
      if (d !== undefined) out = d as WireObject;
    }
    if (this.components.dirty) {
      const c = this.components.render(false);
      if (c) (out ??= {})[DIFF.COMPONENTS] = c;
    }
    if (effects.title !== undefined) (out ??= {})[DIFF.TITLE] = effects.title;
    if (effects.events.length > 0) (out ??= {})[DIFF.EVENTS] = effects.events;
    if (effects.reply !== undefined) (out ??= {})[DIFF.REPLY] = effects.reply as WireObject;
    this.#releaseStreams();
    return out;
  }

  /** Handles an `event` push from the client. */
  handleClientEvent(payload: Record<string, unknown>): Promise<Outcome> {
    const name = typeof payload.event === 'string' ? payload.event : '';
    return TRACING.event.tracePromise(() => this.#handleClientEvent(payload), { view: this.id, event: name });
  }

  async #handleClientEvent(payload: Record<string, unknown>): Promise<Outcome> {
    const name = typeof payload.event === 'string' ? payload.event : '';
    const type = typeof payload.type === 'string' ? payload.type : '';
    const fields = eventFields(type, payload.value, payload.meta);
    for (const ext of this.#extensions.values()) ext.beforeEvent?.(payload);
    const event: LiveEvent = { ...fields, type: name, params: fields };
    if (name === 'lv:clear-flash') {
      const key = typeof fields.key === 'string' ? fields.key : undefined;
      this.socket.clearFlash(key);
      return this.finish();
    }
    if (typeof payload.cid === 'number') {
      // A component the client still shows but the server removed (a race with destroy): nothing to do.
      await this.components.handleEvent(payload.cid, event);
      return this.finish(this.#extensionsTouched());
    }
    if (!this.#options.view.handleEvent) throw new Error(`view has no handleEvent for "${name}"`);
    await this.#options.view.handleEvent(event, this.socket);
    return this.finish(this.#extensionsTouched());
  }

  /**
   * Handles an `lv:` event that an extension answers (e.g. `allow_upload`):
   * its reply, and the outcome of what it changed. Undefined when no
   * extension answers `event`.
   */
  async handleExtensionEvent(event: string, payload: Record<string, unknown>): Promise<{ reply: Record<string, unknown>; outcome: Outcome } | undefined> {
    for (const ext of this.#extensions.values()) {
      const events = ext.events;
      const handler = events && Object.hasOwn(events, event) ? events[event] : undefined;
      if (!handler) continue;
      const reply = await handler(payload);
      return { reply, outcome: await this.finish(this.#extensionsTouched()) };
    }
    return undefined;
  }

  /** Handles a `live_patch` push: the URL must belong to this view. */
  async patch(url: string): Promise<Outcome | 'other-view'> {
    let target: URL;
    try {
      target = new URL(url, this.#url);
    } catch {
      return 'other-view';
    }
    const match = this.#options.router.match(target.pathname);
    if (!match || match.view !== this.#options.view) return 'other-view';
    this.#url = target;
    LiveViewSocket.setLiveAction(this.socket, match.action);
    // A patch from the browser starts from a clean flash, as in Phoenix.
    this.socket.clearFlash();
    await this.#options.view.handleParams?.(this.#url, this.socket);
    return this.finish();
  }

  /** Delivers an info message to `handleInfo` and pushes the outcome. */
  deliver(info: unknown): void {
    if (this.#stopped || !this.#mounted) return;
    void this.run(async () => {
      if (this.#stopped) return;
      try {
        await this.#options.view.handleInfo?.(info, this.socket);
        this.#options.push?.(await this.finish(this.#extensionsTouched()));
      } catch (e) {
        this.#options.crash?.(e);
      }
    });
  }

  /** Runs `fn` in the queue and pushes what it changed (used by uploads and timers). */
  update(fn: () => Promise<void> | void): Promise<void> {
    return this.run(async () => {
      if (this.#stopped) return;
      try {
        await fn();
        this.#options.push?.(await this.finish(this.#extensionsTouched()));
      } catch (e) {
        this.#options.crash?.(e);
      }
    });
  }

  #subscribe(topic: string): void {
    if (!this.#options.connected || this.#subscriptions.has(topic) || this.#stopped) return;
    const subscription: Subscription = {};
    this.#subscriptions.set(topic, subscription);
    const live = this.#options.pubsub.subscribe(topic, (message) => this.deliver(message)).then(
      (off) => {
        // Unsubscribed (or stopped) while the subscription was being set up.
        if (this.#subscriptions.get(topic) === subscription) subscription.off = off;
        else off();
      },
      (e: unknown) => {
        if (this.#subscriptions.get(topic) === subscription) this.#subscriptions.delete(topic);
        this.#options.app.logger.error({ err: e, view: this.id, topic }, 'pubsub subscribe failed');
      },
    );
    this.#pendingSubscriptions.add(live);
    void live.finally(() => this.#pendingSubscriptions.delete(live));
  }

  #unsubscribe(topic: string): void {
    const subscription = this.#subscriptions.get(topic);
    this.#subscriptions.delete(topic);
    subscription?.off?.();
  }

  /** Waits until every subscription asked for so far is live (Redis confirms a SUBSCRIBE in a round trip). */
  async #subscriptionsLive(): Promise<void> {
    if (this.#pendingSubscriptions.size > 0) await Promise.all(this.#pendingSubscriptions);
  }

  #sendUpdate(target: UpdateTarget, assigns: Record<string, unknown>, delayMs?: number): void {
    if (!this.#options.connected || this.#stopped) return;
    const apply = (): void => void this.update(() => void this.components.update(target, assigns));
    if (delayMs === undefined || delayMs <= 0) {
      queueMicrotask(apply);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      apply();
    }, delayMs);
    this.#timers.add(timer);
  }

  /** The client removed these components: extensions release what the components held (their uploads). */
  componentsDestroyed(cids: readonly number[]): void {
    if (cids.length === 0) return;
    for (const ext of this.#extensions.values()) {
      const release = ext.componentDestroyed?.bind(ext);
      if (release) void this.update(async () => { for (const cid of cids) await release(cid); });
    }
  }

  #sendInfo(info: unknown, delayMs?: number): void {
    if (!this.#options.connected || this.#stopped) return;
    if (delayMs === undefined || delayMs <= 0) {
      queueMicrotask(() => this.deliver(info));
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.deliver(info);
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Ends the instance: unsubscribes, clears timers, releases uploads, calls `unmount`. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    LiveViewSocket.endAsync(this.socket);
    this.components.endAsync();
    for (const topic of [...this.#subscriptions.keys()]) this.#unsubscribe(topic);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // After the callback running now (a consume may be moving a file), not under it.
    for (const ext of this.#extensions.values()) if (ext.release) await this.run(() => ext.release?.() ?? Promise.resolve());
    try {
      await this.#options.view.unmount?.(this.socket);
    } catch (e) {
      this.#options.app.logger.error({ err: e, view: this.id }, 'unmount failed');
    }
  }
}

/** One topic's subscription; `off` is set once the pubsub confirmed it. */
interface Subscription {
  off?: Unsubscribe;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields of an event: decoded form values plus meta (`_target` as a key path), or the click/key/hook value object. */
export function eventFields(type: string, value: unknown, meta: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (type === 'form' && typeof value === 'string') copyFields(out, decodeForm(value));
  else if (isPlainObject(value)) copyFields(out, value);
  else if (value !== undefined && value !== null) out.value = value;
  if (isPlainObject(meta)) copyFields(out, meta);
  // As Phoenix: the changed field's key path (`user[name]` -> ['user', 'name']).
  if (type === 'form' && typeof out._target === 'string') out._target = targetPath(out._target);
  return out;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function copyFields(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) if (!UNSAFE_KEYS.has(key)) target[key] = source[key];
}
