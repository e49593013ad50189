/**
 * The `lv:<id>` channel: verifies the join, mounts the view, and turns client
 * events into callbacks and replies (protocol.md §2.3–4).
 *
 * Three kinds of view join here: root views (the page's main view, joined
 * with `url`, or with `redirect` after live navigation), child views
 * (`liveRender`, tied to a parent view on the same socket) and sticky views
 * (children that join as roots and outlive live navigation).
 */
import { error, ok, type Channel, type ChannelContext, type ConnectionInfo, type JoinResult, type Reply, type TerminateReason } from '../protocol/channel.js';
import type { ExtensionInstance } from './extensions.js';
import type { LiveApp } from './app.js';
import { errorStatus } from './error-status.js';
import { ViewInstance } from './instance.js';
import type { Outcome } from './instance-types.js';
import { containerReply, FLASH_TTL_MS, TOKEN_PURPOSE, type SessionToken, type StaticToken } from './markup.js';
import type { Params } from './params.js';
import { DEFAULT_LIVE_SESSION, type RouteMatch } from './router.js';
import type { LiveView } from './view.js';

/** The client version whose protocol this server speaks. */
export const LIVEVIEW_VERSION = '1.2.12';

/** Join error reasons the official client acts on. */
export const JOIN_REASONS = {
  /** Bad or foreign tokens: the client reloads the page. */
  STALE: 'stale',
  /** The URL is not a live route of this page's live session: the client loads it over HTTP. */
  UNAUTHORIZED: 'unauthorized',
  /** A 4xx in the connected mount: the client reloads, and the HTTP render answers with that status. */
  RELOAD: 'reload',
  /** A child joined while its parent was navigating away. */
  PARENT_REDIRECT: 'parent_redirect',
} as const;

/** The cookie the client sets from a `reload` join error (the next HTTP render answers with its status). */
export const RELOAD_STATUS_COOKIE = '__phoenix_reload_status__';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const refuse = (reason: string): JoinResult => ({ error: { reason } });

/** Views that navigated away on each connection: a child joining one of them late gets `parent_redirect`, not `stale`. */
const navigatedAway = new WeakMap<ConnectionInfo, Set<string>>();

/** Where a join leads: the view to mount, at what URL, and what it hangs from. */
interface Target {
  readonly view: LiveView<object>;
  readonly url: URL;
  readonly params: Params;
  readonly match?: RouteMatch<LiveView<object>>;
  readonly parent?: LiveChannel;
  readonly sticky: boolean;
  /** Joined after live navigation. */
  readonly redirected: boolean;
}

async function resolveTarget(app: LiveApp, token: SessionToken, payload: Record<string, unknown>, ctx: ChannelContext): Promise<Target | JoinResult> {
  if (token.p !== undefined || token.st === 1) {
    const view = app.viewByKey(token.v);
    if (!view) return refuse(JOIN_REASONS.STALE);
    let url: URL;
    try {
      url = new URL(typeof token.u === 'string' ? token.u : '');
    } catch {
      return refuse(JOIN_REASONS.STALE);
    }
    if (token.st === 1) return { view, url, params: {}, sticky: true, redirected: false };
    const parent = ctx.connection.channels.get(`lv:${token.p}`);
    if (!(parent instanceof LiveChannel)) {
      return refuse(navigatedAway.get(ctx.connection)?.has(String(token.p)) ? JOIN_REASONS.PARENT_REDIRECT : JOIN_REASONS.STALE);
    }
    // After whatever the parent is doing: it may be navigating away (issue 4359).
    await parent.instance.run(() => Promise.resolve());
    if (parent.closing) return refuse(JOIN_REASONS.PARENT_REDIRECT);
    return { view, url: parent.instance.url, params: {}, parent, sticky: false, redirected: false };
  }
  const redirected = typeof payload.redirect === 'string';
  const raw = typeof payload.url === 'string' ? payload.url : redirected ? (payload.redirect as string) : undefined;
  let url: URL;
  try {
    url = new URL(raw ?? '');
  } catch {
    return refuse(JOIN_REASONS.UNAUTHORIZED);
  }
  const match = app.router.match(url.pathname);
  if (!match) return refuse(JOIN_REASONS.UNAUTHORIZED);
  // Live navigation stays inside the live session the page was rendered in;
  // a page's own URL must still lead to its view (a deploy may have moved it).
  if (match.liveSession !== (token.ls ?? DEFAULT_LIVE_SESSION)) return refuse(JOIN_REASONS.UNAUTHORIZED);
  if (!redirected && token.v !== undefined && app.viewKey(match.view) !== token.v) return refuse(JOIN_REASONS.UNAUTHORIZED);
  const params: Params = { ...Object.fromEntries(url.searchParams), ...match.params };
  return { view: match.view, url, params, match, sticky: false, redirected };
}

