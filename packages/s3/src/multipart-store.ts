/**
 * An upload store that writes each chunk as one S3 multipart part and
 * completes the multipart upload at the end (expiry or cancellation abort
 * it). It serves the chunked HTTP receiver and socket uploads alike, and any
 * node of a cluster can continue an upload another node started: the part
 * number comes from the chunk's offset (`multipart-parts.ts`), the upload id
 * is the state `create` returns (callers hand it back as `upload.state`),
 * and the parts' ETags are listed from S3 when the upload completes. The
 * store keeps no state another node would need.
 *
 * It implements `inletjs`'s `UploadStore` contract structurally, so this
 * package does not depend on `inletjs`.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { S3_MAX_PARTS, chainOf, listParts, partNumberAt } from './multipart-parts.js';

export { S3_MAX_PARTS } from './multipart-parts.js';
/**
 * Smallest part S3 accepts, except for the last part of an upload.
 *
 * @example
 * // parts of 20 MiB: files up to about 195 GiB
 * new S3MultipartStore({ client, bucket: 'uploads', partBytes: 4 * S3_MIN_PART_BYTES });
 */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/**
 * Largest chunk buffered in memory by default before it is sent as a part.
 *
 * @example
 * // hold at most 16 MiB per chunk in memory
 * new S3MultipartStore({ client, bucket: 'uploads', maxPartBytes: DEFAULT_MAX_PART_BYTES / 4 });
 */
export const DEFAULT_MAX_PART_BYTES = 64 * 1024 * 1024;
/**
 * Key prefix of uploaded objects by default.
 *
 * @example
 * // where an upload with id `id` ends up by default
 * const key = `${DEFAULT_KEY_PREFIX}${id}`;
 */
export const DEFAULT_KEY_PREFIX = 'uploads/';
/** Where records of resumable uploads (those created with `metadata`) are kept, under the key prefix. */
export const RECORD_FOLDER = '.inlet-uploads/';

/**
 * What a store is told about an upload (structurally `inletjs`'s `UploadRecord`).
 *
 * @example
 * // objects named by tenant instead of under the key prefix
 * const key = (session: S3ChunkSession) => `${session.metadata?.tenant ?? 'shared'}/${session.id}`;
 * new S3MultipartStore({ client, bucket: 'uploads', key });
 */
export interface S3ChunkSession {
  readonly id: string;
  readonly size: number;
  readonly contentType?: string | undefined;
  /** Kept with resumable uploads; given back by `get`. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** What `create` returned (`{ key, uploadId }`): lets any instance continue the upload. */
  readonly state?: Readonly<Record<string, string>> | undefined;
}

/**
 * The bytes of one write (structurally `inletjs`'s `ChunkBody`).
 *
 * @example
 * const body: S3ChunkBody = { length: bytes.length, async *[Symbol.asyncIterator]() { yield bytes; } };
 * const offset = await store.write(session, 0, body);
 */
export interface S3ChunkBody extends AsyncIterable<Uint8Array> {
  readonly length: number;
}

/** An open upload as `get` finds it (structurally `inletjs`'s `StoredUpload`). */
export interface S3StoredUpload extends S3ChunkSession {
  readonly offset: number;
  readonly updatedAt: number;
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

/**
 * Options of {@link S3MultipartStore}.
 *
 * @example
 * const store = new S3MultipartStore({ client: createS3Client(cfg), bucket: 'uploads', keyPrefix: 'videos/', partBytes: 8 * 1024 * 1024 });
 */
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
  /**
   * Smallest chunk but the last, and the unit part numbers count in
   * (`1 + floor(offset / partBytes)`); default {@link S3_MIN_PART_BYTES}.
   * With 10,000 parts, files may reach 10,000 × this (about 48.8 GiB at 5 MiB).
   */
  partBytes?: number;
}

/**
 * What {@link S3MultipartStore.complete} hands to the consumer.
 *
 * @example
 * const { bucket, key, etag, size }: S3UploadMeta = await store.complete(session);
 */
export interface S3UploadMeta extends Record<string, unknown> {
  bucket: string;
  key: string;
  /** The object's ETag (quoted, as S3 reports it), or `undefined` if the server gave none. */
  etag: string | undefined;
  size: number;
}

interface Known {
  readonly key: string;
  readonly uploadId: string;
  /** Bytes durable as this instance last saw them (its own writes, or what `get` listed). */
  offset: number;
}

/**
 * Stores uploads as S3 multipart uploads. Every chunk is buffered (at most
 * `maxPartBytes`) and sent as one UploadPart; a write resolves to the new
 * offset only once S3 accepted the part, so a chunk whose body ended short is
 * dropped whole and the client resends it. Chunks other than the last must be
 * at least `partBytes` (5 MiB, S3's rule); smaller ones are refused before
 * their body is read, with a message naming the client setting to change
 * (UpChunk: `chunkSize` ≥ 5120 KiB and `dynamicChunkSize` off).
 *
 * Capabilities: `shared` (any instance continues an upload from the state
 * `create` returned) and `resume` (`get(id)` finds an upload created with
 * `metadata`: a small record object beside it says its key, upload id and
 * size; ListParts says its offset). Configure an S3 lifecycle rule that
 * aborts incomplete multipart uploads to reclaim parts after a crash.
 *
 * @example
 * const store = new S3MultipartStore({ client: createS3Client(cfg), bucket: 'uploads' });
 * const sessions = new SessionRegistry({ store }); // from inlet's receiver
 * sessions.onComplete((s, meta) => console.log(meta.key, meta.etag));
 */
