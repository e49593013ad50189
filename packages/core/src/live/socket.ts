/**
 * The socket a view's callbacks receive: assigns with change tracking, and
 * the effects a callback asks for (events, navigation, title, flash, reply).
 * The view instance reads and clears the effects after each callback.
 */
import { InletError } from '../errors.js';
import { AsyncTasks, type AssignAsyncOptions, type AsyncFn, type AsyncResult, type AsyncValue, type AsyncOutcome } from './async.js';
import { StreamSet, type LiveStream, type StreamConfig, type StreamInsertOptions, type StreamOptions } from '../render/stream.js';
import type { UploadApi, UploadConfigOptions } from '../uploads/socket-api.js';
import type { SendUpdate, SendUpdateAfter, UpdateTarget } from './view.js';

/** The name the uploads extension registers under (see `live/extensions.ts`). */
export const UPLOADS_EXTENSION = 'uploads';

/**
 * Flash messages by kind (`info`, `error`…), as Phoenix keeps them.
 * @example
 * socket.putFlash('info', 'Saved'); // the next render's flash is { info: 'Saved' }
 */
export type Flash = Record<string, string>;

/**
 * The streams a view's assigns declare (`{ streams: { songs: LiveStream<Song> } }`),
 * or any name with items of any type when the assigns declare none.
 *
 * @example
 * type A = { streams: { songs: LiveStream<Song> } }
 * type S = StreamsOf<A> // { songs: LiveStream<Song> }
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- undeclared streams take items of any type, like untyped assigns
export type StreamsOf<A> = A extends { streams: infer S } ? S : Record<string, LiveStream<any>>;
/**
 * The stream names of assigns `A`.
 *
 * @example
 * type N = StreamName<{ streams: { songs: LiveStream<Song>; albums: LiveStream<Album> } }> // 'songs' | 'albums'
 */
export type StreamName<A> = keyof StreamsOf<A> & string;
/**
 * The item type of stream `K` of assigns `A`.
 *
 * @example
 * type T = StreamItem<{ streams: { songs: LiveStream<Song> } }, 'songs'> // Song
 */
export type StreamItem<A, K extends string> = StreamsOf<A> extends Record<K, LiveStream<infer T>> ? T : unknown;
/**
 * Assigns as callbacks and `render` read them: the app's own, plus `flash` and `streams`.
 *
 * @example
 * type Seen = SocketAssigns<{ count: number }> // { count: number } & { flash: Flash; streams: … }
 * const render = ({ count, flash }: Seen) => html`<p>${flash.info ?? ''}</p><b>${count}</b>`
 */
export type SocketAssigns<A> = A & { flash: Flash; streams: StreamsOf<A> };

/**
 * Options of `pushEvent`.
 *
 * @example
 * const before: PushEventOptions = { dispatch: 'before' } // the client gets the event before it applies the patch
 * socket.pushEvent('scroll-lock', {}, before)
 */
export interface PushEventOptions {
  /** `'after'` (default): dispatched after the patch; `'before'`: before it. */
  readonly dispatch?: 'before' | 'after';
}

/** The wire entry of one pushed event (checked, so a typo is not silently ignored). */
export function pushEventEntry(event: string, payload: Record<string, unknown>, options: PushEventOptions): [string, unknown] | [string, unknown, true] {
  const dispatch = options.dispatch ?? 'after';
  if (dispatch !== 'before' && dispatch !== 'after') throw new InletError('INLET_ERR_CONFIG_OPTION', `pushEvent: \`dispatch\` must be 'before' or 'after', got ${JSON.stringify(dispatch)}.`);
  return dispatch === 'before' ? [event, payload, true] : [event, payload];
}

/** The assign keys Inlet owns; `assign` refuses them. */
const RESERVED_ASSIGNS = new Set(['streams']);

/** What navigation a callback asked for. Only the last request counts. */
export type Navigation =
  | { readonly kind: 'patch'; readonly to: string; readonly replace: boolean }
  | { readonly kind: 'navigate'; readonly to: string; readonly replace: boolean }
  | { readonly kind: 'redirect'; readonly to: string };

/** Effects collected during one callback. */
export interface Effects {
  changed: Set<string>;
  /** `[name, payload]`, or `[name, payload, true]` to dispatch before the patch. */
  events: ([string, unknown] | [string, unknown, true])[];
  title?: string;
  navigation?: Navigation;
  reply?: Record<string, unknown>;
}

