/**
 * Conformance cases for what several nodes share about uploads: the
 * per-upload lock (UploadLocker), quota counters (QuotaCounter) and upload
 * records with their lease (UploadStateStore). Run by cluster.test.ts for the
 * in-memory defaults and the Redis implementations; a user's implementation
 * can run them too. Each factory is called once per node, so a shared backend
 * is exercised across separate clients.
 */
import assert from 'node:assert/strict';
import type { QuotaCounter, UploadLocker, UploadStateStore } from 'inletjs';

export interface Case {
  readonly name: string;
  run(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const uid = (name: string) => `${name}-${process.pid}-${Date.now()}-${++seq}`;

/** `nodes(n)`: n handles on one shared backend. */
export function lockCases(nodes: (n: number) => Promise<UploadLocker[]>): Case[] {
  return [
    {
      name: 'one holder at a time; release frees the key for another node',
      run: async () => {
        const [a, b] = (await nodes(2)) as [UploadLocker, UploadLocker];
        const key = uid('lock');
        const t1 = await a.acquire(key, 10_000);
        assert.ok(t1);
        assert.equal(await b.acquire(key, 10_000), undefined);
        assert.equal(await a.acquire(key, 10_000), undefined, 'not re-entrant');
        assert.equal(await b.release(key, 'not-the-token'), false);
        assert.equal(await a.release(key, t1), true);
        assert.equal(await a.release(key, t1), false, 'a second release is a no-op');
        const t2 = await b.acquire(key, 10_000);
        assert.ok(t2);
        assert.notEqual(t2, t1);
        assert.equal(await b.release(key, t2), true);
      },
    },
    {
      name: 'a lock held by a dead node expires; its late release cannot free the new holder',
      run: async () => {
        const [dead, alive] = (await nodes(2)) as [UploadLocker, UploadLocker];
        const key = uid('expiry');
        const stale = await dead.acquire(key, 150);
        assert.ok(stale);
        assert.equal(await alive.acquire(key, 5_000), undefined);
        await sleep(300);
        const fresh = await alive.acquire(key, 5_000);
        assert.ok(fresh, 'lapsed lock can be taken');
        assert.equal(await dead.release(key, stale), false);
        assert.equal(await dead.extend(key, stale, 5_000), false);
        assert.equal(await dead.acquire(key, 5_000), undefined, 'the new holder still holds it');
        assert.equal(await alive.release(key, fresh), true);
      },
    },
    {
      name: 'extend keeps a lock past its first lifetime',
      run: async () => {
        const [a, b] = (await nodes(2)) as [UploadLocker, UploadLocker];
        const key = uid('extend');
        const t = await a.acquire(key, 200);
        assert.ok(t);
        await sleep(100);
        assert.equal(await a.extend(key, t, 1_000), true);
        await sleep(250);
        assert.equal(await b.acquire(key, 1_000), undefined, 'still held after the first TTL');
        assert.equal(await a.release(key, t), true);
      },
    },
    {
      name: 'of many concurrent acquirers on many nodes, exactly one wins',
      run: async () => {
        const all = await nodes(3);
        const key = uid('race');
        const tries = await Promise.all(Array.from({ length: 30 }, (_, i) => all[i % all.length]!.acquire(key, 10_000)));
        assert.equal(tries.filter(Boolean).length, 1);
      },
    },
  ];
}

export function quotaCases(nodes: (n: number) => Promise<QuotaCounter[]>): Case[] {
  return [
    {
      name: 'reserves within both limits and refuses past either, changing nothing when refused',
      run: async () => {
        const [q] = (await nodes(1)) as [QuotaCounter];
        const key = uid('quota');
        const limits = { maxBytes: 1000, maxFiles: 2 };
        assert.deepEqual(await q.reserve(key, { bytes: 600, files: 1 }, limits), { ok: true, usage: { bytes: 600, files: 1 } });
        assert.deepEqual(await q.reserve(key, { bytes: 500, files: 1 }, limits), { ok: false, usage: { bytes: 600, files: 1 }, exceeded: 'bytes' });
        assert.deepEqual(await q.reserve(key, { bytes: 400, files: 1 }, limits), { ok: true, usage: { bytes: 1000, files: 2 } });
        assert.deepEqual(await q.reserve(key, { bytes: 0, files: 1 }, limits), { ok: false, usage: { bytes: 1000, files: 2 }, exceeded: 'files' });
        assert.deepEqual(await q.usage(key), { bytes: 1000, files: 2 });
        assert.deepEqual(await q.usage(uid('other')), { bytes: 0, files: 0 });
      },
    },
    {
      name: 'release refunds, never below zero; omitted limits are unlimited',
      run: async () => {
        const [q] = (await nodes(1)) as [QuotaCounter];
        const key = uid('refund');
        await q.reserve(key, { bytes: 2 ** 40, files: 3 }, {});
        assert.deepEqual(await q.release(key, { bytes: 2 ** 39, files: 1 }), { bytes: 2 ** 39, files: 2 });
        assert.deepEqual(await q.release(key, { bytes: 2 ** 41, files: 9 }), { bytes: 0, files: 0 });
        assert.deepEqual(await q.release(uid('never'), { bytes: 5, files: 1 }), { bytes: 0, files: 0 });
        await assert.rejects(() => q.reserve(key, { bytes: -1, files: 0 }, {}), RangeError);
        await assert.rejects(() => q.reserve(key, { bytes: 1.5, files: 0 }, {}), RangeError);
      },
    },
    {
      name: 'concurrent reservations from several nodes never overshoot the limit',
      run: async () => {
        const all = await nodes(3);
        const key = uid('concurrent');
        const limits = { maxBytes: 10_000, maxFiles: 1_000 };
        const results = await Promise.all(Array.from({ length: 90 }, (_, i) => all[i % 3]!.reserve(key, { bytes: 300, files: 1 }, limits)));
        const granted = results.filter((r) => r.ok).length;
        assert.equal(granted, Math.floor(10_000 / 300));
        assert.deepEqual(await all[0]!.usage(key), { bytes: granted * 300, files: granted });
        await Promise.all(Array.from({ length: granted }, (_, i) => all[i % 3]!.release(key, { bytes: 300, files: 1 })));
        assert.deepEqual(await all[1]!.usage(key), { bytes: 0, files: 0 });
      },
    },
    {
      name: 'a windowed quota resets after its period',
      run: async () => {
        const [q] = (await nodes(1)) as [QuotaCounter];
        const key = uid('window');
        const limits = { maxFiles: 1, periodMs: 200 };
        assert.equal((await q.reserve(key, { bytes: 0, files: 1 }, limits)).ok, true);
        assert.equal((await q.reserve(key, { bytes: 0, files: 1 }, limits)).ok, false);
        await sleep(300);
        assert.equal((await q.reserve(key, { bytes: 0, files: 1 }, limits)).ok, true);
      },
    },
  ];
}

export function uploadStateCases(nodes: (n: number) => Promise<UploadStateStore[]>): Case[] {
  const fresh = (total?: number) => ({
    maxSize: 1 << 30,
    expiresAt: Date.now() + 60_000,
    owner: { viewId: 'phx-1', confRef: '0', entryRef: '3' },
    ...(total === undefined ? {} : { total }),
    store: { key: 'uploads/x', uploadId: 'u-1' },
  });
  return [
    {
      name: 'create makes an open record at offset 0, once; get reads it back from any node',
      run: async () => {
        const [a, b] = (await nodes(2)) as [UploadStateStore, UploadStateStore];
        const id = uid('rec');
        assert.equal(await a.get(id), undefined);
        assert.equal(await a.create(id, fresh()), true);
        assert.equal(await b.create(id, fresh(5)), false);
        const r = await b.get(id, { parts: true });
        assert.ok(r);
        assert.equal(r.id, id);
        assert.equal(r.state, 'open');
        assert.equal(r.offset, 0);
        assert.equal(r.total, undefined);
        assert.equal(r.maxSize, 1 << 30);
        assert.deepEqual(r.owner, { viewId: 'phx-1', confRef: '0', entryRef: '3' });
        assert.deepEqual(r.store, { key: 'uploads/x', uploadId: 'u-1' });
        assert.equal(r.partCount, 0);
        assert.deepEqual(r.parts, []);
      },
    },
    {
      name: 'claim + commit advance the offset and append parts in order, seen by every node',
      run: async () => {
        const [a, b, c] = (await nodes(3)) as [UploadStateStore, UploadStateStore, UploadStateStore];
        const id = uid('chunks');
        await a.create(id, fresh());
        const size = 5 * 1024 * 1024;
        for (let i = 0; i < 4; i++) {
          const node = [a, b, c][i % 3]!;
          const claim = await node.claim(id, 10_000);
          assert.equal(claim.kind, 'claimed');
          if (claim.kind !== 'claimed') return;
          assert.equal(claim.record.offset, i * size);
          assert.equal(claim.record.partCount, i);
          const expiresAt = Date.now() + 60_000 + i;
          const result = await node.commit(id, claim.lease, {
            from: claim.record.offset,
            offset: (i + 1) * size,
            total: 4 * size,
            part: { offset: i * size, size, etag: `"etag-${i}"` },
            expiresAt,
          });
          assert.equal(result, 'committed');
        }
        const claim = await b.claim(id, 10_000, { parts: true });
        assert.equal(claim.kind, 'claimed');
        if (claim.kind !== 'claimed') return;
        assert.equal(claim.record.offset, 4 * size);
        assert.equal(claim.record.total, 4 * size);
        assert.deepEqual(
          claim.record.parts?.map((p) => p.etag),
          ['"etag-0"', '"etag-1"', '"etag-2"', '"etag-3"'],
        );
        assert.equal(
          await b.commit(id, claim.lease, { from: 4 * size, state: 'complete', meta: { bucket: 'b', key: 'k', size: 4 * size } }),
          'committed',
        );
        const done = await c.get(id);
        assert.equal(done?.state, 'complete');
        assert.deepEqual(done?.meta, { bucket: 'b', key: 'k', size: 4 * size });
        assert.equal(done?.partCount, 4);
        assert.equal(done?.parts, undefined, 'parts only when asked');
      },
    },
    {
      name: 'two nodes racing for one chunk: one claims, the other is told busy',
      run: async () => {
        const all = await nodes(3);
        const id = uid('race');
        await all[0]!.create(id, fresh());
        const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => all[i % 3]!.claim(id, 10_000)));
        assert.equal(claims.filter((c) => c.kind === 'claimed').length, 1);
        assert.equal(claims.filter((c) => c.kind === 'busy').length, 11);
      },
    },
    {
      name: 'a lease held by a dead node lapses; its late commit is refused and changes nothing',
      run: async () => {
        const [dead, alive] = (await nodes(2)) as [UploadStateStore, UploadStateStore];
        const id = uid('lapse');
        await dead.create(id, fresh());
        const old = await dead.claim(id, 150);
        assert.equal(old.kind, 'claimed');
        if (old.kind !== 'claimed') return;
        assert.equal((await alive.claim(id, 10_000)).kind, 'busy');
        await new Promise((r) => setTimeout(r, 300));
        const now = await alive.claim(id, 10_000);
        assert.equal(now.kind, 'claimed');
        if (now.kind !== 'claimed') return;
        assert.equal(await dead.commit(id, old.lease, { from: 0, offset: 100, part: { offset: 0, size: 100 } }), 'lost');
        assert.equal(await dead.renew(id, old.lease, 10_000), false);
        await dead.release(id, old.lease); // must not free the new holder's lease
        assert.equal((await dead.claim(id, 10_000)).kind, 'busy');
        assert.equal(await alive.commit(id, now.lease, { from: 0, offset: 50, part: { offset: 0, size: 50 } }), 'committed');
        const r = await dead.get(id, { parts: true });
        assert.equal(r?.offset, 50);
        assert.deepEqual(r?.parts, [{ offset: 0, size: 50 }]);
      },
    },
    {
      name: 'a commit from a stale offset is refused (compare-and-set), and renew extends a lease',
      run: async () => {
        const [a, b] = (await nodes(2)) as [UploadStateStore, UploadStateStore];
        const id = uid('stale');
        await a.create(id, fresh());
        const c1 = await a.claim(id, 10_000);
        if (c1.kind !== 'claimed') throw new Error(c1.kind);
        assert.equal(await a.commit(id, c1.lease, { from: 0, offset: 10 }), 'committed');
        const c2 = await b.claim(id, 200);
        if (c2.kind !== 'claimed') throw new Error(c2.kind);
        assert.equal(await b.commit(id, c2.lease, { from: 0, offset: 20, release: false }), 'stale');
        assert.equal(await b.renew(id, c2.lease, 2_000), true);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await a.claim(id, 1_000)).kind, 'busy', 'renewed past its first lifetime');
        assert.equal(await b.commit(id, c2.lease, { from: 10, offset: 20 }), 'committed');
        assert.equal((await a.get(id))?.offset, 20);
        assert.equal((await a.claim(id, 1_000)).kind, 'claimed', 'commit released the lease');
      },
    },
    {
      name: 'end needs the lease, leaves a tombstone that answers gone, then missing',
      run: async () => {
        const [a, b] = (await nodes(2)) as [UploadStateStore, UploadStateStore];
        const id = uid('end');
        await a.create(id, fresh());
        const c = await a.claim(id, 10_000);
        if (c.kind !== 'claimed') throw new Error(c.kind);
        assert.equal(await b.end(id, { token: 'forged' }, 'cancelled', 10_000), false);
        assert.equal(await a.end(id, c.lease, 'cancelled', 250), true);
        assert.equal(await b.get(id), undefined);
        assert.deepEqual(await b.claim(id, 1_000), { kind: 'gone', state: 'cancelled' });
        await new Promise((r) => setTimeout(r, 350));
        assert.deepEqual(await b.claim(id, 1_000), { kind: 'missing' });
        assert.equal(await a.create(id, fresh()), true, 'an id can be used again after its tombstone');
      },
    },
    {
      name: 'expired lists open uploads past their expiry, not live, complete or ended ones',
      run: async () => {
        const [a, b] = (await nodes(2)) as [UploadStateStore, UploadStateStore];
        const past = uid('past');
        const live = uid('live');
        const complete = uid('complete');
        await a.create(past, { ...fresh(), expiresAt: Date.now() - 1 });
        await a.create(live, fresh());
        await a.create(complete, { ...fresh(), expiresAt: Date.now() - 1 });
        const c = await a.claim(complete, 1_000);
        if (c.kind !== 'claimed') throw new Error(c.kind);
        await a.commit(complete, c.lease, { from: 0, state: 'complete' });
        const found = await b.expired(Date.now(), 10_000);
        assert.ok(found.includes(past));
        assert.ok(!found.includes(live));
        assert.ok(!found.includes(complete));
        const e = await b.claim(past, 1_000);
        if (e.kind !== 'claimed') throw new Error(e.kind);
        await b.end(past, e.lease, 'expired', 1_000);
        assert.ok(!(await a.expired(Date.now(), 10_000)).includes(past));
      },
    },
  ];
}
