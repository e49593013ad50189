/**
 * The `lv:<id>` channel: verifies the join, mounts the view, and turns client
 * events into callbacks and replies (protocol.md §2.3–4).
 */
import { error, ok, type Channel, type ChannelContext, type ConnectionInfo, type JoinResult, type Reply, type TerminateReason } from '../protocol/channel.js';
import type { ExtensionInstance } from './extensions.js';
import type { LiveApp } from './app.js';
import { ViewInstance, type Outcome } from './instance.js';
import type { Params } from './params.js';

/** The client version whose protocol this server speaks. */
export const LIVEVIEW_VERSION = '1.2.12';

/** Join error reasons the official client acts on. */
export const JOIN_REASONS = { STALE: 'stale', UNAUTHORIZED: 'unauthorized' } as const;

interface SessionToken {
  id: string;
  s: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Joins an `lv:` topic. */
export async function joinLiveChannel(app: LiveApp, payload: Record<string, unknown>, ctx: ChannelContext): Promise<JoinResult> {
  if (!ctx.connection.csrfValid) return { error: { reason: JOIN_REASONS.STALE } };
  const session = app.signer.verify<SessionToken>('session', payload.session);
  const id = ctx.topic.slice('lv:'.length);
  if (!session || session.id !== id) return { error: { reason: JOIN_REASONS.STALE } };
  if (payload.static !== undefined && payload.static !== null && payload.static !== '') {
    const stat = app.signer.verify<{ id: string }>('static', payload.static);
    if (!stat || stat.id !== id) return { error: { reason: JOIN_REASONS.STALE } };
  }
  const rawUrl = typeof payload.url === 'string' ? payload.url : typeof payload.redirect === 'string' ? payload.redirect : undefined;
  let url: URL;
  try {
    url = new URL(rawUrl ?? '');
  } catch {
    return { error: { reason: JOIN_REASONS.UNAUTHORIZED } };
  }
  const match = app.router.match(url.pathname);
  if (!match) return { error: { reason: JOIN_REASONS.UNAUTHORIZED } };
  const flash = typeof payload.flash === 'string' ? app.signer.verify<Record<string, string>>('flash', payload.flash) : undefined;

  // The channel exists only after the join reply; pushes before it have nowhere to go.
  const joined: { channel?: LiveChannel } = {};
  const instance = new ViewInstance({
    id,
    view: match.view,
    url,
    session: session.s,
    csrfToken: ctx.connection.params._csrf_token ?? '',
    connectParams: ctx.connection.params,
    connected: true,
    router: app.router,
    pubsub: app.pubsub,
    app,
    extensions: app.extensions,
    signFlash: (f) => app.signer.sign('flash', f, 60_000),
    push: (outcome) => joined.channel?.pushOutcome(outcome),
    crash: (e) => {
      app.log(`view ${id} crashed`, e);
      ctx.crash();
    },
  });
  const params: Params = { ...Object.fromEntries(url.searchParams), ...match.params };
  const nav = await instance.run(() => instance.mount(params, isObject(flash) ? flash : undefined));
  if (nav?.kind === 'redirect') {
    await instance.stop();
    return { error: { redirect: { to: nav.to } } };
  }
  if (nav?.kind === 'navigate') {
    await instance.stop();
    return { error: { live_redirect: { to: nav.to, kind: nav.replace ? 'replace' : 'push' } } };
  }
  let livePatch: { to: string; kind: string } | undefined;
  if (nav?.kind === 'patch') {
    const outcome = await instance.run(() => instance.finish());
    if (outcome.redirect) return { error: { redirect: outcome.redirect } };
    if (outcome.live_redirect) return { error: { live_redirect: outcome.live_redirect } };
    livePatch = outcome.live_patch;
  }
  const rendered = await instance.run(() => instance.renderFull());
  const channel = new LiveChannel(instance, ctx);
  joined.channel = channel;
  return {
    channel,
    reply: { rendered, liveview_version: LIVEVIEW_VERSION, ...(livePatch ? { live_patch: livePatch } : {}) },
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

/** A joined live view. */
export class LiveChannel implements Channel {
  readonly instance: ViewInstance;
  readonly #ctx: ChannelContext;

  constructor(instance: ViewInstance, ctx: ChannelContext) {
    this.instance = instance;
    this.#ctx = ctx;
  }

  /** Pushes an unsolicited outcome (handleInfo, uploads, timers). */
  pushOutcome(outcome: Outcome): void {
    if (outcome.diff) this.#ctx.push('diff', outcome.diff);
    if (outcome.live_patch) this.#ctx.push('live_patch', outcome.live_patch);
    if (outcome.live_redirect) this.#ctx.push('live_redirect', outcome.live_redirect);
    if (outcome.redirect) this.#ctx.push('redirect', outcome.redirect);
  }

  async handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined> {
    if (Buffer.isBuffer(payload)) return error({ reason: 'unexpected binary payload' });
    const instance = this.instance;
    switch (event) {
      case 'event':
        return ok(response(await instance.run(() => instance.handleClientEvent(payload))));
      case 'live_patch': {
        const url = typeof payload.url === 'string' ? payload.url : '';
        const outcome = await instance.run(() => instance.patch(url));
        return ok(outcome === 'other-view' ? { link_redirect: true } : response(outcome));
      }
      case 'cids_will_destroy':
        instance.components.willDestroy(numbers(payload.cids));
        return ok();
      case 'cids_destroyed':
        return ok({ cids: instance.components.destroyed(numbers(payload.cids)) });
      default: {
        const handled = await instance.run(() => instance.handleExtensionEvent(event, payload));
        if (!handled) return error({ reason: 'unknown_event', event: event.slice(0, 100) });
        return ok({ ...handled.reply, ...response(handled.outcome) });
      }
    }
  }

  terminate(_reason: TerminateReason): void {
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
