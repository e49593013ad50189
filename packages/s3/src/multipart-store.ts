/**
 * An upload store that writes each chunk as one S3 multipart part: chunk i
 * becomes part i + 1, completion completes the multipart upload, expiry or
 * cancellation aborts it. It serves the chunked HTTP receiver and socket
 * uploads alike.
 *
 * It implements `inletjs`'s `UploadStore` contract structurally, so this
 * package does not depend on `inletjs`.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Smallest part S3 accepts, except for the last part of an upload. */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** Most parts one multipart upload may have. */
export const S3_MAX_PARTS = 10_000;
/** Largest chunk buffered in memory by default before it is sent as a part. */
export const DEFAULT_MAX_PART_BYTES = 64 * 1024 * 1024;
/** Key prefix of uploaded objects by default. */
export const DEFAULT_KEY_PREFIX = 'uploads/';

/** What a store is told about an upload (structurally `inletjs`'s `UploadRecord`). */
export interface S3ChunkSession {
  readonly id: string;
  readonly size: number;
  readonly contentType?: string | undefined;
}

/** The bytes of one write (structurally `inletjs`'s `ChunkBody`). */
export interface S3ChunkBody extends AsyncIterable<Uint8Array> {
  readonly length: number;
}

/**
 * A failure worth retrying (S3 5xx, throttling, network error). It carries
 * `transient: true`, which Inlet's receiver answers with 503 so the client
 * resends the chunk. The SDK's own error is its `cause`.
 *
 * @example
 * try { await store.write(session, offset, chunk) }
 * catch (e) { if (e instanceof S3TransientError) console.warn('S3 busy:', e.cause) }
 */
export class S3TransientError extends Error {
  readonly transient = true as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'S3TransientError';
  }
}

/** Options of {@link S3MultipartStore}. */
export interface S3MultipartStoreOptions {
  /** Client from `createS3Client` (checksums `WHEN_REQUIRED` for non-AWS servers). */
  client: S3Client;
  bucket: string;
  /** Object key of a session; default `${keyPrefix}${session.id}`. */
  key?: (session: S3ChunkSession) => string;
  /** Prefix for the default key; default {@link DEFAULT_KEY_PREFIX}. */
  keyPrefix?: string;
  /** Largest chunk accepted (each is held in memory while it is sent); default {@link DEFAULT_MAX_PART_BYTES}. */
  maxPartBytes?: number;
}

/** What {@link S3MultipartStore.complete} hands to the consumer. */
export interface S3UploadMeta extends Record<string, unknown> {
  bucket: string;
  key: string;
  /** The object's ETag (quoted, as S3 reports it), or `undefined` if the server gave none. */
  etag: string | undefined;
  size: number;
}

interface UploadState {
  readonly key: string;
  readonly uploadId: string;
  readonly parts: (CompletedPart & { size: number })[];
}

/**
 * Stores receiver sessions as S3 multipart uploads. Every chunk is buffered
 * (at most `maxPartBytes`) and sent as one UploadPart; the session's offset
 * advances only once S3 accepted the part, so a chunk whose body ended short
 * is dropped whole and the client resends it. Chunks other than the last
 * must be at least 5 MiB (S3's rule); smaller ones are refused before their
 * body is read, with a message naming the client setting to change (UpChunk:
 * `chunkSize` ≥ 5120 KiB and `dynamicChunkSize` off).
 *
 * State (upload id, part ETags) lives in this process, like the receiver's
 * sessions; configure an S3 lifecycle rule that aborts incomplete multipart
 * uploads to reclaim parts after a crash.
 *
 * @example
 * const store = new S3MultipartStore({ client: createS3Client(cfg), bucket: 'uploads' });
 * const sessions = new SessionRegistry({ store }); // from inlet's receiver
 * sessions.onComplete((s, meta) => console.log(meta.key, meta.etag));
 */
export class S3MultipartStore {
  /** `UploadStore` capabilities: a short chunk is dropped whole (no `partial`), and uploads are visible to every node. */
  readonly capabilities: ReadonlySet<'shared'> = new Set(['shared'] as const);
  /** Every part but the last must be at least this large. */
  readonly minWriteBytes = S3_MIN_PART_BYTES;
  /** Each chunk is held in memory while it is sent as one part. */
  readonly maxWriteBytes: number;
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #key: (session: S3ChunkSession) => string;
  readonly #maxPartBytes: number;
  readonly #uploads = new Map<string, UploadState>();

