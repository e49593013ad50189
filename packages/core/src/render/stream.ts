/**
 * Streams: large or unbounded collections the server renders once and then
 * forgets. The client keeps the items in the DOM (inside a
 * `phx-update="stream"` container); the server only holds what changed since
 * the last render (inserts, deletes, a reset) and prunes it after rendering.
 *
 * Pure: no I/O. The socket API lives in `live/`, the wire form in `wire.ts`.
 */
import { InletError } from '../errors.js';

/**
 * Options for inserting items (`streamInsert`, and `stream` on an existing stream).
 *
 * @example
 * // newest first, and the client keeps at most 50
 * socket.streamInsert('messages', message, { at: 0, limit: 50 })
 */
export interface StreamInsertOptions {
  /**
   * Where new items go in the container: -1 appends (the default), 0 prepends,
   * n inserts before the item now at index n. An item already in the DOM is
   * updated in place and does not move.
   */
  readonly at?: number;
  /**
   * Items the client keeps after inserting: a positive limit keeps the first n
   * children, a negative one the last n. Unlimited by default.
   */
  readonly limit?: number;
  /** Only update the item if the client already has it; never add it. Default false. */
  readonly updateOnly?: boolean;
}

/**
 * Options of `stream(name, items, options)`.
 *
 * @example
 * socket.stream('songs', songs, { domId: (song) => `song-${song.slug}` }) // mount: creates the stream
 * socket.stream('songs', results, { reset: true }) // later: replaces every item
 */
export interface StreamOptions<T = unknown> extends StreamInsertOptions {
  /** Removes every item the client has before inserting `items`. Default false. */
  readonly reset?: boolean;
  /** The DOM id of an item, when the stream is created (see {@link StreamConfig}); ignored afterwards. */
  readonly domId?: (item: T) => string;
}

/**
 * Options of `streamConfigure(name, options)`.
 *
 * @example
 * socket.streamConfigure('songs', { domId: (song) => `song-${song.slug}` }) // before the first stream('songs', …)
 */
export interface StreamConfig<T = unknown> {
  /** The DOM id of an item. Default: `${name}-${item.id}`. */
  readonly domId?: (item: T) => string;
}

/** One pending insert: `[dom id, at, limit, update only]` on the wire. */
export type StreamInsertWire = [string, number, number | null, boolean];

/** The `"stream"` annotation of a comprehension: `[ref, inserts, deleted dom ids, reset?]`. */
export type StreamWire = [string, StreamInsertWire[], string[]] | [string, StreamInsertWire[], string[], true];

interface PendingInsert<T> {
  readonly item: T;
  readonly at: number;
  readonly limit: number | null;
  readonly updateOnly: boolean;
}

function checkInteger(name: string, key: string, value: unknown): void {
  if (value !== undefined && value !== null && !Number.isSafeInteger(value)) {
    throw new InletError('INLET_ERR_STREAM_OPTION', `Stream "${name}": \`${key}\` must be an integer, got ${JSON.stringify(value)}.`);
  }
}

function defaultDomId(name: string): (item: unknown) => string {
  return (item) => {
    const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
    if (id === undefined || id === null || (typeof id !== 'string' && typeof id !== 'number' && typeof id !== 'bigint')) {
      throw new InletError(
        'INLET_ERR_STREAM_DOM_ID',
        `Stream "${name}" got an item without an \`id\`; give items an id or configure \`domId\` with streamConfigure.`,
      );
    }
    return `${name}-${String(id)}`;
  };
}

/**
 * A stream as templates see it (`streams.songs`). Render it with
 * {@link LiveStream.map} inside a `phx-update="stream"` container whose
 * children carry the DOM ids.
 *
 * @example
 * html`<ul id="songs" phx-update="stream">${streams.songs.map(
 *   (song, id) => html`<li id="${id}">${song.title}</li>`,
 * )}</ul>`
 */
export class LiveStream<T = unknown> {
  readonly name: string;
  /** The ref the client files this stream's items under. */
  readonly ref: string;
  readonly #domId: (item: T) => string;
  #inserts = new Map<string, PendingInsert<T>>();
  #deletes: string[] = [];
  #reset = false;
  /** Statics of the item template last rendered, reused when nothing is pending. */
  #statics?: readonly string[];

  /** @internal created through the socket's `stream` */
  constructor(name: string, ref: string, config: StreamConfig<T> = {}) {
    this.name = name;
    this.ref = ref;
    const domId: (item: T) => string = config.domId ?? defaultDomId(name);
    if (typeof domId !== 'function') throw new InletError('INLET_ERR_STREAM_OPTION', `Stream "${name}": \`domId\` must be a function.`);
    this.#domId = domId;
  }

  /** The DOM id this stream gives `item`. */
  domId(item: T): string {
    const id = this.#domId(item);
    if (typeof id !== 'string' || id.length === 0) {
      throw new InletError('INLET_ERR_STREAM_DOM_ID', `Stream "${this.name}": domId returned ${JSON.stringify(id)}; it must return a non-empty string.`);
    }
    return id;
  }

  /** Queues `item` for insertion (or an in-place update if the client has it). */
  insert(item: T, options: StreamInsertOptions = {}): void {
    const { at = -1, limit, updateOnly = false } = options;
    checkInteger(this.name, 'at', at);
    checkInteger(this.name, 'limit', limit);
    const id = this.domId(item);
    // The latest insert of an id wins, at the position of that latest insert.
    this.#inserts.delete(id);
    this.#inserts.set(id, { item, at, limit: limit ?? null, updateOnly: updateOnly === true });
  }

