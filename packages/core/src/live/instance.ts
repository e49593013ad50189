/**
 * One running live view: its socket, lifecycle and the callbacks that end in
 * an outcome for the channel. All callbacks of one instance run one after
 * another. Rendering, pending effects, navigation and the async work
 * (subscriptions, timers) are in the modules next to this one.
 */
import { TRACING } from '../telemetry/channels.js';
import { InletError } from '../errors.js';
import type { WireObject } from '../render/keys.js';
import { ChildRenderer, type ChildPlacement } from './children.js';
import { Components } from './component.js';
import type { ExtensionInstance } from './extensions.js';
import { InstanceRender } from './instance-render.js';
import type { InstanceOptions, Outcome } from './instance-types.js';
import { Subscriptions, Timers } from './instance-work.js';
import { MAX_PATCH_CHAIN, ownRoute, redirectOutcome } from './navigation.js';
import { eventFields, type Params } from './params.js';
import { PendingEffects } from './pending-effects.js';
import { LiveViewSocket, type Navigation } from './socket.js';
import type { LiveEvent, LiveView, Session, UpdateTarget } from './view.js';

export class ViewInstance {
  readonly id: string;
  readonly socket: LiveViewSocket<object>;
  readonly components: Components;
  readonly #children?: ChildRenderer;
  readonly #extensions = new Map<string, ExtensionInstance>();
  #url: URL;
  readonly #options: InstanceOptions;
  readonly #subscriptions: Subscriptions;
  readonly #timers = new Timers();
  readonly #effects: PendingEffects;
  readonly #render: InstanceRender;
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #mounted = false;

  constructor(options: InstanceOptions) {
    this.#options = options;
    this.id = options.id;
    this.#url = options.url;
    this.#subscriptions = new Subscriptions(options.pubsub, options.app.logger, options.id, (message) => this.deliver(message));
    this.socket = new LiveViewSocket<object>({
      id: options.id,
      connected: options.connected,
      extension: (name) => this.#extensions.get(name),
      subscribe: (topic) => this.#subscribe(topic),
      unsubscribe: (topic) => this.#subscriptions.unsubscribe(topic),
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
    this.#effects = new PendingEffects(this.socket);
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
    this.#render = new InstanceRender({
      id: options.id,
      view: options.view,
      csrfToken: options.csrfToken,
      connected: options.connected,
      socket: this.socket,
      components: this.components,
      effects: this.#effects,
      extensions: this.#extensions,
      children: this.#children,
      url: () => this.#url,
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
      const nav = this.#effects.peekNavigation();
      if (nav && nav.kind !== 'patch') return nav;
    }
    await this.#options.view.mount?.(this.socket, this.#options.session, params);
    const afterMount = this.#effects.peekNavigation();
    if (afterMount && afterMount.kind !== 'patch') return afterMount;
    if (!this.#options.child) await this.#options.view.handleParams?.(this.#url, this.socket);
    this.#mounted = true;
    await this.#subscriptions.live();
    return this.#effects.peekNavigation();
  }

  /** The full render for a join reply: rendered tree plus title, events and components. */
  renderFull(): Promise<WireObject> {
    return this.#render.full();
  }

  /** The full HTML (HTTP render): mount must have run. */
  renderHtml(): Promise<{ html: string; title?: string }> {
    return this.#render.html();
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

  /** The full HTML of the current state, from the trees last sent (tests, conformance). */
  currentHtml(): string {
    return this.#render.currentHtml();
  }

  /**
   * Finishes a callback: applies navigation, renders what changed and
   * returns the outcome. `forceRender` renders even without assign changes.
   */
  async finish(forceRender = false): Promise<Outcome> {
    await this.#subscriptions.live();
    let effects = this.#effects.take();
    const outcome: Outcome = {};
    const forward = this.#options.forwardPatch;
    if (forward && effects.navigation?.kind === 'patch') {
      forward(effects.navigation.to, effects.navigation.replace);
      effects.navigation = undefined;
    }
    for (let chain = 0; effects.navigation?.kind === 'patch'; chain++) {
      const nav = effects.navigation;
      const target = new URL(nav.to, this.#url);
      const match = ownRoute(this.#options.router, this.#options.view, target);
      if (!match) {
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
      this.#effects.restore(carried);
      effects = this.#effects.take();
    }
    const nav = effects.navigation;
    if (nav) redirectOutcome(outcome, nav, this.socket.assigns.flash, this.#options.signFlash);
    const d = await this.#render.diff(effects, forceRender);
    if (d) outcome.diff = d;
    return outcome;
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
    const match = ownRoute(this.#options.router, this.#options.view, target);
    if (!match) return 'other-view';
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
    if (!this.#options.connected || this.#stopped) return;
    this.#subscriptions.subscribe(topic);
  }

  #sendUpdate(target: UpdateTarget, assigns: Record<string, unknown>, delayMs?: number): void {
    if (!this.#options.connected || this.#stopped) return;
    this.#timers.schedule(() => void this.update(() => void this.components.update(target, assigns)), delayMs);
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
    this.#timers.schedule(() => this.deliver(info), delayMs);
  }

  /** Ends the instance: unsubscribes, clears timers, releases uploads, calls `unmount`. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    LiveViewSocket.endAsync(this.socket);
    this.components.endAsync();
    this.#subscriptions.unsubscribeAll();
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
