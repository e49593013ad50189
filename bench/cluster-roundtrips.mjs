#!/usr/bin/env node
// Redis round trips per chunk, counted by the server (MONITOR): one upload of
// many chunks through the real chunk receiver, on three nodes (three
// SessionRegistry instances, each with its own Redis connections:
// RedisUploadStateStore + RedisPubSub, and its own HTTP server), with the
// chunks sent to the nodes in turn as a round-robin proxy would. Target: at
// most 2 per chunk, O(1) in the file's size and part count.
//
//   flock /tmp/inlet-bench.lock node --import ./test/fuzz/register-ts.mjs bench/cluster-roundtrips.mjs [--chunks 200] [--kib 256]
//
// Per chunk, in the request's path: `claim` (take the lease and read the
// record: one EVALSHA) and `commit` (compare-and-set the offset, save the
// hash state, release: one EVALSHA). Besides, a chunk stored on a node other
// than the one holding the view tells that node about progress with one
// PUBLISH, which the request does not wait for. MONITOR tags the commands a
// Lua script runs inside Redis as "lua": those cost no round trip and are
// left out. The bytes go to one in-process store shared by the three
// registries (Redis is what is counted, not S3).
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer as createHttpServer } from 'node:http';
import { randomBytes, createHash } from 'node:crypto';
import { createRedisClient, RedisPubSub, RedisUploadStateStore } from '@inletjs/redis';
import { MemoryStore } from 'inletjs';
import { createReceiverHandler, SessionRegistry } from '../packages/core/src/uploads/receiver/index.ts';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const CHUNKS = opt('chunks', 200);
const CHUNK = opt('kib', 256) * 1024;

/** One store the three registries share, as S3 is shared by real nodes. */
class SharedMemoryStore extends MemoryStore {
  capabilities = new Set([...this.capabilities, 'shared']);
  // What a shared store hands over is small (S3: bucket, key, ETag); the record keeps it for every node.
  async complete(upload, signal) {
    const { size } = await super.complete(upload, signal);
    return { size };
  }
}
const quiet = process.env.DEBUG_RT ? { error: console.error, warn: console.error, info() {}, debug() {} } : { error() {}, warn() {}, info() {}, debug() {} };

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
  const store = new SharedMemoryStore({ maxBytes: 2 * CHUNKS * CHUNK + 4 * CHUNK });
  const nodes = await Promise.all(
    [0, 1, 2].map(async () => {
      const client = await createRedisClient({ url });
      const pubsub = new RedisPubSub({ client });
      const registry = new SessionRegistry({ store, states: new RedisUploadStateStore({ client }), pubsub, sweepIntervalMs: 0, logger: quiet });
      await registry.start();
      const handle = createReceiverHandler(registry);
      const server = createHttpServer((req, res) => handle(req, res) || res.writeHead(404).end());
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      return { registry, pubsub, client, server, url: `http://127.0.0.1:${server.address().port}` };
    }),
  );
  const data = randomBytes(CHUNKS * CHUNK);
  const put = (node, token, start, end) =>
    fetch(`${node.url}/_inlet/uploads/${token}`, { method: 'PUT', headers: { 'content-range': `bytes ${start}-${end}/${data.length}` }, body: data.subarray(start, end + 1) });
  // Warm the script cache (the first EVALSHA of each script after a restart also costs an EVAL) and the connections.
  const warm = await nodes[0].registry.mint({ maxSize: data.length, entry: { viewId: 'warm', confRef: '0', entryRef: '0' } });
  for (const [i, n] of nodes.entries()) await (await put(n, warm.token, i * CHUNK, (i + 1) * CHUNK - 1)).arrayBuffer();
  await nodes[0].registry.cancel(warm.token);

  let meta;
  nodes[0].registry.onComplete((_s, m) => (meta = m));
  const before = await commandCalls(admin);
  const minted = await nodes[0].registry.mint({ maxSize: data.length, entry: { viewId: 'v', confRef: '0', entryRef: '0' } });
  const afterCreate = await commandCalls(admin);
  let statuses = '';
  for (let i = 0; i < CHUNKS - 1; i++) {
    const res = await put(nodes[i % 3], minted.token, i * CHUNK, (i + 1) * CHUNK - 1);
    await res.arrayBuffer();
    if (res.status !== 308) throw new Error(`chunk ${i}: ${res.status}`);
  }
  const afterChunks = await commandCalls(admin);
  const last = await put(nodes[(CHUNKS - 1) % 3], minted.token, (CHUNKS - 1) * CHUNK, data.length - 1);
  statuses = String(last.status);
  if (last.status !== 201) console.error('last chunk:', last.status, last.headers.get('range'), await last.clone().text());
  await last.arrayBuffer();
  for (let i = 0; i < 100 && !meta; i++) await sleep(10);
  await nodes[0].registry.consumed(minted.token);
  const afterAll = await commandCalls(admin);
  const sha = createHash('sha256').update(data).digest('hex');
  if (statuses !== '201' || meta?.sha256 !== sha) throw new Error(`upload did not complete byte-exact (${statuses}, ${meta?.sha256})`);

  const perChunk = diff(afterCreate, afterChunks);
  const once = { ...diff(before, afterCreate) };
  for (const [k, v] of Object.entries(diff(afterChunks, afterAll))) once[k] = (once[k] ?? 0) + v;
  delete once.ping;
  delete perChunk.ping;
  const n = CHUNKS - 1;
  const awaited = sum(perChunk) - (perChunk.publish ?? 0);
  console.log(`uptime: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`Redis commands for one upload of ${CHUNKS} chunks of ${CHUNK / 1024} KiB through the HTTP receiver, alternating over 3 nodes (counted by redis-server; sha256 checked):`);
  console.log(`  per chunk (${n} chunks before the last): ${(sum(perChunk) / n).toFixed(2)} commands (${Object.entries(perChunk).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  console.log(`    in the request's path: ${(awaited / n).toFixed(2)} round trips per chunk (target <= 2)`);
  console.log(`    not waited for: ${((perChunk.publish ?? 0) / n).toFixed(2)} PUBLISH per chunk (progress to the view's node, for the 2 chunks in 3 stored elsewhere)`);
  console.log(`  once per upload (mint, last chunk with completion, consume): ${sum(once)} (${Object.entries(once).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  for (const node of nodes) {
    await node.registry.close();
    node.server.closeAllConnections();
    node.server.close();
    await node.pubsub.close();
  }
  process.exit(0);
} finally {
  server.kill('SIGKILL');
}