  /** Queues the removal of the item with DOM id `id`; a pending insert of it is dropped. */
  deleteByDomId(id: string): void {
    if (typeof id !== 'string') throw new InletError('INLET_ERR_STREAM_DOM_ID', `Stream "${this.name}": a DOM id must be a string.`);
    this.#inserts.delete(id);
    this.#deletes.push(id);
  }

  /** Queues the removal of every item the client has; pending inserts and deletes are dropped. */
  reset(): void {
    this.#inserts.clear();
    this.#deletes = [];
    this.#reset = true;
  }

  /** Whether anything is waiting to be sent. */
  get pending(): boolean {
    return this.#reset || this.#deletes.length > 0 || this.#inserts.size > 0;
  }

  /** How many inserts wait to be rendered. */
  get size(): number {
    return this.#inserts.size;
  }

  /**
   * Renders the pending inserts, each as `render(item, domId)`. Use it once,
   * directly inside the stream's container.
   */
  map(render: (item: T, domId: string) => unknown): StreamRender {
    return new StreamRender(this as LiveStream<unknown>, render as (item: unknown, domId: string) => unknown);
  }

  /** @internal the pending inserts, in order */
  entries(): [string, T][] {
    return [...this.#inserts].map(([id, p]) => [id, p.item]);
  }

  /** @internal the comprehension annotation for the pending changes */
  wire(): StreamWire {
    const inserts: StreamInsertWire[] = [];
    for (const [id, p] of this.#inserts) inserts.push([id, p.at, p.limit, p.updateOnly]);
    const deletes = [...this.#deletes];
    return this.#reset ? [this.ref, inserts, deletes, true] : [this.ref, inserts, deletes];
  }

  /** @internal remembered item statics */
  get statics(): readonly string[] | undefined {
    return this.#statics;
  }

  set statics(value: readonly string[] | undefined) {
    if (value) this.#statics = value;
  }

  /** @internal forgets what was sent: called after every render. */
  prune(): void {
    if (this.#inserts.size > 0) this.#inserts = new Map();
    if (this.#deletes.length > 0) this.#deletes = [];
    this.#reset = false;
  }
}

/**
 * A stream placed in a template by {@link LiveStream.map}.
 * @example
 * html`<ul id="songs" phx-update="stream">${streams.songs.map((s, id) => html`<li id=${id}>${s.title}</li>`)}</ul>`
 */
export class StreamRender {
  constructor(
    readonly stream: LiveStream<unknown>,
    readonly render: (item: unknown, domId: string) => unknown,
  ) {}
}

/** Checks a stream name (any non-empty string). */
function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InletError('INLET_ERR_STREAM_OPTION', `A stream name must be a non-empty string, got ${String(name)}.`);
  }
}

/**
 * The streams of one view or component socket: creation, configuration,
 * operations and pruning. `prefix` namespaces refs (a component's cid), so
 * two sockets of one view never share a ref.
 *
 * @example
 * const set = new StreamSet()
 * set.stream('songs', [{ id: 1, title: 'A' }])
 * set.view().songs // LiveStream
 */
export class StreamSet {
  readonly #streams = new Map<string, LiveStream<unknown>>();
  readonly #configured = new Map<string, StreamConfig<unknown>>();
  readonly #view: Record<string, LiveStream<unknown>> = {};
  readonly #prefix: string;
  #nextRef = 0;

  constructor(prefix = '') {
    this.#prefix = prefix;
  }

  /** The object templates read as `streams`: name -> stream. */
  view(): Readonly<Record<string, LiveStream<unknown>>> {
    return this.#view;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Sets a stream's DOM id function; only before the stream is first used, and only once. */
  configure(name: string, config: StreamConfig<unknown>): void {
    checkName(name);
    if (this.#streams.has(name)) throw new InletError('INLET_ERR_STREAM_CONFIGURE', `Stream "${name}" has already been streamed.`);
    if (this.#configured.has(name)) throw new InletError('INLET_ERR_STREAM_CONFIGURE', `Stream "${name}" is already configured.`);
    this.#configured.set(name, { ...config });
  }

  /** Creates the stream `name`, or inserts into it; `reset` empties the client's items first. */
  stream(name: string, items: Iterable<unknown>, options: StreamOptions = {}): LiveStream<unknown> {
    checkName(name);
    if (items === null || typeof (items as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new InletError('INLET_ERR_STREAM_OPTION', `Stream "${name}": items must be iterable (an array, a Set, a generator…).`);
    }
    let stream = this.#streams.get(name);
    if (!stream) {
      const config = this.#configured.get(name) ?? (options.domId ? { domId: options.domId } : undefined);
      stream = new LiveStream(name, `${this.#prefix}${this.#nextRef++}`, config);
      this.#streams.set(name, stream);
      this.#view[name] = stream;
      // As in Phoenix, the call that creates a stream appends its items in order: `at` and
      // `reset` apply from the next call on (there is nothing yet to insert among or to reset).
      for (const item of items) stream.insert(item, { ...options, at: -1 });
      return stream;
    }
    if (options.reset === true) stream.reset();
    for (const item of items) stream.insert(item, options);
    return stream;
  }

  /** The stream `name`; throws if it was never created. */
  get(name: string): LiveStream<unknown> {
    const stream = this.#streams.get(name);
    if (!stream) throw new InletError('INLET_ERR_STREAM_UNKNOWN', `No stream named "${String(name)}"; create it with stream(name, items) first.`);
    return stream;
  }

  /** Forgets every stream's pending changes (after a render sent them). */
  prune(): void {
    for (const stream of this.#streams.values()) stream.prune();
  }
}