/** Services a socket needs from its view instance. */
export interface SocketHost {
  readonly id: string;
  readonly connected: boolean;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  broadcast(topic: string, message: unknown): void;
  sendInfo(info: unknown, delayMs?: number): void;
  /** Queues a component update (see {@link LiveViewSocket.sendUpdate}). */
  sendUpdate?(target: UpdateTarget, assigns: Record<string, unknown>, delayMs?: number): void;
  /** The view's state of the extension registered as `name`. */
  extension(name: string): unknown;
  /** The join's `params` (absent in the HTTP render). */
  readonly connectParams?: Readonly<Record<string, unknown>>;
  /** Child views: delivers to the parent view's `handleInfo`. */
  sendParent?(info: unknown): void;
  /** Runs `fn` in the view's queue, then renders and pushes what changed (async results). */
  update?(fn: () => void | Promise<void>): Promise<void>;
  /** Calls the view's `handleAsync`. */
  handleAsync?(name: string, outcome: AsyncOutcome, socket: LiveViewSocket<object>): void | Promise<void>;
}

const EFFECTS = Symbol('inlet.effects');

/**
 * The async work of a socket: created on first use. The host gives the
 * queue; `assigns`, `assign` and `stream` are the socket's own.
 */
function asyncTasks(socket: LiveViewSocket<object>, host: SocketHost): AsyncTasks {
  const target = socket as unknown as { assigns: Record<string, unknown>; assign(v: Record<string, unknown>): void; stream(n: string, i: Iterable<unknown>, o: StreamOptions): void };
  return new AsyncTasks({
    connected: host.connected,
    get: (key) => target.assigns[key],
    assign: (values) => target.assign(values),
    stream: (name, items, options) => target.stream(name, items, options),
    update: (fn) => (host.update ? host.update(fn) : Promise.resolve(fn()).then(() => undefined)),
    handleAsync: (name, outcome) => {
      if (!host.handleAsync) throw new InletError('INLET_ERR_VIEW_ASYNC', `startAsync("${name}") finished, but the view has no handleAsync.`);
      return host.handleAsync(name, outcome, socket);
    },
  });
}

/**
 * The socket handed to `mount`, `handleParams`, `handleEvent` and `handleInfo`.
 *
 * @example
 * mount: (socket) => { socket.assign({ count: 0 }) },
 * handleEvent: (event, socket) => { socket.assign({ count: socket.assigns.count + 1 }) },
 */
export class LiveViewSocket<A extends object = Record<string, unknown>, U extends string = string> {
  readonly #host: SocketHost;
  #assigns: SocketAssigns<A>;
  #effects: Effects = { changed: new Set(), events: [] };
  readonly #streams = new StreamSet();
  #liveAction: string | undefined;
  #async?: AsyncTasks;

  /** @internal created by the view instance */
  constructor(host: SocketHost) {
    this.#host = host;
    this.#assigns = { flash: {}, streams: this.#streams.view() } as unknown as SocketAssigns<A>;
  }

  /** The view's id (also the DOM id of its container). */
  get id(): string {
    return this.#host.id;
  }

  /** False during the HTTP (dead) render, true once the browser has joined over the socket. */
  get connected(): boolean {
    return this.#host.connected;
  }

  /**
   * The params the browser sent when it joined (Phoenix's
   * `get_connect_params`): the LiveSocket's `params` plus `_mounts` (joins of
   * this view so far, 0 on the first), `_mount_attempts`, `_track_static` and
   * `_live_referer`. Undefined during the HTTP render.
   *
   * @example
   * mount: (socket) => { if (socket.connectParams?._mounts === 0) socket.assign({ fresh: true }) }
   */
  get connectParams(): Readonly<Record<string, unknown>> | undefined {
    return this.#host.connectParams;
  }

  /** The route's live action ({@link liveRoute}): Phoenix's `@live_action`. Changes with patches. */
  get liveAction(): string | undefined {
    return this.#liveAction;
  }

  /** The current assigns. Treat as read-only; change them with {@link assign}. */
  get assigns(): Readonly<SocketAssigns<A>> {
    return this.#assigns;
  }

