/**
 * An {@link UploadStore} in process memory: for tests, and for small files an
 * app wants as a `Buffer` (`meta.data`) rather than a file.
 */
import {
  assertSafeUploadId,
  StoreOffsetError,
  type ChunkBody,
  type StoreCapability,
  type StoredUpload,
  type UploadRecord,
  type UploadStore,
} from './store.js';

/**
 * Default most bytes a memory store holds across all its uploads.
 *
 * @example
 * // four times the default: 256 MiB held at most
 * new MemoryStore({ maxBytes: 4 * DEFAULT_MEMORY_STORE_BYTES })
 */
export const DEFAULT_MEMORY_STORE_BYTES = 64 * 1024 * 1024;

interface Held {
  readonly record: UploadRecord;
  pieces: Buffer[];
  offset: number;
  updatedAt: number;
}

/**
 * Options of {@link MemoryStore}.
 *
 * @example
 * const options: MemoryStoreOptions = { maxBytes: 16 * 1024 * 1024 }
 * socket.allowUpload('avatar', { accept: ['image/*'], maxFileSize: 2_000_000, store: new MemoryStore(options) })
 */
export interface MemoryStoreOptions {
  /** Most bytes held at once; a write past it fails as not transient. Default {@link DEFAULT_MEMORY_STORE_BYTES}. */
  readonly maxBytes?: number;
}

/**
 * Keeps uploads in memory. `complete` hands the consumer `{ data, size }`.
 *
 * @example
 * socket.allowUpload('avatar', { accept: ['image/*'], store: new MemoryStore() })
 * // consume: (meta) => sharp(meta.data)…
 */
export class MemoryStore implements UploadStore {
  readonly capabilities: ReadonlySet<StoreCapability> = new Set<StoreCapability>(['partial', 'resume', 'list', 'read']);
  readonly #uploads = new Map<string, Held>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_MEMORY_STORE_BYTES;
  }

  /** Bytes held across all uploads. */
  get bytes(): number {
    return this.#bytes;
  }

  async create(upload: UploadRecord): Promise<void> {
    assertSafeUploadId(upload.id);
    this.#discard(upload.id);
    this.#uploads.set(upload.id, { record: { ...upload }, pieces: [], offset: 0, updatedAt: Date.now() });
  }

  async write(upload: UploadRecord, offset: number, chunk: ChunkBody, signal?: AbortSignal): Promise<number> {
    const held = this.#held(upload.id);
    if (offset !== held.offset) throw new StoreOffsetError(upload.id, offset, held.offset);
    for await (const piece of chunk) {
      if (signal?.aborted) break;
      if (this.#bytes + piece.length > this.#maxBytes) throw new Error(`memory store is full (${this.#maxBytes} bytes)`);
      // Copy: the caller may reuse its buffer.
      held.pieces.push(Buffer.from(piece));
      held.offset += piece.length;
      this.#bytes += piece.length;
    }
    held.updatedAt = Date.now();
    signal?.throwIfAborted();
    return held.offset;
  }

  async complete(upload: UploadRecord): Promise<{ data: Buffer; size: number }> {
    const held = this.#held(upload.id);
    if (held.offset !== upload.size) throw new Error(`upload ${upload.id} holds ${held.offset} bytes, expected ${upload.size}`);
    const data = Buffer.concat(held.pieces);
    this.#discard(upload.id);
    return { data, size: data.length };
  }

  async abort(upload: UploadRecord): Promise<void> {
    this.#discard(upload.id);
  }

  async get(id: string): Promise<StoredUpload | undefined> {
    const held = this.#uploads.get(id);
    return held ? { ...held.record, offset: held.offset, updatedAt: held.updatedAt } : undefined;
  }

  async *list(): AsyncIterable<StoredUpload> {
    for (const held of [...this.#uploads.values()]) yield { ...held.record, offset: held.offset, updatedAt: held.updatedAt };
  }

  async *read(id: string, start: number, end: number): AsyncIterable<Uint8Array> {
    const held = this.#held(id);
    let at = 0;
    for (const piece of held.pieces) {
      const from = Math.max(start, at);
      const to = Math.min(end, at + piece.length);
      if (from < to) yield piece.subarray(from - at, to - at);
      at += piece.length;
      if (at >= end) return;
    }
  }

  #held(id: string): Held {
    const held = this.#uploads.get(id);
    if (!held) throw new Error(`memory store holds no upload ${id}`);
    return held;
  }

  #discard(id: string): void {
    const held = this.#uploads.get(id);
    if (!held) return;
    this.#bytes -= held.offset;
    this.#uploads.delete(id);
  }
}
