#!/usr/bin/env node
// Redis round trips per chunk, counted by the server (INFO commandstats): the
// sequence a node runs for each chunk of a shared upload, on
// RedisUploadStateStore, with chunks alternating between three clients (three
// nodes). Target: at most 2 per chunk, O(1) in the file's size and part count.
//
//   npm run build && node bench/cluster-roundtrips.mjs [--chunks 200]
//
// Per chunk: `claim` (take the lease and read the record: one EVALSHA) and
// `commit` (compare-and-set the offset, append the part, release: one
// EVALSHA). The count also includes what an upload costs once (create, the
// final read with every part, end). Commands are counted with MONITOR, which
// tags the commands a Lua script runs inside Redis as "lua": those cost no
// round trip and are left out. Each command a client sends is at most one
// round trip (commands sent together share one), so the count bounds round
// trips from above.
//
// Status: this drives the state store directly, as the receiver will once it
// is wired to it (issue #9 step 4); the same count through the HTTP receiver
// replaces this loop then.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisClient, RedisUploadStateStore } from '@inletjs/redis';

const args = process.argv.slice(2);
const CHUNKS = Number(args[args.indexOf('--chunks') + 1] || 200);
const PART = 5 * 1024 * 1024;

async function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true))).on('error', () => r(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error('redis-server did not start');
}

/** Commands clients sent (not the ones scripts ran inside Redis), by name, seen by MONITOR. */
const seen = {};
async function watch(monitor) {
  await monitor.monitor((line) => {
    const m = /^[\d.]+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
    if (!m || m[1] === 'lua') return;
    const name = m[2].toLowerCase();
    seen[name] = (seen[name] ?? 0) + 1;
  });
}
async function commandCalls(client) {
  await client.ping(); // a marker: MONITOR has seen everything sent before it
  await sleep(50);
  const snapshot = { ...seen };
  snapshot.ping = (snapshot.ping ?? 0) - 1;
  return snapshot;
}

const diff = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]).filter(([, v]) => v > 0));
const sum = (o) => Object.values(o).reduce((x, y) => x + y, 0);

const port = await freePort();
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
try {
  await waitPort(port);
  const url = `redis://127.0.0.1:${port}`;
  const admin = await createRedisClient({ url });
  await watch(await createRedisClient({ url }));
  const nodes = await Promise.all([0, 1, 2].map(async () => new RedisUploadStateStore({ client: await createRedisClient({ url }) })));
  // Warm the script cache (the first EVALSHA of each script after a restart also costs an EVAL).
  await nodes[0].create('warm', { maxSize: 1, expiresAt: Date.now() + 60_000, owner: {} });
  const w = await nodes[0].claim('warm', 1000);
  await nodes[0].commit('warm', w.lease, { from: 0 });

  const id = `upload-${Date.now()}`;
  const total = CHUNKS * PART;
  const before = await commandCalls(admin);
  await nodes[0].create(id, { maxSize: total, expiresAt: Date.now() + 60_000, owner: { viewId: 'v' }, store: { uploadId: 'u' } });
  const afterCreate = await commandCalls(admin);
  for (let i = 0; i < CHUNKS; i++) {
    const node = nodes[i % 3];
    const c = await node.claim(id, 30_000);
    if (c.kind !== 'claimed') throw new Error(`chunk ${i}: ${c.kind}`);
    const r = await node.commit(id, c.lease, {
      from: c.record.offset,
      offset: c.record.offset + PART,
      total,
      part: { offset: c.record.offset, size: PART, etag: `"${i}"` },
      expiresAt: Date.now() + 60_000,
    });
    if (r !== 'committed') throw new Error(`chunk ${i}: ${r}`);
  }
  const afterChunks = await commandCalls(admin);
  const last = await nodes[1].claim(id, 30_000, { parts: true });
  if (last.kind !== 'claimed' || last.record.parts.length !== CHUNKS) throw new Error('parts lost');
  await nodes[1].commit(id, last.lease, { from: total, state: 'complete', meta: { key: 'k' } });
  const c2 = await nodes[2].claim(id, 30_000);
  await nodes[2].end(id, c2.lease, 'complete', 60_000);
  const afterAll = await commandCalls(admin);

  const perChunk = diff(afterCreate, afterChunks);
  const once = { ...diff(before, afterCreate) };
  for (const [k, v] of Object.entries(diff(afterChunks, afterAll))) once[k] = (once[k] ?? 0) + v;
  delete once.ping;
  delete perChunk.ping;
  console.log(`Redis commands for one upload of ${CHUNKS} chunks of 5 MiB, alternating over 3 nodes (counted by redis-server):`);
  console.log(`  per chunk: ${(sum(perChunk) / CHUNKS).toFixed(2)} (${Object.entries(perChunk).map(([k, v]) => `${k} ${v}`).join(', ')}) -> at most ${(sum(perChunk) / CHUNKS).toFixed(2)} round trips per chunk (target <= 2)`);
  console.log(`  once per upload: ${sum(once)} (${Object.entries(once).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  process.exit(0);
} finally {
  server.kill('SIGKILL');
}