export class S3MultipartStore {
  /** `UploadStore` capabilities: a short chunk is dropped whole (no `partial`); uploads continue on any node. */
  readonly capabilities: ReadonlySet<'shared' | 'resume'> = new Set(['shared', 'resume'] as const);
  /** Every part but the last must be at least this large. */
  readonly minWriteBytes: number;
  /** Each chunk is held in memory while it is sent as one part. */
  readonly maxWriteBytes: number;
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #key: (session: S3ChunkSession) => string;
  readonly #prefix: string;
  readonly #maxPartBytes: number;
  readonly #partBytes: number;
  /** Uploads this instance created or found (in-process callers need not pass `state`). */
  readonly #known = new Map<string, Known>();

  constructor(options: S3MultipartStoreOptions) {
    this.#prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#client = options.client;
    this.bucket = options.bucket;
    this.#key = options.key ?? ((session) => `${this.#prefix}${session.id}`);
    this.#maxPartBytes = options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;
    this.#partBytes = options.partBytes ?? S3_MIN_PART_BYTES;
    if (!Number.isSafeInteger(this.#partBytes) || this.#partBytes < S3_MIN_PART_BYTES) {
      throw new RangeError(`S3MultipartStore: partBytes must be an integer >= ${S3_MIN_PART_BYTES}`);
    }
    if (!Number.isSafeInteger(this.#maxPartBytes) || this.#maxPartBytes < this.#partBytes) {
      throw new RangeError(`S3MultipartStore: maxPartBytes must be an integer >= partBytes (${this.#partBytes})`);
    }
    this.minWriteBytes = this.#partBytes;
    this.maxWriteBytes = this.#maxPartBytes;
  }

  /** Refuses chunks S3 could not take as a part, before their body is read. */
  checkWrite(session: S3ChunkSession, offset: number, length: number): string | undefined {
    if (length > this.#maxPartBytes) {
      return `chunk of ${length} bytes exceeds this store's ${this.#maxPartBytes}-byte part limit; use smaller chunks`;
    }
    const last = offset + length >= session.size;
    if (!last && length < this.#partBytes) {
      return (
        `S3 multipart parts must be at least ${this.#partBytes} bytes (${(this.#partBytes / 1024 / 1024).toFixed(0)} MiB) except the last; ` +
        `this chunk has ${length} bytes. With UpChunk set chunkSize >= ${this.#partBytes / 1024} (KiB) and dynamicChunkSize: false.`
      );
    }
    if (partNumberAt(offset, this.#partBytes) > S3_MAX_PARTS) {
      return `S3 allows at most ${S3_MAX_PARTS} parts of ${this.#partBytes} bytes (files up to ${S3_MAX_PARTS * this.#partBytes} bytes); use a store with a larger partBytes`;
    }
    return undefined;
  }

  /** Starts the multipart upload; resolves to `{ key, uploadId }`, which any instance continues it from. */
  async create(session: S3ChunkSession, signal?: AbortSignal): Promise<{ key: string; uploadId: string }> {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(session.id)) throw new RangeError(`unsafe upload id: ${JSON.stringify(session.id).slice(0, 140)}`);
    const key = this.#key(session);
    const command = new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...contentType(session) });
    const out = await this.#send(() => this.#client.send(command, { abortSignal: signal }));
    if (!out.UploadId) throw new Error(`CreateMultipartUpload for ${key} returned no UploadId`);
    const state = { key, uploadId: out.UploadId };
    if (session.metadata) {
      const record = { ...state, size: session.size, contentType: session.contentType ?? null, metadata: session.metadata, createdAt: Date.now() };
      const put = new PutObjectCommand({ Bucket: this.bucket, Key: this.#recordKey(session.id), Body: JSON.stringify(record), ContentType: 'application/json' });
      await this.#send(() => this.#client.send(put, { abortSignal: signal }));
    }
    this.#known.set(session.id, { ...state, offset: 0 });
    return state;
  }

  async write(session: S3ChunkSession, offset: number, chunk: S3ChunkBody, signal?: AbortSignal): Promise<number> {
    const upload = this.#upload(session);
    const known = this.#known.get(session.id);
    // A write must start at the durable offset. A caller that hands the state back keeps the upload's
    // offsets itself (the cluster receiver commits them with compare-and-set, and other nodes write
    // too), so it is the judge; for in-process callers this instance knows the offset it reached.
    if (!session.state && known && offset !== known.offset) {
      throw new Error(`write to ${session.id} at offset ${offset}, but ${known.offset} bytes are stored`);
    }
    const bytes = await readWhole(chunk);
    signal?.throwIfAborted();
    if (bytes.length < chunk.length) return offset; // short body: keep nothing, the client resends the chunk
    const partNumber = partNumberAt(offset, this.#partBytes);
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
    const next = offset + bytes.length;
    if (known) known.offset = next;
    else this.#known.set(session.id, { ...upload, offset: next });
    return next;
  }

  async complete(session: S3ChunkSession, signal?: AbortSignal): Promise<S3UploadMeta> {
    const upload = this.#upload(session);
    const { bucket } = this;
    const { key } = upload;
    let etag: string | undefined;
    if (session.size === 0) {
      // A multipart upload needs at least one part, so an empty file is a plain PutObject.
      const put = new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0), ...contentType(session) });
      etag = (await this.#send(() => this.#client.send(put, { abortSignal: signal }))).ETag;
      await this.abort(session).catch(() => undefined);
      return { bucket, key, etag: etag || undefined, size: 0 };
    }
    // The parts, wherever they were written, are what S3 lists; they must make exactly the file.
    const parts = await this.#send(() => listParts(this.#client, { bucket, ...upload }, signal));
    const { chain, offset } = chainOf(parts, this.#partBytes);
    if (offset !== session.size) throw new Error(`upload ${session.id} holds ${offset} bytes in order, expected ${session.size}`);
    const command = new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: upload.uploadId,
      MultipartUpload: { Parts: chain.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
    });
    etag = (await this.#send(() => this.#client.send(command, { abortSignal: signal }))).ETag;
    this.#known.delete(session.id);
    if (session.metadata) await this.#deleteRecord(session.id);
    if (!etag) {
      // radosgw 16 answers Complete with an empty ETag; HeadObject has the real one.
      // Best effort: the object is complete, so a failure here must not fail the upload.
      const head = new HeadObjectCommand({ Bucket: bucket, Key: key });
      etag = await this.#client.send(head).then(
        (out) => out.ETag,
        () => undefined,
      );
    }
    return { bucket, key, etag: etag || undefined, size: session.size };
  }

  async abort(session: S3ChunkSession): Promise<void> {
    const upload = session.state?.uploadId ? stateOf(session) : this.#known.get(session.id);
    this.#known.delete(session.id);
    if (session.metadata) await this.#deleteRecord(session.id).catch(() => undefined);
    if (!upload) return;
    const command = new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.key, UploadId: upload.uploadId });
    try {
      await this.#send(() => this.#client.send(command));
    } catch (error) {
      if (errorName(error) !== 'NoSuchUpload') throw error;
    }
  }

  /**
   * `resume`: the open upload `id` (created with `metadata`) with its durable
   * offset (the bytes its parts hold in order), or undefined.
   */
  async get(id: string, signal?: AbortSignal): Promise<S3StoredUpload | undefined> {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) return undefined;
    let text: string;
    try {
      const out = await this.#send(() => this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#recordKey(id) }), { abortSignal: signal }));
      text = (await out.Body?.transformToString()) ?? '';
    } catch (error) {
      if (errorName(error) === 'NoSuchKey' || errorName(error) === 'NotFound') return undefined;
      throw error;
    }
    const record = JSON.parse(text) as { key: string; uploadId: string; size: number; contentType: string | null; metadata?: Record<string, string>; createdAt: number };
    let parts;
    try {
      parts = await this.#send(() => listParts(this.#client, { bucket: this.bucket, key: record.key, uploadId: record.uploadId }, signal));
    } catch (error) {
      if (errorName(error) !== 'NoSuchUpload') throw error;
      await this.#deleteRecord(id).catch(() => undefined); // completed or aborted elsewhere: the record is stale
      return undefined;
    }
    const { chain, offset } = chainOf(parts, this.#partBytes);
    this.#known.set(id, { key: record.key, uploadId: record.uploadId, offset });
    const updatedAt = Math.max(record.createdAt, ...chain.map((p) => p.LastModified?.getTime() ?? 0));
    return {
      id,
      size: record.size,
      ...(record.contentType !== null ? { contentType: record.contentType } : {}),
      ...(record.metadata ? { metadata: record.metadata } : {}),
      state: { key: record.key, uploadId: record.uploadId },
      offset,
      updatedAt,
    };
  }

  #recordKey(id: string): string {
    return `${this.#prefix}${RECORD_FOLDER}${id}.json`;
  }

  async #deleteRecord(id: string): Promise<void> {
    await this.#send(() => this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#recordKey(id) })));
  }

  /** The upload's key and id: from the state its caller handed back, or what this instance knows. */
  #upload(session: S3ChunkSession): { key: string; uploadId: string } {
    if (session.state?.uploadId) return stateOf(session);
    const known = this.#known.get(session.id);
    if (!known) throw new Error(`no multipart upload for session ${session.id}: pass the state create() returned as upload.state`);
    return { key: known.key, uploadId: known.uploadId };
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

function stateOf(session: S3ChunkSession): { key: string; uploadId: string } {
  const { key, uploadId } = session.state ?? {};
  if (typeof key !== 'string' || typeof uploadId !== 'string') throw new Error(`upload ${session.id}: its state lacks key or uploadId`);
  return { key, uploadId };
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