  /**
   * Sets assigns and records which changed. Primitive values equal to the
   * current ones do not count as changes; objects always do.
   */
  assign(values: Partial<A>): void;
  assign<K extends keyof A & string>(key: K, value: A[K]): void;
  assign(a: Partial<A> | string, b?: unknown): void {
    const values = (typeof a === 'string' ? { [a]: b } : a) as Record<string, unknown>;
    const target = this.#assigns as Record<string, unknown>;
    for (const key of Object.keys(values)) {
      if (RESERVED_ASSIGNS.has(key)) throw new InletError('INLET_ERR_STREAM_ASSIGN', 'Change streams with stream(), streamInsert() and streamDelete().');
      const value = values[key];
      if (target[key] === value && (typeof value !== 'object' || value === null)) continue;
      target[key] = value;
      this.#effects.changed.add(key);
    }
  }

  /** Whether `key` changed since the last render. */
  changed(key: keyof A & string): boolean {
    return this.#effects.changed.has(key);
  }

  // ---- streams (see render/stream.ts) ----

  /**
   * Creates the stream `name` with `items`, or inserts them into it. Templates
   * read it as `streams.<name>`. With `reset: true` the client first removes
   * every item it has. Items are sent with the next render, then forgotten.
   *
   * @example
   * socket.stream('songs', songs)                     // mount
   * socket.stream('songs', newer, { at: 0 })          // prepend (in reverse order to keep theirs)
   * socket.stream('songs', filtered, { reset: true }) // replace everything
   */
  stream<K extends StreamName<A>>(name: K, items: Iterable<StreamItem<A, K>>, options: StreamOptions<StreamItem<A, K>> = {}): void {
    this.#streams.stream(name, items, options as StreamOptions);
    this.#effects.changed.add('streams');
  }

  /**
   * Configures a stream before it is first used; `domId` computes each item's DOM id
   * (default `${name}-${item.id}`).
   *
   * @example
   * socket.streamConfigure('songs', { domId: (s) => `song-${s.slug}` })
   */
  streamConfigure<K extends StreamName<A>>(name: K, config: StreamConfig<StreamItem<A, K>>): void {
    this.#streams.configure(name, config as StreamConfig);
  }

  /**
   * Inserts one item, or updates it in place if the client already has it.
   *
   * @example
   * socket.streamInsert('songs', song, { at: 0, limit: 50 })
   */
  streamInsert<K extends StreamName<A>>(name: K, item: StreamItem<A, K>, options: StreamInsertOptions = {}): void {
    this.#streams.get(name).insert(item, options);
    this.#effects.changed.add('streams');
  }

  /**
   * Removes an item (its DOM id is computed as for inserts).
   *
   * @example
   * socket.streamDelete('songs', song)
   */
  streamDelete<K extends StreamName<A>>(name: K, item: StreamItem<A, K>): void {
    const stream = this.#streams.get(name);
    stream.deleteByDomId(stream.domId(item));
    this.#effects.changed.add('streams');
  }

  /**
   * Removes the item with DOM id `domId`, without the item itself.
   *
   * @example
   * handleEvent: (e, socket) => socket.streamDeleteByDomId('songs', String(e.id))
   */
  streamDeleteByDomId<K extends StreamName<A>>(name: K, domId: string): void {
    this.#streams.get(name).deleteByDomId(domId);
    this.#effects.changed.add('streams');
  }

  /**
   * Sends an event to the browser: `window` gets `phx:<name>` and hooks'
   * `handleEvent` fire, after the DOM is patched (or before it, with
   * `{ dispatch: 'before' }`).
   *
   * @example
   * socket.pushEvent('highlight', { id: 3 })
   * socket.pushEvent('scroll-lock', {}, { dispatch: 'before' })
   */
  pushEvent(event: string, payload: Record<string, unknown> = {}, options: PushEventOptions = {}): void {
    this.#effects.events.push(pushEventEntry(event, payload, options));
  }

  /** Replies to the hook `pushEvent` that triggered this `handleEvent`. */
  reply(payload: Record<string, unknown>): void {
    this.#effects.reply = payload;
  }

