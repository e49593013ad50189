/**
 * The upload store conformance cases. Every store Inlet ships runs them
 * (test/conformance/stores.test.ts), and so can any store an app writes:
 * each case is a plain async function that throws on failure, so it fits any
 * test runner. Cases for capabilities a store does not declare are skipped,
 * and the declared ones are held to their word.
 *
 * @example
 * for (const c of storeConformanceCases({ create: () => new MyStore(), read: (meta) => … }))
 *   it(c.name, c.run)
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { chunkFromBuffer, isTransientStoreError, type ChunkBody, type UploadRecord, type UploadStore } from '../uploads/store.js';
import type { ConformanceCase } from './writer-conformance.js';

/**
 * How the cases reach a store under test.
 *
 * @example
 * const target: StoreUnderTest<DiskStore> = { create: () => new DiskStore({ dir }), chunkBytes: 128 * 1024 }
 * for (const c of storeConformanceCases(target)) it(c.name, c.run)
 */
export interface StoreUnderTest<S extends UploadStore = UploadStore> {
  /** A store; called once per case. Stores of one case call share storage (a second call "restarts"). */
  create(): S | Promise<S>;
  /** The bytes of a completed upload, from what `complete` returned. Default: `meta.path` read from disk, or `meta.data`. */
  read?(meta: Record<string, unknown>, store: S): Buffer | Promise<Buffer>;
  /** Whether anything of the upload is left in storage after `abort` (parts, files). Default: not checked. */
  leftovers?(upload: UploadRecord, store: S): boolean | Promise<boolean>;
  /** Chunk size the cases write with; at least the store's `minWriteBytes`. Default 64 KiB. */
  chunkBytes?: number;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`store conformance: ${message}`);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A body that yields `data` in pieces of `piece` bytes but declares `declared` bytes. */
function pieces(data: Buffer, piece: number, declared = data.length): ChunkBody {
  return {
    length: declared,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
    },
  };
}

async function defaultRead(meta: Record<string, unknown>): Promise<Buffer> {
  if (typeof meta.path === 'string') return readFile(meta.path);
  if (Buffer.isBuffer(meta.data)) return meta.data;
  throw new Error('store conformance: pass `read` for a store whose meta has neither `path` nor `data`');
}

/** The error a promise rejects with, or undefined when it resolves. */
function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of stream) out.push(Buffer.from(piece));
  return Buffer.concat(out);
}

const record = (size: number, extra: Partial<UploadRecord> = {}): UploadRecord => ({
  id: `conf-${randomUUID()}`,
  size,
  contentType: 'application/octet-stream',
  ...extra,
});

/** Writes `data` from `offset` in chunks of `chunk` bytes; returns the final offset. */
async function writeFrom(store: UploadStore, upload: UploadRecord, data: Buffer, chunk: number, offset = 0): Promise<number> {
  let at = offset;
  while (at < data.length) {
    const piece = data.subarray(at, Math.min(at + chunk, data.length));
    const next = await store.write(upload, at, chunkFromBuffer(piece));
    check(next === at + piece.length, `write of ${piece.length} bytes at ${at} returned ${next}`);
    at = next;
  }
  return at;
}

/**
 * The cases every UploadStore must pass.
 * @example
 * for (const c of storeConformanceCases({ create: () => new MyStore() })) it(c.name, () => c.run())
 */