/** Joins an `lv:` topic. */
export async function joinLiveChannel(app: LiveApp, payload: Record<string, unknown>, ctx: ChannelContext): Promise<JoinResult> {
  if (!ctx.connection.csrfValid) return refuse(JOIN_REASONS.STALE);
  const token = app.signer.verify<SessionToken>(TOKEN_PURPOSE.SESSION, payload.session);
  const id = ctx.topic.slice('lv:'.length);
  if (!isObject(token) || token.id !== id || !isObject(token.s)) return refuse(JOIN_REASONS.STALE);
  let stat: StaticToken | undefined;
  if (payload.static !== undefined && payload.static !== null && payload.static !== '') {
    stat = app.signer.verify<StaticToken>(TOKEN_PURPOSE.STATIC, payload.static);
    if (!isObject(stat) || stat.id !== id) return refuse(JOIN_REASONS.STALE);
  }
  const target = await resolveTarget(app, token, payload, ctx);
  if (!('view' in target)) return target;
  const joinParams = isObject(payload.params) ? payload.params : {};
  const root = !target.parent && !target.sticky;
  // A flash carried by live navigation wins; the HTTP render's flash is for the first mount only.
  const carried = typeof payload.flash === 'string' ? app.signer.verify<Record<string, string>>(TOKEN_PURPOSE.FLASH, payload.flash) : undefined;
  const flash = isObject(carried) ? carried : root && !target.redirected && joinParams._mounts === 0 && isObject(stat?.f) ? stat.f : undefined;
  const parent = target.parent;
  const link = token.lk === 1 && parent !== undefined;

  // The channel exists only after the join reply; pushes before it wait for it.
  const joined: { channel?: LiveChannel } = {};
  const early: Outcome[] = [];
  const instance = new ViewInstance({
    id,
    view: target.view,
    url: target.url,
    session: token.s,
    csrfToken: ctx.connection.params._csrf_token ?? '',
    connectParams: ctx.connection.params,
    joinParams,
    connected: true,
    router: app.router,
    pubsub: app.pubsub,
    app,
    extensions: app.extensions,
    children: app,
    ...(root && target.match ? { onMount: target.match.onMount } : {}),
    ...(target.match?.action !== undefined ? { liveAction: target.match.action } : {}),
    ...(!root ? { child: true } : {}),
    ...(parent ? { forwardPatch: (to: string, replace: boolean) => parent.root.patchFromChild(to, replace), sendParent: (info: unknown) => parent.instance.deliver(info) } : {}),
    signFlash: (f) => app.signer.sign(TOKEN_PURPOSE.FLASH, f, FLASH_TTL_MS),
    push: (outcome) => (joined.channel ? joined.channel.pushOutcome(outcome) : early.push(outcome)),
    crash: (e) => {
      app.logger.error({ err: e, view: id, route: target.url.pathname }, 'view crashed');
      ctx.crash();
    },
  });
  const signedFlash = (): { flash?: string } => {
    const f = instance.socket.assigns.flash;
    return Object.keys(f).length > 0 ? { flash: app.signer.sign(TOKEN_PURPOSE.FLASH, f, FLASH_TTL_MS) } : {};
  };
  // Mount through the full render in one turn of the view's queue: async
  // results and messages queued meanwhile come after the join reply.
  let mounted: { readonly error: Record<string, unknown> } | { readonly rendered: Record<string, unknown>; readonly livePatch?: { to: string; kind: string } };
  try {
    mounted = await instance.run(async () => {
      const nav = await instance.mount(target.params, flash);
      if (nav?.kind === 'redirect') return { error: { redirect: { to: nav.to, ...signedFlash() } } };
      if (nav?.kind === 'navigate') return { error: { live_redirect: { to: nav.to, kind: nav.replace ? 'replace' : 'push', ...signedFlash() } } };
      let livePatch: { to: string; kind: string } | undefined;
      if (nav?.kind === 'patch') {
        const outcome = await instance.finish();
        if (outcome.redirect) return { error: { redirect: outcome.redirect } };
        if (outcome.live_redirect) return { error: { live_redirect: outcome.live_redirect } };
        livePatch = outcome.live_patch;
      }
      return { rendered: await instance.renderFull(), ...(livePatch ? { livePatch } : {}) };
    });
  } catch (e) {
    await instance.stop();
    const status = errorStatus(e);
    if (root && status >= 400 && status < 500) {
      app.logger.warn({ err: e, view: id, route: target.url.pathname, status }, 'connected mount failed; the client reloads the page');
      return { error: { reason: JOIN_REASONS.RELOAD, status, token: app.signer.sign(TOKEN_PURPOSE.RELOAD, { status }, FLASH_TTL_MS) } };
    }
    // A linked child takes its parent down, after its own join error has gone out.
    if (link) setImmediate(() => parent.crash());
    throw e;
  }
  if ('error' in mounted) {
    await instance.stop();
    return { error: mounted.error };
  }
  const { rendered, livePatch } = mounted;
  const channel = new LiveChannel(instance, ctx, { ...(parent ? { parent } : {}), sticky: target.sticky, link });
  // Pushes wait until the join reply (sent when this returns) is out.
  setImmediate(() => {
    joined.channel = channel;
    for (const outcome of early.splice(0)) channel.pushOutcome(outcome);
  });
  const container = target.redirected && target.match ? (target.match.container ?? target.view.container) : undefined;
  return {
    channel,
    reply: {
      rendered,
      liveview_version: LIVEVIEW_VERSION,
      ...(livePatch ? { live_patch: livePatch } : {}),
      ...(container ? { container: containerReply(container) } : {}),
    },
  };
}

