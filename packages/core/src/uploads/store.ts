/**
 * The upload storage contract: one shape for every place upload bytes go,
 * whether they arrive over the socket (`lvu:` chunks) or through the chunked
 * HTTP receiver. Modelled on tus-node-server's data stores: a store declares
 * what it can do as a capability list, is told about each upload once
 * (`create`), receives its bytes in order (`write`, always at the durable
 * offset), and finishes it (`complete`) or throws it away (`abort`). Long
 * calls take an `AbortSignal`, so a cancelled upload stops at once.
 *
 * Implementations: {@link DiskStore} and {@link MemoryStore} here,
 * `S3MultipartStore` in `@inletjs/s3`. Every store passes the conformance
 * cases of `inletjs/testing` (`storeConformanceCases`).
 */
import { implementing, InletOptionError, type Check } from '../options.js';

/**
 * What a store is told about an upload when it is created.
 *
 * @example
 * const upload: UploadRecord = { id: 'a1B2c3', size: 5, contentType: 'text/plain' }
 * await store.create(upload)
 * await store.write(upload, 0, chunkFromBuffer(Buffer.from('hello')))
 */
export interface UploadRecord {
  /** Stable, non-secret id; safe in file names and object keys (`[A-Za-z0-9_-]`, at most 128). */
  readonly id: string;
  /** The whole file's size in bytes, as the client declared it. */
  readonly size: number;
  /** MIME type to record with the stored object, if any. */
  readonly contentType?: string | undefined;
  /**
   * Small string metadata kept with the upload (a few hundred bytes), given
   * back by {@link UploadStore.get} and {@link UploadStore.list} on stores with
   * the `resume` capability: what a resumable session needs to be recognised
   * after a restart (owner, config name, fingerprint…).
   */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /**
   * What the store's `create` returned for this upload (e.g. an S3 upload
   * id), handed back on every later call. A caller that keeps uploads
   * outside the store's process (the cluster receiver keeps it in the shared
   * upload record) passes it, so another instance of the store, on another
   * node, continues the upload; callers in one process may leave it out.
   */
  readonly state?: StoreState | undefined;
}

/**
 * A store's own state for one upload: a few short strings, JSON-safe, that
 * let any instance of the store continue it (`{ key, uploadId }` for S3).
 */
export type StoreState = Readonly<Record<string, string>>;

/**
 * An open upload a store holds (not yet completed), as {@link UploadStore.get} finds it.
 *
 * @example
 * const open: StoredUpload | undefined = await store.get?.(id)
 * if (open) console.log(`resume ${open.id} at byte ${open.offset} of ${open.size}`)
 */
export interface StoredUpload extends UploadRecord {
  /** Bytes durably stored: always a prefix of the file, never more than was written. */
  readonly offset: number;
  /** When bytes last arrived (epoch ms), for expiry. */
  readonly updatedAt: number;
}

/**
 * What a store can do besides the required calls.
 *
 * - `partial`: a write whose body ends early keeps the bytes that arrived
 *   (without it, a write keeps all of its bytes or none).
 * - `resume`: {@link UploadStore.get} finds an upload by id after a restart
 *   (or on another node) with its durable offset and metadata.
 * - `list`: {@link UploadStore.list} enumerates the uploads held, for sweeps.
 * - `read`: {@link UploadStore.read} reads back stored bytes (e.g. to rebuild
 *   a checksum after a restart).
 * - `local-path`: `complete` returns `{ path }` of a local file, which consume
 *   functions may move (`moveInto`, `createOrAppendFile`).
 * - `shared`: every node of a cluster sees the same uploads.
 *
 * @example
 * const needed: StoreCapability[] = ['resume', 'shared']
 * const fitsCluster = needed.every((c) => store.capabilities.has(c))
 */
export type StoreCapability = 'partial' | 'resume' | 'list' | 'read' | 'local-path' | 'shared';

