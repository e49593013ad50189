// The server under fuzz: the example app on 127.0.0.1, port 0, in its own
// process. Started by protocol.fuzz.test.ts as
//   node --expose-gc --import ./test/fuzz/register-ts.mjs test/fuzz/server.mjs
// with INLET_FUZZ_SECRET, INLET_FUZZ_STORE (upload store root) and
// INLET_FUZZ_TMP (upload temp folder) in the environment.
//
// Prints one JSON line `{"url": …, "pid": …}` once listening. Serves its own
// figures at GET /__fuzz/stats (RSS, heap, what the server logged, grouped by
// kind, with a few samples); `?gc=1` collects garbage first. Exits when its
// stdin closes, so it never outlives the test.
import { createServer } from 'inletjs/node';
import { exampleOptions } from '../../examples/app.js';

const env = process.env;
const SAMPLES = 30;
const logs = new Map();
const samples = [];
const BUILTIN_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Groups log lines by kind: ids, refs, quoted names and numbers are blanked. */
function kindOf(message) {
  return message
    .replace(/\blvu?:\S+/g, '<topic>')
    .replace(/phx-[\w-]+/g, '<id>')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\d+/g, 'N')
    .slice(0, 120);
}

const thrownIn = { inlet: 0, app: 0, ws: 0, 'by-design': 0, other: 0 };

/**
 * Where an error was thrown: `by-design` for the documented crash of a view
 * without handleEvent (as Phoenix's UndefinedFunctionError), else the first
 * stack frame with a file path: `inletjs` (packages/), `app` (examples/), `ws`.
 */
function origin(error) {
  if (/^view has no handleEvent/.test(error.message)) return 'by-design';
  const frame = String(error?.stack ?? '').split('\n').find((l) => /\bat\b.*(file:|\/)/.test(l)) ?? '';
  if (frame.includes('/examples/')) return 'app';
  if (frame.includes('/packages/')) return 'inletjs';
  if (frame.includes('/node_modules/ws/')) return 'ws';
  return 'other';
}

function log(message, error) {
  const kind = kindOf(String(message));
  logs.set(kind, (logs.get(kind) ?? 0) + 1);
  const where = error instanceof Error ? origin(error) : undefined;
  if (where) thrownIn[where]++;
  // A few samples of each origin, so rare ones are not crowded out.
  if (samples.length < SAMPLES && samples.filter((x) => x.where === where).length < 5) {
    samples.push({ where, message: String(message).slice(0, 300), error: error instanceof Error ? String(error.stack).slice(0, 1500) : error === undefined ? undefined : String(error).slice(0, 300) });
  }
}

function stats(req, res) {
  if (!req.url?.startsWith('/__fuzz/stats')) return false;
  if (req.url.includes('gc=1')) globalThis.gc?.();
  const mem = process.memoryUsage();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ pid: process.pid, uptimeS: process.uptime(), rss: mem.rss, heapUsed: mem.heapUsed, logs: Object.fromEntries(logs), thrownIn, samples, polluted: Object.getOwnPropertyNames(Object.prototype).filter((k) => !BUILTIN_KEYS.has(k)) }));
  return true;
}

const server = createServer(
  exampleOptions({
    secret: env.INLET_FUZZ_SECRET,
    storeRoot: env.INLET_FUZZ_STORE,
    uploadTmpDir: env.INLET_FUZZ_TMP,
    s3: null,
    handler: stats,
    log,
  }),
);
await server.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().then(() => process.exit(0));
});