function response(outcome: Outcome): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (outcome.diff) out.diff = outcome.diff;
  if (outcome.live_patch) out.live_patch = outcome.live_patch;
  if (outcome.live_redirect) out.live_redirect = outcome.live_redirect;
  if (outcome.redirect) out.redirect = outcome.redirect;
  return out;
}

interface LiveChannelOptions {
  readonly parent?: LiveChannel;
  readonly sticky?: boolean;
  readonly link?: boolean;
}

/** A joined live view. */
export class LiveChannel implements Channel {
  readonly instance: ViewInstance;
  /** The view this child view was rendered by. */
  readonly parent?: LiveChannel;
  readonly #ctx: ChannelContext;
  readonly #sticky: boolean;
  readonly #link: boolean;
  readonly #children = new Set<LiveChannel>();
  #closing = false;

  constructor(instance: ViewInstance, ctx: ChannelContext, options: LiveChannelOptions = {}) {
    this.instance = instance;
    this.#ctx = ctx;
    this.#sticky = options.sticky === true;
    this.#link = options.link === true;
    if (options.parent) {
      this.parent = options.parent;
      options.parent.#children.add(this);
    }
  }

  /** The top of this view's parent chain. */
  get root(): LiveChannel {
    return this.parent ? this.parent.root : this;
  }

  /** True once the view navigated away or ended: children may no longer join it. */
  get closing(): boolean {
    return this.#closing || this.instance.stopped;
  }

  /** Crashes this view: the client gets `phx_error` and rejoins. */
  crash(): void {
    this.#ctx.crash();
  }