/**
 * Every capability name, for validation and docs.
 *
 * @example
 * for (const c of STORE_CAPABILITIES) console.log(c, store.capabilities.has(c) ? 'yes' : 'no')
 */
export const STORE_CAPABILITIES: readonly StoreCapability[] = ['partial', 'resume', 'list', 'read', 'local-path', 'shared'];

/** The option check for a store: its calls, and a capability set. */
export const uploadStoreCheck: Check = (value, path) => {
  implementing('an UploadStore', 'create', 'write', 'complete', 'abort')(value, path);
  if (!((value as { capabilities?: unknown }).capabilities instanceof Set)) {
    throw new InletOptionError(path, 'must be an UploadStore (its capabilities is not a Set of capability names).');
  }
};

/**
 * The bytes of one write, streamed. The stream yields at most `length` bytes;
 * it ends early (without an error) when the client's body ended short or the
 * connection dropped. A store must never assume it receives all `length`
 * bytes, and reports how many it kept by the offset it returns.
 *
 * @example
 * const body: ChunkBody = { length: bytes.length, async *[Symbol.asyncIterator]() { yield bytes } }
 * const offset = await store.write(upload, 0, body)
 */
export interface ChunkBody extends AsyncIterable<Uint8Array> {
  /** Bytes the client declared for this write. */
  readonly length: number;
}

/**
 * Persists the bytes of uploads. Callers guarantee, per upload: calls never
 * overlap; `create` comes first and once; `write` starts at the durable
 * offset (0 at first, then what the previous `write` returned); `complete`
 * comes only once the offset reached `size`; `abort` may come at any time,
 * even after a failed `create`, and is the last call. A store with the
 * `shared` capability also continues an upload on another instance (another
 * node) from `upload.state`, the state its `create` returned.
 *
 * Failures: throw {@link TransientStoreError} (or any `Error` with
 * `transient: true`) for conditions worth retrying; callers keep the upload
 * and the client resends. Any other error is permanent: the upload fails and
 * the store is aborted. A write at an offset other than the durable one is a
 * permanent {@link StoreOffsetError}. A call whose `signal` aborts rejects
 * with the signal's reason and keeps at most the bytes already durable.
 *
 * @example
 * const store: UploadStore = new DiskStore({ dir: '/var/tmp/uploads' });
 * await store.create({ id, size: 5 });
 * const offset = await store.write({ id, size: 5 }, 0, chunkFromBuffer(Buffer.from('hello')));
 * const meta = await store.complete({ id, size: 5 }); // { path, size }
 */
