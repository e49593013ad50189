/**
 * LiveView's writer shape (`Phoenix.LiveView.UploadWriter`), kept so the
 * `writer` option maps one to one onto LiveView's docs. A writer is created
 * per entry when its upload channel joins; chunks arrive in order, one at a
 * time. Inlet adapts each writer to the one storage contract
 * ({@link writerStore}); new code should implement an `UploadStore` instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkBody, StoreCapability, UploadRecord, UploadStore } from './store.js';

/**
 * How an upload ended, as the writer's `close` learns it.
 *
 * @example
 * // an UploadWriter's close: keep the file only when the upload finished
 * async close(reason: CloseReason) {
 *   if (reason !== 'done') await unlink(tmpPath) // 'cancel', or { error } after a failed write
 * }
 */
export type CloseReason = 'done' | 'cancel' | { readonly error: string };

/**
 * The writer contract. Throwing from `init` or `writeChunk` fails the entry
 * with a `writer_failure`; the channel then calls `close({ error })`.
 *
 * @example
 * const writer: UploadWriter = {
 *   init() {}, meta: () => ({ chunks }), writeChunk(c) { chunks.push(c) }, close() {},
 * }
 */
export interface UploadWriter {
  init(): void | Promise<void>;
  /** What consume functions receive as `meta` (the default writer gives `{ path, size, sha256 }`). */
  meta(): Record<string, unknown>;
  writeChunk(chunk: Buffer): void | Promise<void>;
  close(reason: CloseReason): void | Promise<void>;
}

/**
 * The default writer: streams chunks to a fresh file in the upload temp dir,
 * hashing as it goes. Only one chunk is in memory at a time. On cancel or
 * error the file is removed.
 * @example
 * socket.allowUpload('doc', { accept: 'any', writer: () => new TmpFileWriter('/var/tmp/uploads') })
 */
export class TmpFileWriter implements UploadWriter {
  readonly path: string;
  #file?: FileHandle;
  #size = 0;
  readonly #hash = createHash('sha256');
  #sha256?: string;

  constructor(dir: string) {
    this.path = join(dir, `upload-${Date.now().toString(36)}-${randomBytes(9).toString('base64url')}`);
  }

  async init(): Promise<void> {
    this.#file = await open(this.path, 'wx', 0o600);
  }

  meta(): Record<string, unknown> {
    return { path: this.path, size: this.#size, ...(this.#sha256 ? { sha256: this.#sha256 } : {}) };
  }

  async writeChunk(chunk: Buffer): Promise<void> {
    const file = this.#file;
    if (!file) throw new Error('writer is not open');
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await file.write(chunk, written, chunk.length - written, this.#size + written);
      written += bytesWritten;
    }
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  async close(reason: CloseReason): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file) await file.close().catch(() => undefined);
    if (reason === 'done') this.#sha256 = this.#hash.digest('hex');
    else await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Keeps chunks in memory. For tests and small files only.
 * @example
 * socket.allowUpload('avatar', { accept: ['.png'], maxFileSize: 100_000, writer: () => new MemoryWriter() })
 */
export class MemoryWriter implements UploadWriter {
  readonly chunks: Buffer[] = [];
  #closed?: CloseReason;

  init(): void {}
  meta(): Record<string, unknown> {
    return { data: Buffer.concat(this.chunks), size: this.chunks.reduce((n, c) => n + c.length, 0) };
  }
  writeChunk(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
  }
  close(reason: CloseReason): void {
    this.#closed = reason;
    if (reason !== 'done') this.chunks.length = 0;
  }
  get closedWith(): CloseReason | undefined {
    return this.#closed;
  }
}

/**
 * Adapts one writer (one upload) to the storage contract: `create` runs
 * `init`, each write's bytes go to `writeChunk`, `complete` closes with
 * `'done'` and returns `meta()`, and `abort` closes with `{ error }` after a
 * failed write or with `'cancel'` otherwise.
 *
 * @example
 * const store = writerStore(new MemoryWriter())
 */
export function writerStore(writer: UploadWriter): UploadStore {
  let failure: string | undefined;
  let closed = false;
  const close = async (reason: CloseReason): Promise<void> => {
    if (closed) return;
    closed = true;
    await writer.close(reason);
  };
  return {
    capabilities: new Set<StoreCapability>(),
    async create(): Promise<void> {
      await writer.init();
    },
    async write(_upload: UploadRecord, offset: number, chunk: ChunkBody): Promise<number> {
      let at = offset;
      try {
        for await (const piece of chunk) {
          await writer.writeChunk(Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length));
          at += piece.length;
        }
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
        throw e;
      }
      return at;
    },
    async complete(): Promise<Record<string, unknown>> {
      await close('done');
      return writer.meta();
    },
    async abort(): Promise<void> {
      await close(failure !== undefined ? { error: failure } : 'cancel');
    },
  };
}
