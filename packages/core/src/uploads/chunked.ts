/**
 * External uploads to Inlet's own resumable receiver: a presign hook that
 * mints a receiver session bound to the entry and hands the client the
 * `UpChunk` uploader's metadata. The server, which sees every byte, reports
 * progress and completion to the view itself.
 */
import { checkOptions, InletOptionError, integer, string, type Schema } from '../options.js';
import { uploadStoreCheck, type UploadStore } from './store.js';
import type { SessionRegistry } from './receiver/sessions.js';
import type { ExternalMeta, UploadEntry } from './socket-api.js';

/**
 * Default UpChunk chunk size in KiB (5 MiB: also the smallest S3 multipart part).
 *
 * @example
 * // 2 × the default: 10 MiB chunks, fewer requests for very large files
 * socket.allowUpload('video', { external: chunkedUpload({ chunkSizeKiB: 2 * DEFAULT_CHUNKED_CHUNK_KIB }) })
 */
export const DEFAULT_CHUNKED_CHUNK_KIB = 5120;

/**
 * Options of `chunkedUpload`: resumable UpChunk/Content-Range uploads to the receiver.
 * @example
 * socket.allowUpload('video', { accept: ['video/*'], external: chunkedUpload({ chunkSizeKiB: 1024, ttlMs: 3_600_000 }) })
 */
export interface ChunkedUploadOptions {
  /** Chunk size in KiB, a multiple of 256. Default {@link DEFAULT_CHUNKED_CHUNK_KIB}. */
  readonly chunkSizeKiB?: number;
  /** Where the bytes go. Default: the server's receiver store (local disk). */
  readonly store?: UploadStore;
  /** Idle session lifetime. Default: the receiver's. */
  readonly ttlMs?: number;
  /** Client uploader name. Default `'UpChunk'`. */
  readonly uploader?: string;
  /** UpChunk attempts per chunk. Default UpChunk's (5). */
  readonly attempts?: number;
  /** Ms UpChunk waits before retrying a chunk. Default UpChunk's (1000). */
  readonly delayBeforeAttempt?: number;
}

const CHUNKED = Symbol.for('inlet.chunkedUpload');

/** UpChunk's largest chunk, KiB. */
export const MAX_CHUNKED_CHUNK_KIB = 512_000;


/** What `chunkedUpload` accepts; a bad value throws `INLET_ERR_CONFIG_OPTION` naming the option. */
export const CHUNKED_UPLOAD_OPTIONS_SCHEMA: Schema = {
  chunkSizeKiB: (value, path) => {
    integer(256, MAX_CHUNKED_CHUNK_KIB)(value, path);
    if ((value as number) % 256 !== 0) throw new InletOptionError(path, `must be a multiple of 256, got ${value as number}.`);
  },
  store: uploadStoreCheck,
  ttlMs: integer(1),
  uploader: string(),
  attempts: integer(1, 100),
  delayBeforeAttempt: integer(0),
};

/** An `external` presign hook served by the built-in receiver. */
export type ChunkedPresign = ((entry: UploadEntry) => ExternalMeta) & { readonly [CHUNKED]: ChunkedUploadOptions };

/**
 * The presign hook for chunked, resumable uploads to the built-in receiver.
 *
 * @example
 * socket.allowUpload('video', { accept: ['video/*'], maxFileSize: 2e9, external: chunkedUpload() })
 */
export function chunkedUpload(options: ChunkedUploadOptions = {}): ChunkedPresign {
  checkOptions(options, CHUNKED_UPLOAD_OPTIONS_SCHEMA, 'chunkedUpload');
  const kib = options.chunkSizeKiB ?? DEFAULT_CHUNKED_CHUNK_KIB;
  const fn = (() => {
    throw new Error('chunkedUpload() presigns through the upload manager; pass it as `external`.');
  }) as unknown as ChunkedPresign;
  Object.defineProperty(fn, CHUNKED, { value: { ...options, chunkSizeKiB: kib } });
  return fn;
}

/** The options of a chunked presign hook, or undefined for any other function. */
export function chunkedOptions(fn: unknown): ChunkedUploadOptions | undefined {
  return typeof fn === 'function' ? (fn as Partial<ChunkedPresign>)[CHUNKED] : undefined;
}

/** Callbacks for one receiver session. */
export interface SessionHandlers {
  progress(offset: number, total: number): void;
  complete(meta: Record<string, unknown>): void;
  error(reason: string, cause?: unknown): void;
}

/**
 * Connects the receiver's session events to the views that minted them.
 */
export class ReceiverLink {
  readonly registry: SessionRegistry;
  readonly #handlers = new Map<string, SessionHandlers>();

  constructor(registry: SessionRegistry) {
    this.registry = registry;
    registry.onProgress((s, offset, total) => this.#handlers.get(s.id)?.progress(offset, total));
    registry.onComplete((s, meta) => this.#handlers.get(s.id)?.complete(meta));
    registry.onError((s, reason, cause) => this.#handlers.get(s.id)?.error(reason, cause));
  }

  /** Routes a session's events to `handlers` until the returned function is called. */
  bind(sessionId: string, handlers: SessionHandlers): () => void {
    this.#handlers.set(sessionId, handlers);
    return () => this.#handlers.delete(sessionId);
  }

  get bound(): number {
    return this.#handlers.size;
  }
}
