/**
 * How features plug into the live runtime without the runtime knowing them:
 * a registry of channel kinds (topic prefix → join) and per-view extensions
 * (state that lives and dies with each view instance, sees its client
 * events, adds to its render meta and answers its own `lv:` events).
 *
 * Uploads are the first such feature: `server/` registers the `lvu:`
 * channel kind and the uploads extension, and `live/` only ever sees these
 * interfaces.
 */
import type { ChannelRouter, JoinResult, ChannelContext } from '../protocol/channel.js';
import type { ColocatedRegistry } from './colocated.js';
import type { Logger } from '../logger.js';
import type { Signer } from './tokens.js';
import type { LiveViewSocket } from './socket.js';

/** A kind of channel, recognised by its topic prefix (e.g. `lv:`, `lvu:`). */
export interface ChannelKind {
  /** The topic prefix, including its colon. A topic must be longer than its prefix. */
  readonly prefix: string;
  /** Joins a topic of this kind. */
  join(payload: Record<string, unknown>, ctx: ChannelContext, app: AppServices): Promise<JoinResult> | JoinResult;
}

/** What the app offers every extension. */
export interface AppServices {
  readonly signer: Signer;
  /** The app's structured logger: put context in fields (`view`, `upload`, `ref`, `err`). */
  readonly logger: Logger;
  /** Older form: `logger.error` with `error` as `err` and no other context. Prefer `logger`. */
  readonly log: (message: string, error?: unknown) => void;
  /** The app's colocated hooks and scripts (see `colocated.ts`). */
  readonly colocated?: ColocatedRegistry;
}

/** What an extension instance may use of its view instance. */
export interface ExtensionHost {
  /** The view's id (its DOM id; the `lv:` topic without the prefix). */
  readonly id: string;
  readonly connected: boolean;
  readonly socket: LiveViewSocket<object>;
  readonly app: AppServices;
  /** The socket's connect params (empty in the HTTP render); e.g. uploads read `_inlet_uploader`. */
  readonly connectParams?: Readonly<Record<string, string>>;
  /** Runs `fn` in the view's queue, then renders and pushes what changed. */
  update(fn: () => Promise<void> | void): Promise<void>;
  /** Marks a component of the view for rendering (state the extension keeps for it changed). */
  touchComponent?(cid: number): void;
}

/** One extension's state inside one view instance. */
export interface ExtensionInstance {
  /** Sees each client `event` payload before the view handles it (e.g. the `uploads` of a form change). */
  beforeEvent?(payload: Readonly<Record<string, unknown>>): void;
  /** `lv:` channel events this extension answers, by event name. The reply is merged with the render diff. */
  readonly events?: Readonly<Record<string, (payload: Record<string, unknown>) => Promise<Record<string, unknown>>>>;
  /** Entries added to the second argument of `render`. */
  renderMeta?(): Record<string, unknown>;
  /** Entries added to the second argument of component `cid`'s `render`. */
  componentMeta?(cid: number): Record<string, unknown>;
  /** Component `cid` was removed from the page: release what it held. Runs in the view's queue. */
  componentDestroyed?(cid: number): Promise<void>;
  /** True when the extension's state changed since the last call (the view then re-renders). */
  touched?(): boolean;
  /** The view ended: release everything. Runs in the view's queue, after the callback under way. */
  release?(): Promise<void>;
}

/** A per-view extension, registered once with the app. */
export interface ViewExtension<I extends ExtensionInstance = ExtensionInstance> {
  /** The key the socket finds this extension's instance by (e.g. `'uploads'`). */
  readonly name: string;
  create(host: ExtensionHost): I;
}

/**
 * A channel router over a list of kinds: the first kind whose prefix starts
 * the topic (with something after it) joins it.
 *
 * @example
 * const router = routeChannels([liveKind, uploadKind], app)
 * router('lv:phx-1') // liveKind's join
 */
export function routeChannels(kinds: readonly ChannelKind[], app: AppServices): ChannelRouter {
  return (topic) => {
    for (const kind of kinds) {
      if (topic.length > kind.prefix.length && topic.startsWith(kind.prefix)) return (payload, ctx) => kind.join(payload, ctx, app);
    }
    return undefined;
  };
}