export interface UploadStore {
  /** What this store can do; see {@link StoreCapability}. */
  readonly capabilities: ReadonlySet<StoreCapability>;
  /**
   * Smallest write the store accepts, except the one that ends the file (S3:
   * 5 MiB). Callers size chunks accordingly. Default: no minimum.
   */
  readonly minWriteBytes?: number;
  /** Largest write the store accepts (each may be held in memory). Default: no maximum. */
  readonly maxWriteBytes?: number;
  /**
   * Optional veto, asked before a write's body is read: a message refusing
   * the write, or `undefined` to accept. For shape rules beyond the sizes
   * above, such as S3's 10,000-part limit.
   */
  checkWrite?(upload: UploadRecord, offset: number, length: number): string | undefined;
  /**
   * Prepares storage for a new upload (creates a file, starts a multipart
   * upload…). A store that must be told something on later calls to find
   * the upload from another instance resolves to it ({@link StoreState});
   * callers pass it back as `upload.state`.
   */
  create(upload: UploadRecord, signal?: AbortSignal): Promise<void | StoreState>;
  /**
   * Stores `chunk` at `offset` (the durable offset) and resolves to the new
   * durable offset, between `offset` (nothing kept) and `offset + chunk.length`.
   */
  write(upload: UploadRecord, offset: number, chunk: ChunkBody, signal?: AbortSignal): Promise<number>;
  /**
   * Finalises the upload once all `size` bytes are stored and resolves to the
   * metadata handed to the consumer, e.g. `{ path, size }` or `{ bucket, key, etag, size }`.
   */
  complete(upload: UploadRecord, signal?: AbortSignal): Promise<Record<string, unknown>>;
  /** Discards whatever the upload stored. Tolerates uploads it never created. */
  abort(upload: UploadRecord): Promise<void>;
  /** `resume`: the open upload with this id, created with `metadata`, or undefined when the store holds none. */
  get?(id: string, signal?: AbortSignal): Promise<StoredUpload | undefined>;
  /** `list`: every open upload held (completed ones belong to their consumer). */
  list?(signal?: AbortSignal): AsyncIterable<StoredUpload>;
  /** `read`: the stored bytes `[start, end)` of an upload, `end` at most its durable offset. */
  read?(id: string, start: number, end: number, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

/**
 * A storage failure worth retrying (disk full, S3 5xx, network error). The
 * receiver answers 503, the socket channel asks the client to resend.
 *
 * Stores in other packages need not import this class: any `Error` with
 * `transient === true` is treated the same (see {@link isTransientStoreError}).
 *
 * @example
 * throw new TransientStoreError('disk full', { cause: err });
 */
export class TransientStoreError extends Error {
  /** Marker recognised by {@link isTransientStoreError}. */
  readonly transient = true as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStoreError';
  }
}

/**
 * A write that did not start at the upload's durable offset: a stale writer
 * (e.g. a superseded channel) must never interleave with the current one.
 *
 * @example
 * if (offset !== held) throw new StoreOffsetError(id, offset, held);
 */
export class StoreOffsetError extends Error {
  constructor(
    readonly id: string,
    readonly offset: number,
    readonly durable: number,
  ) {
    super(`write to ${id} at offset ${offset}, but its durable offset is ${durable}`);
    this.name = 'StoreOffsetError';
  }
}

/**
 * True for errors that should be retried: {@link TransientStoreError} and any
 * `Error` carrying `transient: true`.
 *
 * @example
 * if (isTransientStoreError(err)) retryLater();
 */
export function isTransientStoreError(error: unknown): boolean {
  return error instanceof Error && (error as { transient?: unknown }).transient === true;
}

/**
 * Whether `store` declares `capability`.
 * @example
 * if (storeCan(store, 'resume')) await store.get?.(id)
 */
export function storeCan(store: Pick<UploadStore, 'capabilities'>, capability: StoreCapability): boolean {
  return store.capabilities.has(capability);
}

/** Upload ids are used in file names and object keys: this refuses anything else. */
export function assertSafeUploadId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new RangeError(`unsafe upload id: ${JSON.stringify(id).slice(0, 140)}`);
  return id;
}

/**
 * Wraps an in-memory buffer as a {@link ChunkBody}; handy for tests and for
 * callers that already hold the bytes (socket chunks).
 *
 * @example
 * await store.write(upload, 0, chunkFromBuffer(Buffer.from('hello')));
 */
export function chunkFromBuffer(buffer: Uint8Array): ChunkBody {
  return {
    length: buffer.length,
    async *[Symbol.asyncIterator]() {
      if (buffer.length > 0) yield buffer;
    },
  };
}

/**
 * Reads a whole {@link ChunkBody} into one buffer of at most `chunk.length`
 * bytes, for stores that must send a chunk in one piece (an S3 UploadPart).
 * Resolves to fewer bytes when the body ended short.
 *
 * @example
 * const bytes = await readChunk(chunk);
 * if (bytes.length < chunk.length) return offset; // keep nothing of a short chunk
 */
export async function readChunk(chunk: ChunkBody, signal?: AbortSignal): Promise<Buffer> {
  const out = Buffer.allocUnsafe(chunk.length);
  let filled = 0;
  for await (const piece of chunk) {
    signal?.throwIfAborted();
    const n = Math.min(piece.length, out.length - filled);
    out.set(piece.subarray(0, n), filled);
    filled += n;
    if (filled === out.length) break;
  }
  return filled === out.length ? out : out.subarray(0, filled);
}
