#!/usr/bin/env node
// Pub/sub fan-out: one broadcast to 1,000 subscribers spread over three Inlet
// node processes sharing a real redis-server (RedisPubSub), against the same
// 1,000 subscribers in one process on MemoryPubSub. Prints p50/p99/max
// delivery latency (broadcast call -> subscriber called), over all
// subscribers and over the ones on other nodes only, and the ratios.
//
//   npm run build && flock /tmp/inlet-bench.lock node bench/cluster-pubsub.mjs [--messages 300] [--subscribers 1000] [--gap-ms 10]
//
// Each node is a child process (fork) with its own RedisPubSub and client;
// node 1 broadcasts, as a view on node 1 would, so a third of the subscribers
// are local to the broadcaster and two thirds are reached through Redis.
// Latency is measured with performance.timeOrigin + performance.now(), a
// clock every process on the machine shares. A subscriber only records the
// time (a real view would then run handleInfo and send a diff: that cost is
// the same on one node or three and is not pubsub's).
import { fork, spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MESSAGES = opt('messages', 300);
const SUBSCRIBERS = opt('subscribers', 1000);
const GAP_MS = opt('gap-ms', 10);
const NODES = 3;
const TOPIC = 'bench:fanout';
const now = () => performance.timeOrigin + performance.now();

// ---- child: one node ----
async function child() {
  const { createRedisClient, RedisPubSub } = await import('@inletjs/redis');
  const index = Number(args[1]);
  const subs = Number(args[2]);
  const client = await createRedisClient({ url: process.env.REDIS_URL });
  const pubsub = new RedisPubSub({ client });
  const latencies = [];
  for (let s = 0; s < subs; s++) await pubsub.subscribe(TOPIC, (m) => latencies.push(now() - m.sentAt));
  process.on('message', async (msg) => {
    if (msg.cmd === 'broadcast') {
      for (let i = 0; i < msg.count; i++) {
        await pubsub.broadcast(TOPIC, { sentAt: now(), i, text: 'a message of a typical size for a chat room' });
        await sleep(msg.gapMs);
      }
      process.send({ done: 'broadcast' });
    } else if (msg.cmd === 'report') {
      process.send({ report: { index, latencies } });
    } else if (msg.cmd === 'exit') {
      await pubsub.close();
      await client.close();
      process.exit(0);
    }
  });
  process.send({ ready: index });
}

function stats(values) {
  const sorted = Float64Array.from(values).sort();
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { n: sorted.length, p50: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] };
}

const fmt = (s) => `p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  max ${s.max.toFixed(2)} ms  (${s.n} deliveries)`;

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

async function memoryRun() {
  const { MemoryPubSub } = await import('inletjs');
  const pubsub = new MemoryPubSub();
  const latencies = [];
  for (let s = 0; s < SUBSCRIBERS; s++) await pubsub.subscribe(TOPIC, (m) => latencies.push(now() - m.sentAt));
  for (let i = 0; i < MESSAGES; i++) {
    // Through JSON like the Redis path, so both pay for a copy of the message.
    await pubsub.broadcast(TOPIC, JSON.parse(JSON.stringify({ sentAt: now(), i, text: 'a message of a typical size for a chat room' })));
    await sleep(GAP_MS);
  }
  await sleep(50);
  return stats(latencies);
}

async function redisRun(redisUrl) {
  const per = Math.floor(SUBSCRIBERS / NODES);
  const counts = Array.from({ length: NODES }, (_, i) => (i === NODES - 1 ? SUBSCRIBERS - per * (NODES - 1) : per));
  const self = fileURLToPath(import.meta.url);
  const children = counts.map((n, i) => fork(self, ['--child', String(i), String(n)], { env: { ...process.env, REDIS_URL: redisUrl } }));
  const once = (child, key) => new Promise((r) => child.on('message', (m) => m[key] !== undefined && r(m[key])));
  await Promise.all(children.map((c) => once(c, 'ready')));
  await sleep(200);
  const done = once(children[0], 'done');
  children[0].send({ cmd: 'broadcast', count: MESSAGES, gapMs: GAP_MS });
  await done;
  await sleep(300);
  const reports = await Promise.all(children.map((c) => { const r = once(c, 'report'); c.send({ cmd: 'report' }); return r; }));
  for (const c of children) c.send({ cmd: 'exit' });
  const all = reports.flatMap((r) => r.latencies);
  const remote = reports.filter((r) => r.index !== 0).flatMap((r) => r.latencies);
  const local = reports.find((r) => r.index === 0).latencies;
  return { all: stats(all), remote: stats(remote), local: stats(local), expected: MESSAGES * SUBSCRIBERS };
}

async function main() {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    await waitPort(port);
    console.log(`pubsub fan-out: ${MESSAGES} broadcasts, ${GAP_MS} ms apart, to ${SUBSCRIBERS} subscribers`);
    console.log(`machine: ${cpus().length} cores, load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const memory = await memoryRun();
    console.log(`MemoryPubSub, one node           ${fmt(memory)}`);
    const red = await redisRun(`redis://127.0.0.1:${port}`);
    console.log(`RedisPubSub, 3 nodes, all        ${fmt(red.all)}`);
    console.log(`  subscribers on the broadcaster ${fmt(red.local)}`);
    console.log(`  subscribers on the other nodes ${fmt(red.remote)}`);
    console.log(`delivered ${red.all.n} of ${red.expected}`);
    console.log(`ratio RedisPubSub (3 nodes) / MemoryPubSub (1 node): p50 ${(red.all.p50 / memory.p50).toFixed(1)}x, p99 ${(red.all.p99 / memory.p99).toFixed(1)}x`);
    console.log(`load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    redis.kill('SIGKILL');
  }
}

if (args[0] === '--child') await child();
else await main();