  /** A child view asked for a patch: the URL is this (root) view's. */
  patchFromChild(to: string, replace: boolean): void {
    void this.instance.update(() => this.instance.socket.pushPatch(to, { replace }));
  }

  /** Pushes an unsolicited outcome (handleInfo, uploads, timers). */
  pushOutcome(outcome: Outcome): void {
    if (outcome.diff) this.#ctx.push('diff', outcome.diff);
    if (outcome.live_patch) this.#ctx.push('live_patch', outcome.live_patch);
    if (outcome.live_redirect) this.#ctx.push('live_redirect', outcome.live_redirect);
    if (outcome.redirect) this.#ctx.push('redirect', outcome.redirect);
    this.#afterNavigation(outcome);
  }

  /**
   * A view that navigates away ends once its reply is out (the client gets
   * `phx_close`), as in Phoenix; a sticky view lives on through live navigation.
   */
  #afterNavigation(outcome: Outcome): void {
    if (this.#closing || !(outcome.redirect || (outcome.live_redirect && !this.#sticky))) return;
    this.#closing = true;
    const connection = this.#ctx.connection;
    let ids = navigatedAway.get(connection);
    if (!ids) navigatedAway.set(connection, (ids = new Set()));
    ids.add(this.instance.id);
    setImmediate(() => this.#ctx.close());
  }

  /** Log fields for a crash while handling `event`: the view, its route, and the name of a client event. */
  logContext(event: string, payload: Record<string, unknown> | Buffer): Record<string, unknown> {
    const name = event === 'event' && !Buffer.isBuffer(payload) && typeof payload.event === 'string' ? payload.event.slice(0, 100) : undefined;
    return { view: this.instance.id, route: this.instance.url.pathname, ...(name !== undefined ? { event: name } : {}) };
  }

  async handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined> {
    if (Buffer.isBuffer(payload)) return error({ reason: 'unexpected binary payload' });
    const instance = this.instance;
    switch (event) {
      case 'event': {
        const outcome = await instance.run(() => instance.handleClientEvent(payload));
        this.#afterNavigation(outcome);
        return ok(response(outcome));
      }
      case 'live_patch': {
        const url = typeof payload.url === 'string' ? payload.url : '';
        const outcome = await instance.run(() => instance.patch(url));
        if (outcome === 'other-view') return ok({ link_redirect: true });
        this.#afterNavigation(outcome);
        return ok(response(outcome));
      }
      case 'cids_will_destroy':
        instance.components.willDestroy(numbers(payload.cids));
        return ok();
      case 'cids_destroyed': {
        const cids = instance.components.destroyed(numbers(payload.cids));
        instance.componentsDestroyed(cids);
        return ok({ cids });
      }
      default: {
        const handled = await instance.run(() => instance.handleExtensionEvent(event, payload));
        if (!handled) return error({ reason: 'unknown_event', event: event.slice(0, 100) });
        this.#afterNavigation(handled.outcome);
        return ok({ ...handled.reply, ...response(handled.outcome) });
      }
    }
  }

  terminate(reason: TerminateReason): void {
    this.#closing = true;
    // Children end with their parent (they get phx_close); a linked child's crash ends the parent.
    const children = [...this.#children];
    this.#children.clear();
    for (const child of children) child.#ctx.close();
    if (this.parent) this.parent.#children.delete(this);
    if (reason === 'crash' && this.#link && this.parent && !this.parent.closing) this.parent.crash();
    void this.instance.stop();
  }
}

/**
 * The state of extension `name` in the view `viewId` joined on the same
 * connection, e.g. the uploads of the view an upload channel belongs to.
 *
 * @example
 * const uploads = viewExtension<UploadManager>(ctx.connection, viewId, 'uploads')
 */
export function viewExtension<T extends ExtensionInstance>(connection: ConnectionInfo, viewId: string, name: string): T | undefined {
  const channel = connection.channels.get(`lv:${viewId}`);
  return channel instanceof LiveChannel ? channel.instance.extension<T>(name) : undefined;
}

function numbers(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((n): n is number => typeof n === 'number' && Number.isSafeInteger(n)).slice(0, 10_000) : [];
}
