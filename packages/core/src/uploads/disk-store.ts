/**
 * The default {@link UploadStore}: one file per upload in one directory.
 * Bytes are written positionally into `<dir>/<id>.part` as they stream in
 * (memory is bounded by {@link DISK_WRITE_BATCH_BYTES}, whatever the chunk
 * size), beside a small `<id>.json` record; on completion the file is renamed
 * to `<dir>/<id>` and the record removed. The durable offset is the part
 * file's length, so a restarted process finds every upload that was created
 * with metadata (the record) where it stopped.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertSafeUploadId,
  StoreOffsetError,
  TransientStoreError,
  type ChunkBody,
  type StoreCapability,
  type StoredUpload,
  type UploadRecord,
  type UploadStore,
} from './store.js';

/**
 * Bytes gathered from the network before one `writev` to disk.
 *
 * @example
 * // about the most memory DiskStore writes hold with 200 uploads under way, whatever their chunk size
 * const worstCase = 200 * DISK_WRITE_BATCH_BYTES // 200 MiB
 */
export const DISK_WRITE_BATCH_BYTES = 1024 * 1024;
/** Suffix of files still being written. */
export const PART_SUFFIX = '.part';
/** Suffix of an open upload's record. */
export const RECORD_SUFFIX = '.json';

/** `errno` codes that may clear up on their own; they become {@link TransientStoreError}. */
const TRANSIENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);

/**
 * Options of {@link DiskStore}.
 *
 * @example
 * const options: DiskStoreOptions = { dir: '/var/lib/app/uploads', fsync: true }
 * socket.allowUpload('contract', { accept: ['.pdf'], store: new DiskStore(options) })
 */
export interface DiskStoreOptions {
  /** Directory for upload files; created on first use. */
  readonly dir: string;
  /**
   * fsync the file (and the directory) on completion, so a finished upload
   * survives a power loss. Default false: a finished upload is usually moved
   * by its consumer at once, and end-to-end checksums catch torn data.
   */
  readonly fsync?: boolean;
}

/**
 * What {@link DiskStore.complete} hands to the consumer.
 *
 * @example
 * const store = new DiskStore({ dir: '/var/tmp/uploads' })
 * // … create and write `upload`, then:
 * const { path, size }: DiskUploadMeta = await store.complete(upload)
 */
export interface DiskUploadMeta extends Record<string, unknown> {
  /** Path of the finished file, inside the store's directory. */
  path: string;
  size: number;
}

interface RecordFile {
  readonly v: 1;
  readonly size: number;
  readonly contentType?: string;
  readonly metadata?: Record<string, string>;
}

/**
 * Stores uploads as files in one directory. A write whose body ends short
 * keeps what arrived, so a dropped connection loses nothing already on disk.
 * Finished files are left for the consumer to move or delete.
 *
 * @example
 * const store = new DiskStore({ dir: join(tmpdir(), 'inlet-uploads') });
 * await store.create({ id: 'a1', size: 5 });
 * await store.write({ id: 'a1', size: 5 }, 0, chunkFromBuffer(Buffer.from('hello')));
 * const { path } = await store.complete({ id: 'a1', size: 5 });
 */
export class DiskStore implements UploadStore {
  readonly capabilities: ReadonlySet<StoreCapability> = new Set<StoreCapability>(['partial', 'resume', 'list', 'read', 'local-path']);
  readonly dir: string;
  readonly #fsync: boolean;
  #dirReady: Promise<unknown> | undefined;

  constructor(options: DiskStoreOptions) {
    this.dir = options.dir;
    this.#fsync = options.fsync ?? false;
  }

  /** Path of the finished file of an upload. */
  pathOf(upload: Pick<UploadRecord, 'id'>): string {
    return join(this.dir, assertSafeUploadId(upload.id));
  }

  async create(upload: UploadRecord): Promise<void> {
    await guard(async () => {
      this.#dirReady ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
        this.#dirReady = undefined;
        throw error;
      });
      await this.#dirReady;
      if (upload.metadata !== undefined) {
        // Only uploads with metadata are meant to be found again; the record
        // goes in place by rename, so a crash never leaves half of it.
        const record: RecordFile = {
          v: 1,
          size: upload.size,
          ...(upload.contentType !== undefined ? { contentType: upload.contentType } : {}),
          metadata: { ...upload.metadata },
        };
        const temp = `${this.#recordPath(upload)}.tmp`;
        await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
        await rename(temp, this.#recordPath(upload));
      }
      const handle = await open(this.#partPath(upload), 'w', 0o600);
      await handle.close();
    });
  }

