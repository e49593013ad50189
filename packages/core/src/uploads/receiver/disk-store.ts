/**
 * The default {@link ChunkStore}: one file per session on local disk. Chunks
 * are written positionally into `<dir>/<id>.part` as they stream in (memory
 * use is bounded by {@link DISK_WRITE_BATCH_BYTES}, whatever the chunk size);
 * on completion the file is fsynced and renamed to `<dir>/<id>`.
 */
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TransientStoreError, type ChunkBody, type ChunkStore, type ChunkStoreSession } from './store.js';

/** Bytes gathered from the network before one `writev` to disk. */
export const DISK_WRITE_BATCH_BYTES = 1024 * 1024;
/** Suffix of files still being written. */
export const PART_SUFFIX = '.part';

/** `errno` codes that may clear up on their own; they answer 503 instead of failing the upload. */
const TRANSIENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);

/** Options of {@link DiskChunkStore}. */
export interface DiskChunkStoreOptions {
  /** Directory for upload files; created on first use. */
  dir: string;
}

/** What {@link DiskChunkStore.complete} hands to the consumer. */
export interface DiskUploadMeta extends Record<string, unknown> {
  /** Absolute or `dir`-relative path of the finished file. */
  path: string;
  size: number;
}

/**
 * Stores uploads as files in one directory. Bytes a `write` received before
 * its body ended short stay written and count towards the offset, so a
 * dropped connection loses nothing already on disk. "Durable" here means
 * written to the file (it survives a crash of this process); the file is
 * fsynced once, on completion.
 *
 * Finished files are left for the consumer to move or delete.
 *
 * @example
 * const store = new DiskChunkStore({ dir: join(tmpdir(), 'inlet-uploads') });
 * const sessions = new SessionRegistry({ store });
 * sessions.onComplete((s, meta) => console.log('stored at', meta.path));
 */
export class DiskChunkStore implements ChunkStore {
  readonly dir: string;
  #dirReady: Promise<unknown> | undefined;

  constructor(options: DiskChunkStoreOptions) {
    this.dir = options.dir;
  }

  /** Path of the finished file of a session. */
  pathOf(session: Pick<ChunkStoreSession, 'id'>): string {
    return join(this.dir, safeName(session.id));
  }

  async create(session: ChunkStoreSession): Promise<void> {
    await guard(async () => {
      this.#dirReady ??= mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
        this.#dirReady = undefined;
        throw error;
      });
      await this.#dirReady;
      const handle = await open(this.#partPath(session), 'w');
      await handle.close();
    });
  }

  async write(session: ChunkStoreSession, offset: number, chunk: ChunkBody): Promise<number> {
    return guard(async () => {
      const handle = await open(this.#partPath(session), 'r+');
      try {
        return await writeStream(handle, offset, chunk);
      } finally {
        await handle.close();
      }
    });
  }

  async complete(session: ChunkStoreSession): Promise<DiskUploadMeta> {
    return guard(async () => {
      const part = this.#partPath(session);
      const handle = await open(part, 'r+');
      try {
        const { size } = await handle.stat();
        if (size !== session.total) {
          throw new Error(`${part} holds ${size} bytes, expected ${session.total}`);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const path = this.pathOf(session);
      await rename(part, path);
      await syncDir(this.dir);
      return { path, size: session.total };
    });
  }

  async abort(session: ChunkStoreSession): Promise<void> {
    await unlink(this.#partPath(session)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }

  /** True when a session's finished file exists (for tests and diagnostics). */
  async has(session: Pick<ChunkStoreSession, 'id'>): Promise<boolean> {
    return stat(this.pathOf(session)).then(
      () => true,
      () => false,
    );
  }

  #partPath(session: Pick<ChunkStoreSession, 'id'>): string {
    return this.pathOf(session) + PART_SUFFIX;
  }
}

/**
 * Streams `chunk` into the file at `offset`, one batch on disk while the next
 * is gathered from the network. Resolves to the offset after the last byte
 * written.
 */
async function writeStream(handle: FileHandle, offset: number, chunk: ChunkBody): Promise<number> {
  let position = offset;
  let batch: Buffer[] = [];
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

  for await (const piece of chunk) {
    batch.push(piece);
    batchBytes += piece.length;
    if (batchBytes >= DISK_WRITE_BATCH_BYTES) await flush();
  }
  if (batchBytes > 0) await flush();
  await inFlight;
  if (failure) throw failure.error;
  return position;
}

async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    at += bytesWritten;
    pending = dropBytes(pending, bytesWritten);
  }
}

/** `buffers` without their first `n` bytes (after a short `writev`). */
function dropBytes(buffers: Buffer[], n: number): Buffer[] {
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

/** Session ids are UUIDs; refuse anything that could leave `dir`. */
function safeName(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new RangeError(`unsafe session id for a file name: ${id}`);
  return id;
}