export function storeConformanceCases<S extends UploadStore>(subject: StoreUnderTest<S>): ConformanceCase[] {
  const read = (meta: Record<string, unknown>, store: S) => (subject.read ? subject.read(meta, store) : defaultRead(meta));
  const chunkOf = (store: UploadStore) => Math.max(subject.chunkBytes ?? 64 * 1024, store.minWriteBytes ?? 0);
  const cases: ConformanceCase[] = [
    {
      name: 'stores an upload written in chunks, byte-exact',
      async run() {
        const store = await subject.create();
        const chunk = chunkOf(store);
        const data = randomBytes(3 * chunk + 4321);
        const upload = record(data.length);
        await store.create(upload);
        await writeFrom(store, upload, data, chunk);
        const meta = await store.complete(upload);
        check(sha(await read(meta, store)) === sha(data), 'stored bytes differ from the bytes written');
        check(meta.size === undefined || meta.size === data.length, `meta.size is ${String(meta.size)}, expected ${data.length}`);
      },
    },
    {
      name: 'keeps two uploads written in turn apart',
      async run() {
        const store = await subject.create();
        const chunk = chunkOf(store);
        const a = randomBytes(2 * chunk + 1);
        const b = randomBytes(2 * chunk + 2);
        const ua = record(a.length);
        const ub = record(b.length);
        await store.create(ua);
        await store.create(ub);
        for (let at = 0; at < Math.max(a.length, b.length); at += chunk) {
          if (at < a.length) await store.write(ua, at, chunkFromBuffer(a.subarray(at, at + chunk)));
          if (at < b.length) await store.write(ub, at, chunkFromBuffer(b.subarray(at, at + chunk)));
        }
        check(sha(await read(await store.complete(ua), store)) === sha(a), 'first upload corrupted by the second');
        check(sha(await read(await store.complete(ub), store)) === sha(b), 'second upload corrupted by the first');
      },
    },
    {
      name: 'completes a zero-byte upload',
      async run() {
        const store = await subject.create();
        const upload = record(0);
        await store.create(upload);
        const meta = await store.complete(upload);
        check((await read(meta, store)).length === 0, 'a zero-byte upload stored bytes');
      },
    },
    {
      name: 'a write whose body ends short keeps a prefix (all of it with `partial`, none without) and the upload goes on',
      async run() {
        const store = await subject.create();
        const chunk = chunkOf(store);
        const data = randomBytes(2 * chunk);
        const upload = record(data.length);
        await store.create(upload);
        const short = Math.floor(chunk / 2);
        const kept = await store.write(upload, 0, pieces(data.subarray(0, short), 4096, chunk));
        if (store.capabilities.has('partial')) check(kept === short, `a partial store kept ${kept} of ${short} bytes`);
        else check(kept === 0, `a store without 'partial' kept ${kept} bytes of a short write`);
        await writeFrom(store, upload, data, chunk, kept);
        check(sha(await read(await store.complete(upload), store)) === sha(data), 'bytes differ after a short write');
      },
    },
    {
      name: 'refuses a write that does not start at the durable offset, and loses nothing',
      async run() {
        const store = await subject.create();
        const chunk = chunkOf(store);
        const data = randomBytes(2 * chunk);
        const upload = record(data.length);
        await store.create(upload);
        await store.write(upload, 0, chunkFromBuffer(data.subarray(0, chunk)));
        const gap = await failureOf(store.write(upload, chunk + 1, chunkFromBuffer(data.subarray(chunk + 1))));
        check(gap instanceof Error, 'a write past the durable offset was accepted');
        check(!isTransientStoreError(gap), 'a write at the wrong offset was called transient (the client would retry it forever)');
        const again = await failureOf(store.write(upload, 0, chunkFromBuffer(data.subarray(0, chunk))));
        check(again instanceof Error, 'a write before the durable offset (a replay) was accepted');
        await store.write(upload, chunk, chunkFromBuffer(data.subarray(chunk)));
        check(sha(await read(await store.complete(upload), store)) === sha(data), 'refused writes changed the stored bytes');
      },
    },
    {
      name: 'refuses to complete an upload that is missing bytes',
      async run() {
        const store = await subject.create();
        const chunk = chunkOf(store);
        const upload = record(2 * chunk);
        await store.create(upload);
        await store.write(upload, 0, chunkFromBuffer(randomBytes(chunk)));
        const failure = await failureOf(store.complete(upload));
        check(failure instanceof Error, 'completed an upload with half its bytes');
        await store.abort(upload);
      },
    },
    {
      name: 'abort discards the upload, and tolerates uploads it never created',
      async run() {
        const store = await subject.create();
        const chunk = chunkOf(store);
        const upload = record(2 * chunk);
        await store.create(upload);
        await store.write(upload, 0, chunkFromBuffer(randomBytes(chunk)));
        await store.abort(upload);
        if (subject.leftovers) check(!(await subject.leftovers(upload, store)), 'abort left data behind');
        if (store.capabilities.has('resume')) check((await store.get?.(upload.id)) === undefined, 'get still finds an aborted upload');
        await store.abort(upload);
        await store.abort(record(1));
      },
    },
    {
      name: 'an aborted signal stops a write and keeps at most what was durable',
      async run() {
        const store = await subject.create();
        const chunk = chunkOf(store);
        const data = randomBytes(2 * chunk);
        const upload = record(data.length);
        await store.create(upload);
        const controller = new AbortController();
        controller.abort(new Error('cancelled by the test'));
        const failure = await failureOf(store.write(upload, 0, chunkFromBuffer(data.subarray(0, chunk)), controller.signal));
        check(failure instanceof Error, 'a write with an aborted signal succeeded');
        await store.abort(upload);
      },
    },
  ];
  cases.push(
    {
      name: 'another store instance continues the upload from the state `create` returned, and finishes it',
      async run() {
        const first = await subject.create();
        const chunk = chunkOf(first);
        const data = randomBytes(3 * chunk + 77);
        const plain = record(data.length);
        const state = await first.create(plain);
        check(state === undefined || (typeof state === 'object' && Object.values(state).every((v) => typeof v === 'string')), 'create resolved to something other than string state');
        const upload: UploadRecord = state ? { ...plain, state } : plain;
        check(JSON.stringify(JSON.parse(JSON.stringify(upload))) === JSON.stringify(upload), 'the upload record with its state does not survive JSON');
        // Chunks alternate between this instance and a second one on the same storage (two nodes).
        const second = await subject.create();
        let at = 0;
        for (let i = 0; at < data.length; i++) {
          const piece = data.subarray(at, Math.min(at + chunk, data.length));
          const next = await [first, second][i % 2]!.write(upload, at, chunkFromBuffer(piece));
          check(next === at + piece.length, `write ${i} of ${piece.length} bytes at ${at} (instance ${i % 2}) returned ${next}`);
          at = next;
        }
        const third = await subject.create();
        check(sha(await read(await third.complete(upload), third)) === sha(data), 'bytes differ after another instance continued the upload');
      },
    },
    {
      name: '`resume`: a new store instance finds an open upload with its offset and metadata, and it can be finished',
      async run() {
        const store = await subject.create();
        if (!store.capabilities.has('resume')) return;
        check(typeof store.get === 'function', "declares 'resume' but has no get()");
        const chunk = chunkOf(store);
        const data = randomBytes(2 * chunk + 10);
        const upload = record(data.length, { metadata: { owner: 'o1', name: 'clip.mp4' } });
        await store.create(upload);
        await store.write(upload, 0, chunkFromBuffer(data.subarray(0, chunk)));
        const restarted = await subject.create();
        const found = await restarted.get?.(upload.id);
        check(found !== undefined, 'get found nothing after a restart');
        check(found.offset === chunk, `get reported offset ${found.offset}, expected ${chunk}`);
        check(found.size === data.length, `get reported size ${found.size}, expected ${data.length}`);
        check(found.metadata?.owner === 'o1' && found.metadata.name === 'clip.mp4', 'metadata did not survive');
        check((await restarted.get?.(`conf-${randomUUID()}`)) === undefined, 'get found an upload that never existed');
        await writeFrom(restarted, upload, data, chunk, found.offset);
        check(sha(await read(await restarted.complete(upload), restarted)) === sha(data), 'bytes differ after resuming');
        check((await restarted.get?.(upload.id)) === undefined, 'get still finds a completed upload');
      },
    },
    {
      name: '`list`: lists open uploads created with metadata',
      async run() {
        const store = await subject.create();
        if (!store.capabilities.has('list')) return;
        check(typeof store.list === 'function', "declares 'list' but has no list()");
        const upload = record(10, { metadata: { k: 'v' } });
        await store.create(upload);
        await store.write(upload, 0, chunkFromBuffer(randomBytes(4)));
        const ids: string[] = [];
        for await (const u of store.list()) ids.push(u.id);
        check(ids.includes(upload.id), 'list did not show an open upload');
        await store.abort(upload);
        const after: string[] = [];
        for await (const u of store.list()) after.push(u.id);
        check(!after.includes(upload.id), 'list still shows an aborted upload');
      },
    },
    {
      name: '`read`: reads back exactly the stored bytes of an open upload',
      async run() {
        const store = await subject.create();
        if (!store.capabilities.has('read')) return;
        check(typeof store.read === 'function', "declares 'read' but has no read()");
        const chunk = chunkOf(store);
        const data = randomBytes(2 * chunk);
        const upload = record(data.length * 2, { metadata: { k: 'v' } });
        await store.create(upload);
        await writeFrom(store, upload, data, chunk);
        check(sha(await collect(store.read(upload.id, 0, data.length))) === sha(data), 'read returned other bytes');
        check((await collect(store.read(upload.id, 7, 1007))).equals(data.subarray(7, 1007)), 'a ranged read returned other bytes');
        await store.abort(upload);
      },
    },
    {
      name: '`local-path`: complete returns the path of a local file holding the bytes',
      async run() {
        const store = await subject.create();
        if (!store.capabilities.has('local-path')) return;
        const data = randomBytes(1000);
        const upload = record(data.length);
        await store.create(upload);
        await store.write(upload, 0, chunkFromBuffer(data));
        const meta = await store.complete(upload);
        check(typeof meta.path === 'string', "declares 'local-path' but meta.path is not a string");
        check(sha(await readFile(meta.path)) === sha(data), 'the file at meta.path holds other bytes');
      },
    },
    {
      name: 'refuses ids that could escape its storage',
      async run() {
        const store = await subject.create();
        const failure = await failureOf(store.create({ id: '../escape', size: 1 }));
        check(failure instanceof Error, 'created an upload with the id "../escape"');
      },
    },
  );
  return cases;
}
