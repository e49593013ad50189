// An Inlet server in its own process, for suites that kill it, or measure its
// memory, file descriptors and event-loop delay. Started by child.ts as
//   node --expose-gc --import ./test/fuzz/register-ts.mjs test/faults/server-child.mjs
// (the fuzz suite's loader: Inlet's TypeScript sources, same aliases as vitest).
//
// Environment: INLET_CHILD_SECRET, INLET_CHILD_STORE (store root),
// INLET_CHILD_TMP (upload temp base), INLET_CHILD_RECEIVER_TTL_MS (optional).
// Routes: the example app, plus /faulty (the self-checking fault view, see
// views.mjs), /faulty-default (the same with the default writer) and /slow
// (slow writer).
//
// Prints one JSON line {"url","pid"} once listening. GET /__child/stats
// answers {pid, rss, heapUsed, fds, eld: {p50, p99, max} (ms, since the last
// ?reset=1), logged, logSamples, consumed: {ok, bad, badSamples}}; ?gc=1 collects garbage
// first. Exits when stdin closes, so it never outlives its test.
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createServer } from 'inletjs/node';
import { exampleOptions } from '../../examples/app.js';
import { createFaultView, createSlowView } from './views.mjs';

const env = process.env;
const records = [];
const counters = { injected: 0 };
const logged = new Map();
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

const logSamples = [];

function log(message, error) {
  const kind = String(message).replace(/lvu?:\S+|phx-[\w-]+|\d+/g, 'N').slice(0, 100);
  logged.set(kind, (logged.get(kind) ?? 0) + 1);
  if (logSamples.length < 10) logSamples.push(`${message}: ${error instanceof Error ? String(error.stack).split('\n').slice(0, 6).join(' | ') : String(error)}`);
}

function fds() {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

const ms = (ns) => Math.round((ns / 1e6) * 10) / 10;

function stats(req, res) {
  if (!req.url?.startsWith('/__child/stats')) return false;
  const url = new URL(req.url, 'http://x');
  if (url.searchParams.get('gc') === '1') globalThis.gc?.();
  const mem = process.memoryUsage();
  const body = {
    pid: process.pid,
    uptimeS: Math.round(process.uptime()),
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    fds: fds(),
    eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean) },
    logged: Object.fromEntries(logged),
    logSamples,
    consumed: { ok: records.filter((r) => r.ok).length, bad: records.filter((r) => !r.ok).length, badSamples: records.filter((r) => !r.ok).slice(0, 5) },
    injected: counters.injected,
  };
  if (url.searchParams.get('reset') === '1') eld.reset();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
}

const store = env.INLET_CHILD_STORE;
const tmp = env.INLET_CHILD_TMP;
const base = exampleOptions({
  secret: env.INLET_CHILD_SECRET,
  storeRoot: store,
  uploadTmpDir: tmp,
  s3: null,
  handler: stats,
  log,
  ...(env.INLET_CHILD_RECEIVER_TTL_MS ? { receiver: { ttlMs: Number(env.INLET_CHILD_RECEIVER_TTL_MS) } } : {}),
});
const server = createServer({
  ...base,
  routes: {
    ...base.routes,
    '/faulty': createFaultView({ dir: `${store}/faulty`, writerDir: `${tmp}/writers`, records, counters }),
    // The default temp-file writer: its files live in this process's own folder.
    '/faulty-default': createFaultView({ dir: `${store}/faulty-default`, records, counters }),
    '/slow': createSlowView({ dir: `${store}/slow`, writerDir: `${tmp}/writers` }),
  },
});
await server.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().then(() => process.exit(0));
});