  constructor(options: S3MultipartStoreOptions) {
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#client = options.client;
    this.bucket = options.bucket;
    this.#key = options.key ?? ((session) => `${prefix}${session.id}`);
    this.#maxPartBytes = options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;
    if (!Number.isSafeInteger(this.#maxPartBytes) || this.#maxPartBytes < S3_MIN_PART_BYTES) {
      throw new RangeError(`S3MultipartStore: maxPartBytes must be an integer >= ${S3_MIN_PART_BYTES}`);
    }
    this.maxWriteBytes = this.#maxPartBytes;
  }

  /** Refuses chunks S3 could not take as a part, before their body is read. */
  checkWrite(session: S3ChunkSession, offset: number, length: number): string | undefined {
    if (length > this.#maxPartBytes) {
      return `chunk of ${length} bytes exceeds this store's ${this.#maxPartBytes}-byte part limit; use smaller chunks`;
    }
    const last = offset + length >= session.size;
    if (!last && length < S3_MIN_PART_BYTES) {
      return (
        `S3 multipart parts must be at least ${S3_MIN_PART_BYTES} bytes (5 MiB) except the last; ` +
        `this chunk has ${length} bytes. With UpChunk set chunkSize >= 5120 (KiB) and dynamicChunkSize: false.`
      );
    }
    const parts = this.#uploads.get(session.id)?.parts.length ?? 0;
    if (parts >= S3_MAX_PARTS) return `S3 allows at most ${S3_MAX_PARTS} parts; use larger chunks`;
    return undefined;
  }

  async create(session: S3ChunkSession, signal?: AbortSignal): Promise<void> {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(session.id)) throw new RangeError(`unsafe upload id: ${JSON.stringify(session.id).slice(0, 140)}`);
    const key = this.#key(session);
    const command = new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...contentType(session) });
    const out = await this.#send(() => this.#client.send(command, { abortSignal: signal }));
    if (!out.UploadId) throw new Error(`CreateMultipartUpload for ${key} returned no UploadId`);
    this.#uploads.set(session.id, { key, uploadId: out.UploadId, parts: [] });
  }

  async write(session: S3ChunkSession, offset: number, chunk: S3ChunkBody, signal?: AbortSignal): Promise<number> {
    const upload = this.#upload(session);
    const held = upload.parts.reduce((n, p) => n + p.size, 0);
    if (offset !== held) throw new Error(`write to ${session.id} at offset ${offset}, but ${held} bytes are stored`);
    const bytes = await readWhole(chunk);
    signal?.throwIfAborted();
    if (bytes.length < chunk.length) return offset; // short body: keep nothing, the client resends the chunk
    const partNumber = upload.parts.length + 1;
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: upload.key,
      UploadId: upload.uploadId,
      PartNumber: partNumber,
      Body: bytes,
      ContentLength: bytes.length,
    });
    const out = await this.#send(() => this.#client.send(command, { abortSignal: signal }));
    if (!out.ETag) throw new Error(`UploadPart ${partNumber} of ${upload.key} returned no ETag`);
    upload.parts.push({ PartNumber: partNumber, ETag: out.ETag, size: bytes.length });
    return offset + bytes.length;
  }

  async complete(session: S3ChunkSession, signal?: AbortSignal): Promise<S3UploadMeta> {
    const upload = this.#upload(session);
    const held = upload.parts.reduce((n, p) => n + p.size, 0);
    if (held !== session.size) throw new Error(`upload ${session.id} holds ${held} bytes, expected ${session.size}`);
    const { bucket } = this;
    const { key } = upload;
    let etag: string | undefined;
    if (upload.parts.length === 0) {
      // A multipart upload needs at least one part, so an empty file is a plain PutObject.
      const put = new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0), ...contentType(session) });
      etag = (await this.#send(() => this.#client.send(put, { abortSignal: signal }))).ETag;
      await this.abort(session).catch(() => undefined);
    } else {
      const command = new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: upload.uploadId,
        MultipartUpload: { Parts: upload.parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      });
      etag = (await this.#send(() => this.#client.send(command, { abortSignal: signal }))).ETag;
      this.#uploads.delete(session.id);
      if (!etag) {
        // radosgw 16 answers Complete with an empty ETag; HeadObject has the real one.
        // Best effort: the object is complete, so a failure here must not fail the upload.
        const head = new HeadObjectCommand({ Bucket: bucket, Key: key });
        etag = await this.#client.send(head).then(
          (out) => out.ETag,
          () => undefined,
        );
      }
    }
    return { bucket, key, etag: etag || undefined, size: session.size };
  }

  async abort(session: S3ChunkSession): Promise<void> {
    const upload = this.#uploads.get(session.id);
    if (!upload) return;
    this.#uploads.delete(session.id);
    const command = new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.key, UploadId: upload.uploadId });
    try {
      await this.#send(() => this.#client.send(command));
    } catch (error) {
      if (errorName(error) !== 'NoSuchUpload') throw error;
    }
  }

  #upload(session: S3ChunkSession): UploadState {
    const upload = this.#uploads.get(session.id);
    if (!upload) throw new Error(`no multipart upload for session ${session.id} (created in another process?)`);
    return upload;
  }

  /** Runs an S3 call, turning retryable failures into {@link S3TransientError}. */
  async #send<Out>(call: () => Promise<Out>): Promise<Out> {
    try {
      return await call();
    } catch (error) {
      if (isTransientS3Error(error)) {
        throw new S3TransientError(`S3 is unavailable (${errorName(error) ?? 'network error'})`, { cause: error });
      }
      throw error;
    }
  }
}

/** S3 error names that mean "try again later". */
const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalError',
  'ThrottlingException',
  'Throttling',
  'TimeoutError',
]);

/**
 * True for S3 failures worth retrying: any 5xx, throttling, and errors that
 * never got an HTTP answer (connection refused or reset, timeouts).
 *
 * @example
 * isTransientS3Error(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } })); // true
 */
export function isTransientS3Error(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429 || TRANSIENT_NAMES.has(error.name);
  return true; // no HTTP status: the request never got an answer
}

function contentType(session: S3ChunkSession): { ContentType?: string } {
  return session.contentType === undefined ? {} : { ContentType: session.contentType };
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Reads a chunk into one buffer; shorter than `chunk.length` when the body ended early. */
async function readWhole(chunk: S3ChunkBody): Promise<Uint8Array> {
  const out = Buffer.allocUnsafe(chunk.length);
  let filled = 0;
  for await (const piece of chunk) {
    const n = Math.min(piece.length, out.length - filled);
    out.set(piece.subarray(0, n), filled);
    filled += n;
    if (filled === out.length) break;
  }
  return filled === out.length ? out : out.subarray(0, filled);
}
