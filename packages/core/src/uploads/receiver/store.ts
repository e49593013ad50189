/**
 * The storage contract of the built-in chunk receiver. A {@link ChunkStore}
 * persists the bytes of one upload session; the receiver decides which bytes
 * are new, serialises writes per session and maps store failures to HTTP
 * answers. Implementations: {@link DiskChunkStore} here, `S3MultipartStore`
 * in the `@inletjs/s3` package.
 */

/** What a store learns about the upload it is writing. */
export interface ChunkStoreSession {
  /** Stable, non-secret id of the session; safe for file names and object keys. */
  readonly id: string;
  /** Size of the whole file in bytes, as declared by the client. */
  readonly total: number;
  /** MIME type chosen when the session was minted, if any. */
  readonly contentType: string | undefined;
}

/**
 * The bytes of one write, streamed. The stream yields at most `length` bytes;
 * it ends early (without an error) when the client's body ended short or the
 * connection dropped. A store must never assume it receives all `length`
 * bytes, and must report how many it kept by the offset it returns.
 */
export interface ChunkBody extends AsyncIterable<Buffer> {
  /** Bytes the client declared for this write. */
  readonly length: number;
}

/**
 * Persists the bytes of upload sessions. The receiver guarantees, per session:
 * calls never overlap; `create` comes first and once; `write` always starts at
 * the durable offset the previous `write` returned (0 at first); `complete`
 * comes only once the offset has reached `total`; `abort` may come at any time
 * after `create` (expiry, cancellation, a permanent failure) and is the last
 * call.
 *
 * Failures: throw {@link TransientStoreError} (or any `Error` whose
 * `transient` property is `true`) for conditions worth retrying; the receiver
 * answers 503 and keeps the session. Any other error is permanent: the session
 * fails and the store is aborted.
 *
 * @example
 * const store: ChunkStore = new DiskChunkStore({ dir: '/var/tmp/uploads' });
 * const sessions = new SessionRegistry({ store });
 */
export interface ChunkStore {
  /**
   * Optional veto, asked before a write's body is read. Return a message to
   * refuse the write (the client gets a 400 carrying it), or `undefined` to
   * accept. Used for shape rules such as S3's 5 MiB minimum part size.
   */
  checkWrite?(session: ChunkStoreSession, offset: number, length: number): string | undefined;
  /** Prepares storage for a new session (creates a file, starts a multipart upload…). */
  create(session: ChunkStoreSession): Promise<void>;
  /**
   * Stores `chunk` at `offset` and resolves to the new durable offset, between
   * `offset` (nothing kept) and `offset + chunk.length`.
   */
  write(session: ChunkStoreSession, offset: number, chunk: ChunkBody): Promise<number>;
  /**
   * Finalises the upload once all `total` bytes are stored and resolves to the
   * metadata handed to the consumer, e.g. `{ path }` or `{ bucket, key, etag }`.
   */
  complete(session: ChunkStoreSession): Promise<Record<string, unknown>>;
  /** Discards whatever the session stored. Must tolerate being called after a failed `create`. */
  abort(session: ChunkStoreSession): Promise<void>;
}

/**
 * A storage failure worth retrying (disk full, S3 5xx, network error). The
 * receiver answers 503 so the client resends the same chunk.
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
 * True for errors that should answer 503: {@link TransientStoreError} and any
 * `Error` carrying `transient: true`.
 *
 * @example
 * if (isTransientStoreError(err)) retryLater();
 */
export function isTransientStoreError(error: unknown): boolean {
  return error instanceof Error && (error as { transient?: unknown }).transient === true;
}

/**
 * Wraps an in-memory buffer as a {@link ChunkBody}; handy for tests and for
 * callers that already hold the bytes.
 *
 * @example
 * await store.write(session, 0, chunkFromBuffer(Buffer.from('hello')));
 */
export function chunkFromBuffer(buffer: Buffer): ChunkBody {
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
export async function readChunk(chunk: ChunkBody): Promise<Buffer> {
  const out = Buffer.allocUnsafe(chunk.length);
  let filled = 0;
  for await (const piece of chunk) {
    const n = Math.min(piece.length, out.length - filled);
    piece.copy(out, filled, 0, n);
    filled += n;
    if (filled === out.length) break;
  }
  return filled === out.length ? out : out.subarray(0, filled);
}