  /** Sets a flash message, shown through `context.flash` and kept across live navigation. */
  putFlash(key: string, message: string): void {
    this.assign({ flash: { ...this.#assigns.flash, [key]: message } } as unknown as Partial<A>);
  }

  /** Clears one flash key, or all of them. */
  clearFlash(key?: string): void {
    const flash = this.#assigns.flash;
    if (key === undefined) {
      if (Object.keys(flash).length > 0) this.assign({ flash: {} } as unknown as Partial<A>);
    } else if (Object.hasOwn(flash, key)) {
      const { [key]: _removed, ...rest } = this.#assigns.flash;
      this.assign({ flash: rest } as unknown as Partial<A>);
    }
  }

  /** Sets the page title. */
  pageTitle(title: string): void {
    this.#effects.title = title;
  }

  /** Changes the URL within this view: `handleParams` runs with the new URL, no remount. */
  pushPatch(to: string, options: { replace?: boolean } = {}): void {
    this.#effects.navigation = { kind: 'patch', to, replace: options.replace ?? false };
  }

  /** Navigates to another live view over the same socket (no page load). */
  pushNavigate(to: string, options: { replace?: boolean } = {}): void {
    this.#effects.navigation = { kind: 'navigate', to, replace: options.replace ?? false };
  }

  /** Full page navigation to `to`. */
  redirect(to: string): void {
    this.#effects.navigation = { kind: 'redirect', to };
  }

  /** Receives `broadcast`s on `topic` in `handleInfo`. Only while connected. */
  subscribe(topic: string): void {
    this.#host.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.#host.unsubscribe(topic);
  }

  /** Sends `message` to every view subscribed to `topic`. */
  broadcast(topic: string, message: unknown): void {
    this.#host.broadcast(topic, message);
  }

  /**
   * A child view ({@link liveRender}): sends `info` to the parent view's
   * `handleInfo`. Only while connected; ignored in the HTTP render.
   *
   * @example
   * handleEvent: (e, socket) => socket.sendParent({ picked: e.id })
   */
  sendParent(info: unknown): void {
    if (!this.#host.connected) return;
    if (!this.#host.sendParent) throw new InletError('INLET_ERR_VIEW_CHILD', 'sendParent() is for child views; this view has no parent.');
    this.#host.sendParent(info);
  }

  // ---- async work (see async.ts) ----

  #tasks(): AsyncTasks {
    return (this.#async ??= asyncTasks(this, this.#host));
  }

  /**
   * Loads assigns in the background (Phoenix's `assign_async`): each key
   * becomes an {@link AsyncResult} that is loading now, then ok with the
   * value `fn` resolved to under that key, or failed with what it threw.
   * `fn` runs only once connected; its signal aborts if the view ends or the
   * same keys load again. A loaded result stays while it reloads unless `reset`.
   *
   * @example
   * mount: (socket) => {
   *   socket.assignAsync('org', async (signal) => ({ org: await fetchOrg(signal) }))
   * },
   * render: ({ org }) => html`${asyncResult(org, { loading: () => html`Loading…`, ok: (o) => html`${o.name}` })}`
   */
  assignAsync<K extends keyof A & string>(keys: K | readonly K[], fn: AsyncFn<{ [P in K]: AsyncValue<A[P]> }>, options: AssignAsyncOptions<K> = {}): void {
    this.#tasks().assign(keys, fn, options);
  }

  /**
   * Runs `fn` in the background (Phoenix's `start_async`); the view's
   * `handleAsync(name, { ok: true, result } | { ok: false, reason }, socket)`
   * gets the outcome. Starting `name` again replaces (and aborts) the running one.
   *
   * @example
   * handleEvent: (e, socket) => socket.startAsync('report', (signal) => buildReport(e.id, signal)),
   * handleAsync: (name, outcome, socket) => { if (outcome.ok) socket.assign({ report: outcome.result }) },
   */
  startAsync(name: string, fn: AsyncFn<unknown>): void {
    this.#tasks().start(name, fn);
  }

  /**
   * Fills stream `name` in the background (Phoenix's `stream_async`): the
   * assign `name` is an {@link AsyncResult} (loading, then ok or failed) and
   * the items `fn` resolves to are streamed with `options`.
   *
   * @example
   * mount: (socket) => socket.streamAsync('songs', (signal) => db.songs(signal), { limit: 50 })
   */
  streamAsync<K extends StreamName<A>>(name: K, fn: AsyncFn<Iterable<StreamItem<A, K>>>, options: StreamOptions<StreamItem<A, K>> = {}): void {
    if (this.#assigns.streams[name] === undefined) this.stream(name, []);
    this.#tasks().stream(name, fn as AsyncFn<Iterable<unknown>>, options as StreamOptions);
  }

  /**
   * Cancels async work (Phoenix's `cancel_async`): a `startAsync`/`streamAsync`
   * name, or an `assignAsync` result that is loading. Its signal aborts with
   * `reason`; assigns fail with it, `handleAsync` gets `{ ok: false, reason }`.
   *
   * @example
   * handleEvent: (_e, socket) => socket.cancelAsync(socket.assigns.org)
   */
  cancelAsync(target: string | AsyncResult, reason?: unknown): void {
    this.#async?.cancel(target, reason);
  }

  /** Sends `info` to this view's own `handleInfo`, now or after `delayMs`. */
  sendInfo(info: unknown, delayMs?: number): void {
    this.#host.sendInfo(info, delayMs);
  }

  /**
   * Updates a component of this view: its `updateMany` or `update` runs with
   * `assigns` (without `update`, they are merged into its assigns), then it
   * renders. Address it by definition with its `id` in the assigns, or by
   * cid. Runs after the current callback, and its render goes out as its own
   * diff. A component that is not there is skipped. Phoenix's `send_update`.
   *
   * @example
   * socket.sendUpdate(Cart, { id: 'cart', status: 'cancelled' })
   */
  sendUpdate: SendUpdate = (target: UpdateTarget, assigns: Record<string, unknown>): void => {
    this.#host.sendUpdate?.(target, assigns);
  };

  /**
   * {@link sendUpdate} after `delayMs` (Phoenix's `send_update_after`); timers end with the view.
   *
   * @example
   * socket.sendUpdateAfter(Toast, { id: 'toast', visible: false }, 3000)
   */
  sendUpdateAfter: SendUpdateAfter = (target: UpdateTarget, assigns: Record<string, unknown>, delayMs: number): void => {
    this.#host.sendUpdate?.(target, assigns, delayMs);
  };

  // ---- uploads (the uploads extension; see uploads/socket-api.ts) ----

  #uploads(): UploadApi {
    const uploads = this.#host.extension(UPLOADS_EXTENSION) as UploadApi | undefined;
    if (!uploads) throw new InletError('INLET_ERR_UPLOAD_OPTION', 'this app serves no uploads (the uploads extension is not registered).');
    return uploads;
  }

  /**
   * Allows uploads under `name`. The `progress`, `writer` and `external`
   * callbacks get this very socket, typed as the view's.
   */
  allowUpload: UploadApi<U, LiveViewSocket<A, U>>['allowUpload'] = (name, options) => this.#uploads().allowUpload(name, options as unknown as UploadConfigOptions | undefined);
  /** Stops allowing uploads under `name`. */
  disallowUpload: UploadApi<U>['disallowUpload'] = (name) => this.#uploads().disallowUpload(name);
  /** Cancels one entry. */
  cancelUpload: UploadApi<U>['cancelUpload'] = (name, ref) => this.#uploads().cancelUpload(name, ref);
  /** Consumes every completed entry of `name`. */
  consumeUploadedEntries: UploadApi<U>['consumeUploadedEntries'] = (name, fn) => this.#uploads().consumeUploadedEntries(name, fn);
  /** Consumes one completed entry. */
  consumeUploadedEntry: UploadApi<U>['consumeUploadedEntry'] = (name, entry, fn) => this.#uploads().consumeUploadedEntry(name, entry, fn);
  /** `{ completed, inProgress }` entries of `name`. */
  uploadedEntries: UploadApi<U>['uploadedEntries'] = (name) => this.#uploads().uploadedEntries(name);

  /** @internal */
  [EFFECTS](): Effects {
    const effects = this.#effects;
    this.#effects = { changed: new Set(), events: [] };
    return effects;
  }

  /** @internal */
  static takeEffects(socket: LiveViewSocket<object>): Effects {
    return socket[EFFECTS]();
  }

  /** @internal forgets the streams' sent changes (after each render) */
  static pruneStreams(socket: LiveViewSocket<object>): void {
    socket.#streams.prune();
  }

  /** @internal aborts the socket's async work (the view ended) */
  static endAsync(socket: LiveViewSocket<object>): void {
    socket.#async?.end();
  }

  /** @internal the route's action, set on mount and on each patch */
  static setLiveAction(socket: LiveViewSocket<object>, action: string | undefined): void {
    if (socket.#liveAction === action) return;
    socket.#liveAction = action;
    socket.#effects.changed.add('liveAction');
  }

  /** @internal sets assigns without recording a change (flash restored on join) */
  static seed(socket: LiveViewSocket<object>, values: Record<string, unknown>): void {
    Object.assign(socket.#assigns, values);
  }
}