  async write(upload: UploadRecord, offset: number, chunk: ChunkBody, signal?: AbortSignal): Promise<number> {
    return guard(async () => {
      signal?.throwIfAborted();
      const handle = await open(this.#partPath(upload), 'r+');
      try {
        const { size } = await handle.stat();
        if (size !== offset) throw new StoreOffsetError(upload.id, offset, size);
        return await writeStream(handle, offset, chunk, signal);
      } finally {
        await handle.close();
      }
    });
  }

  async complete(upload: UploadRecord): Promise<DiskUploadMeta> {
    return guard(async () => {
      const part = this.#partPath(upload);
      const handle = await open(part, 'r+');
      try {
        const { size } = await handle.stat();
        if (size !== upload.size) throw new Error(`${part} holds ${size} bytes, expected ${upload.size}`);
        if (this.#fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      const path = this.pathOf(upload);
      await rename(part, path);
      await removeIfThere(this.#recordPath(upload));
      if (this.#fsync) await syncDir(this.dir);
      return { path, size: upload.size };
    });
  }

  async abort(upload: UploadRecord): Promise<void> {
    await removeIfThere(this.#partPath(upload));
    await removeIfThere(this.#recordPath(upload));
  }

  async get(id: string): Promise<StoredUpload | undefined> {
    const part = join(this.dir, assertSafeUploadId(id) + PART_SUFFIX);
    let info;
    let text: string;
    try {
      [info, text] = await Promise.all([stat(part), readFile(join(this.dir, id + RECORD_SUFFIX), 'utf8')]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const record = parseRecord(text);
    if (!record) return undefined;
    return {
      id,
      size: record.size,
      ...(record.contentType !== undefined ? { contentType: record.contentType } : {}),
      ...(record.metadata !== undefined ? { metadata: record.metadata } : {}),
      offset: info.size,
      updatedAt: info.mtimeMs,
    };
  }

  async *list(): AsyncIterable<StoredUpload> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      if (!name.endsWith(RECORD_SUFFIX)) continue;
      const id = name.slice(0, -RECORD_SUFFIX.length);
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) continue;
      const found = await this.get(id);
      if (found) yield found;
    }
  }

  async *read(id: string, start: number, end: number, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    if (end <= start) return;
    const stream = createReadStream(join(this.dir, assertSafeUploadId(id) + PART_SUFFIX), {
      start,
      end: end - 1,
      highWaterMark: DISK_WRITE_BATCH_BYTES,
      ...(signal ? { signal } : {}),
    });
    for await (const piece of stream) yield piece as Buffer;
  }

  /** True when an upload's finished file exists (for tests and diagnostics). */
  async has(upload: Pick<UploadRecord, 'id'>): Promise<boolean> {
    return stat(this.pathOf(upload)).then(
      () => true,
      () => false,
    );
  }

  #partPath(upload: Pick<UploadRecord, 'id'>): string {
    return this.pathOf(upload) + PART_SUFFIX;
  }

  #recordPath(upload: Pick<UploadRecord, 'id'>): string {
    return this.pathOf(upload) + RECORD_SUFFIX;
  }
}

function parseRecord(text: string): RecordFile | undefined {
  try {
    const r = JSON.parse(text) as Partial<RecordFile>;
    if (r.v !== 1 || typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 0) return undefined;
    return r as RecordFile;
  } catch {
    return undefined;
  }
}

/**
 * Streams `chunk` into the file at `offset`, one batch on disk while the next
 * is gathered from the network. Resolves to the offset after the last byte
 * written; an abort stops between batches, keeping what is written.
 */
async function writeStream(handle: FileHandle, offset: number, chunk: ChunkBody, signal?: AbortSignal): Promise<number> {
  let position = offset;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;

  const flush = async (): Promise<void> => {
    await inFlight;
    if (failure) throw failure.error;
    const buffers = batch;
    const at = position;
    position += batchBytes;
    batch = [];
    batchBytes = 0;
    // Attach the handler now so a failure never becomes an unhandled rejection.
    inFlight = writeAll(handle, buffers, at).catch((error: unknown) => {
      failure = { error };
    });
  };

  try {
    for await (const piece of chunk) {
      if (signal?.aborted) break;
      batch.push(piece);
      batchBytes += piece.length;
      if (batchBytes >= DISK_WRITE_BATCH_BYTES) await flush();
    }
    if (batchBytes > 0 && !signal?.aborted) await flush();
  } finally {
    await inFlight;
  }
  if (failure) throw failure.error;
  signal?.throwIfAborted();
  return position;
}

async function writeAll(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    at += bytesWritten;
    pending = dropBytes(pending, bytesWritten);
  }
}

/** `buffers` without their first `n` bytes (after a short `writev`). */
function dropBytes(buffers: Uint8Array[], n: number): Uint8Array[] {
  let left = n;
  let i = 0;
  while (i < buffers.length && left >= (buffers[i]?.length ?? 0)) {
    left -= buffers[i]?.length ?? 0;
    i += 1;
  }
  const rest = buffers.slice(i);
  const first = rest[0];
  if (first && left > 0) rest[0] = first.subarray(left);
  return rest;
}

async function removeIfThere(path: string): Promise<void> {
  await unlink(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
}

async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not every platform can fsync a directory; the file itself is synced.
  } finally {
    await handle?.close();
  }
}

/** Converts errno failures worth retrying into {@link TransientStoreError}. */
async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && TRANSIENT_CODES.has(code)) {
      throw new TransientStoreError(`disk store: ${code}`, { cause: error });
    }
    throw error;
  }
}
