import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DISK_WRITE_BATCH_BYTES, DiskStore } from './disk-store.js';
import { chunkFromBuffer, StoreOffsetError, type ChunkBody, type UploadRecord } from './store.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A body that yields `data` in pieces of `piece` bytes, declaring `declared` bytes. */
function pieces(data: Buffer, piece: number, declared = data.length): ChunkBody {
  return {
    length: declared,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
    },
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-disk-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const session = (size: number, id = 'b7f1c0de-0000-4000-8000-000000000001'): UploadRecord => ({ id, size });

describe('DiskStore', () => {
  it('writes streamed chunks positionally, then renames on completion', async () => {
    const store = new DiskStore({ dir: join(dir, 'nested'), fsync: true });
    const data = randomBytes(3 * DISK_WRITE_BATCH_BYTES + 12345);
    const s = session(data.length);
    await store.create(s);
    const cut = DISK_WRITE_BATCH_BYTES + 7;
    expect(await store.write(s, 0, pieces(data.subarray(0, cut), 65536))).toBe(cut);
    expect(await store.write(s, cut, pieces(data.subarray(cut), 16384))).toBe(data.length);
    const meta = await store.complete(s);
    expect(meta).toEqual({ path: store.pathOf(s), size: data.length });
    expect(sha(await readFile(meta.path))).toBe(sha(data));
    expect(await readdir(join(dir, 'nested'))).toEqual([s.id]);
  });

  it('keeps the bytes of a body that ended short and reports the true offset', async () => {
    const store = new DiskStore({ dir });
    const data = randomBytes(1000);
    const s = session(data.length);
    await store.create(s);
    expect(await store.write(s, 0, pieces(data.subarray(0, 300), 100, 600))).toBe(300);
    expect(await store.write(s, 300, pieces(data.subarray(300), 128))).toBe(1000);
    const { path } = await store.complete(s);
    expect(sha(await readFile(path))).toBe(sha(data));
  });

  it('refuses to complete a file whose size differs from the total', async () => {
    const store = new DiskStore({ dir });
    const s = session(10);
    await store.create(s);
    await store.write(s, 0, chunkFromBuffer(Buffer.alloc(5)));
    await expect(store.complete(s)).rejects.toThrow(/holds 5 bytes, expected 10/);
  });

  it('completes a zero-byte file', async () => {
    const store = new DiskStore({ dir });
    const s = session(0);
    await store.create(s);
    const { path } = await store.complete(s);
    expect((await stat(path)).size).toBe(0);
    expect(await store.has(s)).toBe(true);
  });

  it('abort removes the partial file and tolerates a missing one', async () => {
    const store = new DiskStore({ dir });
    const s = session(10);
    await store.create(s);
    await store.write(s, 0, chunkFromBuffer(Buffer.alloc(5)));
    await store.abort(s);
    expect(await readdir(dir)).toEqual([]);
    await expect(store.abort(s)).resolves.toBeUndefined();
    await expect(store.abort(session(1, 'never-created'))).resolves.toBeUndefined();
  });

  it('refuses ids that could escape the directory', () => {
    const store = new DiskStore({ dir });
    expect(() => store.pathOf({ id: '../etc/passwd' })).toThrow(RangeError);
  });

  it('refuses a write that does not start at the durable offset, and keeps the file as it was', async () => {
    const store = new DiskStore({ dir });
    const s = { ...session(10), metadata: { owner: 'a' } };
    await store.create(s);
    await store.write(s, 0, chunkFromBuffer(Buffer.from('abcd')));
    await expect(store.write(s, 2, chunkFromBuffer(Buffer.from('xx')))).rejects.toBeInstanceOf(StoreOffsetError);
    await expect(store.write(s, 9, chunkFromBuffer(Buffer.from('x')))).rejects.toBeInstanceOf(StoreOffsetError);
    expect((await store.get(s.id))?.offset).toBe(4);
  });

  it('a permanent failure (file gone) is not transient', async () => {
    const store = new DiskStore({ dir });
    const s = session(10);
    const failure = await store.write(s, 0, chunkFromBuffer(Buffer.alloc(5))).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'ENOENT' });
    expect((failure as { transient?: boolean }).transient).toBeUndefined();
  });
});
