#!/usr/bin/env node
// The 10,000-file batch (issue #11): N small files chosen at once in one input
// of the /uploads/batch example, uploaded by the official client's own uploader
// in headless Chromium. Prints the time from choosing to the last file saved,
// the server's peak RSS (its own process), and the WebSocket frames and bytes
// both ways (CDP Network.webSocketFrameSent/Received), with `uptime` load.
//
//   flock /tmp/inlet-chromium.lock flock /tmp/inlet-bench.lock node bench/batch.mjs [--files N] [--prof]
//
// --channels N raises the server's maxUploadChannels to N (maxChannels N + 50); --skip-lvjs, --skip-inlet,
// --max-seconds S (give up after S s). --prof writes a CPU profile of the server to $BENCH_DIR (node --cpu-prof).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { batchFile } from '../test/support/batch-files.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const FILES = Number(opt('files', 10_000));
/** Each run gives up this long after its last progress (or at --max-seconds in all) and says where it stood. */
const MAX_SECONDS = Number(opt('max-seconds', 600));
const SKIP_LVJS = args.includes('--skip-lvjs');
const SKIP_INLET = args.includes('--skip-inlet');
// ../shared/bench/liveviewjs beside the repository (or beside the main checkout, from a worktree in /work/wt).
const LVJS_SCRIPTS =
  process.env.LVJS_SCRIPTS ??
  ['../../shared/bench/liveviewjs', '../../../shared/bench/liveviewjs'].map((p) => new URL(p, import.meta.url).pathname).find((p) => existsSync(join(p, 'server.js'))) ??
  new URL('../../shared/bench/liveviewjs', import.meta.url).pathname;
const LVJS_BENCH_DIR = process.env.LVJS_BENCH_DIR ?? join(tmpdir(), 'inlet-upload-bench', 'lvjs');
const PROF = args.includes('--prof');
const PAGE_PROF = args.includes('--page-prof');
/** --channels N: the server's maxUploadChannels (and maxChannels N + 50); default: the server's defaults. */
const CHANNELS = opt('channels', undefined);
const BENCH_DIR = process.env.BENCH_DIR ?? tmpdir();
const say = (...m) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...m);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const MiB = 2 ** 20;

function startServer(storeRoot) {
  const child = spawn(process.execPath, [...(PROF ? ['--cpu-prof', `--cpu-prof-dir=${BENCH_DIR}`] : []), '--import', './test/fuzz/register-ts.mjs', 'bench/batch-server.mjs', storeRoot, ...(CHANNELS ? [CHANNELS] : [])], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiters = [];
  lines.on('line', (l) => waiters.shift()?.(l));
  const next = () => new Promise((r) => waiters.push(r));
  return {
    url: next().then((l) => l.replace(/^READY /, '')),
    async rss() {
      const reply = next();
      child.stdin.write('rss\n');
      const [, now, peak] = (await reply).split(' ').map(Number);
      return { now, peak };
    },
    stop: () =>
      new Promise((r) => {
        child.on('exit', r);
        child.stdin.end();
      }),
  };
}

/** Counts the page's WebSocket frames and bytes both ways through CDP, and its sockets and joins. */
async function countWire(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const wire = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, sockets: 0, viewJoins: 0, uploadJoins: 0, closed: 0 };
  // Binary frames come base64-encoded: count their bytes, not the text.
  const bytes = (r) => (r.opcode === 2 ? Math.floor((r.payloadData.length * 3) / 4) : Buffer.byteLength(r.payloadData));
  cdp.on('Network.webSocketCreated', () => wire.sockets++);
  cdp.on('Network.webSocketClosed', () => wire.closed++);
  cdp.on('Network.webSocketFrameSent', ({ response }) => {
    wire.sent++;
    wire.sentBytes += bytes(response);
    if (response.opcode === 1 && response.payloadData.includes('"phx_join"')) {
      if (response.payloadData.includes('"lv:')) wire.viewJoins++;
      else wire.uploadJoins++;
    }
  });
  cdp.on('Network.webSocketFrameReceived', ({ response }) => {
    wire.received++;
    wire.receivedBytes += bytes(response);
  });
  return { cdp, wire };
}

/** Puts FILES generated files into the page's file input at once. */
const chooseFiles = (page, selector) =>
  page.evaluate(`(() => {
    const batchFile = ${batchFile.toString()};
    const dt = new DataTransfer();
    for (let i = 0; i < ${FILES}; i++) dt.items.add(new File([batchFile(i)], 'f' + String(i).padStart(5, '0') + '.bin'));
    const input = document.querySelector(${JSON.stringify(selector)});
    input.files = dt.files;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  })()`);

/** Polls `probe` (a page expression giving a string) until `done(state)`, a stall of 120 s, or MAX_SECONDS. */
async function watch(name, page, probe, done, started, wire) {
  for (let last = '', lastChange = Date.now(); ; ) {
    const state = await page.evaluate(probe).catch(() => 'navigating');
    if (done(state)) return undefined;
    if (wire.viewJoins > 1 || wire.sockets > 1) return `the page reconnected or reloaded (sockets ${wire.sockets}, view joins ${wire.viewJoins}) at ${state}`;
    if (state !== last) {
      say(`${name}: ${((Date.now() - started) / 1000).toFixed(0)} s, ${state}, frames ${wire.sent}/${wire.received}`);
      last = state;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > 120_000) return `stalled 120 s at ${state}`;
    if (Date.now() - started > MAX_SECONDS * 1000) return `gave up after ${MAX_SECONDS} s at ${state}`;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Files in `dir` whose bytes are generated file `index(name)`'s. */
function countExact(dir, index) {
  let exact = 0;
  let names = [];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
  } catch {
    return 0;
  }
  for (const n of names) {
    const i = index(n);
    if (i >= 0 && createHash('sha256').update(readFileSync(join(dir, n))).digest('hex') === createHash('sha256').update(batchFile(i)).digest('hex')) exact++;
  }
  return exact;
}

async function inletRun() {
  const storeRoot = mkdtempSync(join(BENCH_DIR, 'inlet-batch-'));
  const server = startServer(storeRoot);
  const url = await server.url;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const { cdp, wire } = await countWire(page);
    await page.goto(`${url}/uploads/batch`);
    await page.waitForSelector('[data-phx-main].phx-connected');
    if (PAGE_PROF) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    const before = await server.rss();
    const started = Date.now();
    await chooseFiles(page, 'input[type=file]');
    const failure = await watch('inlet', page, `'saved/pending ' + document.getElementById('saved-count')?.textContent + ' ' + document.querySelectorAll('#entries > li').length`, (st) => st === `saved/pending ${FILES} 0`, started, wire);
    const seconds = (Date.now() - started) / 1000;
    if (PAGE_PROF) {
      const { profile } = await cdp.send('Profiler.stop');
      (await import('node:fs')).writeFileSync(join(BENCH_DIR, 'page.cpuprofile'), JSON.stringify(profile));
    }
    const after = await server.rss();
    const exact = countExact(join(storeRoot, 'batch'), (n) => Number(n.slice(1, 6)));
    await page.close();
    return { files: FILES, seconds, stored: exact, failure, rssBefore: before.now, rssPeak: after.peak, ...wire };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(storeRoot, { recursive: true, force: true });
  }
}

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * LiveViewJS 0.8.1 through the team's harness (server.js in LVJS_SCRIPTS, packages installed by its
 * setup.sh under LVJS_BENCH_DIR), with max_entries FILES: choose, submit, wait for the consume.
 */
async function lvjsRun() {
  if (!existsSync(join(LVJS_SCRIPTS, 'server.js'))) return { error: `no LiveViewJS harness at ${LVJS_SCRIPTS}` };
  if (!existsSync(join(LVJS_BENCH_DIR, 'node_modules', 'liveviewjs'))) return { error: `LiveViewJS not installed under ${LVJS_BENCH_DIR} (bash ${LVJS_SCRIPTS}/setup.sh with BENCH_DIR=${LVJS_BENCH_DIR})` };
  const out = mkdtempSync(join(BENCH_DIR, 'lvjs-batch-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: LVJS_SCRIPTS,
    env: { ...process.env, BENCH_DIR: LVJS_BENCH_DIR, PORT: String(port), OUT_DIR: out, MAX_ENTRIES: String(FILES), MAX_FILE_MIB: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let peak = 0;
  const rssOf = () => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      return 0;
    }
  };
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf())), 50);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (l) => l.startsWith('LISTENING') && resolve());
    child.once('exit', (code) => reject(new Error(`LiveViewJS server exited ${code}: ${stderr}`)));
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const { wire } = await countWire(page);
    await page.goto(`http://127.0.0.1:${port}/upload`);
    await page.waitForSelector('[data-phx-main].phx-connected');
    const rssBefore = rssOf();
    peak = rssBefore;
    const started = Date.now();
    await chooseFiles(page, '#upload-form input[type=file]');
    let failure = await watch('lvjs', page, `'entries ' + document.querySelectorAll('#entries .entry').length`, (st) => st === `entries ${FILES}`, started, wire);
    if (!failure) {
      await page.click('#submit');
      // Entries show their progress; the consume runs once all are at 100%.
      const probe = `document.querySelector('#result[data-seq="1"]') ? 'saved all' : 'at 100% ' + [...document.querySelectorAll('#entries .entry')].filter((e) => e.textContent.trim().endsWith('100%')).length`;
      failure = await watch('lvjs', page, probe, (st) => st === 'saved all', started, wire);
    }
    const seconds = (Date.now() - started) / 1000;
    // server.js names each saved file <pid>-<seq>-<name>.
    const stored = countExact(out, (n) => Number(/f(\d{5})\.bin$/.exec(n)?.[1] ?? -1));
    await page.close();
    return { files: FILES, seconds, stored, failure, rssBefore, rssPeak: peak, ...wire };
  } finally {
    clearInterval(sampler);
    await browser.close();
    child.kill('SIGTERM');
    rmSync(out, { recursive: true, force: true });
  }
}

const loadStart = load();
say(`${FILES} files, load ${loadStart}`);
const inlet = SKIP_INLET ? undefined : await inletRun();
const lvjs = SKIP_LVJS ? { error: 'skipped (--skip-lvjs)' } : await lvjsRun().catch((e) => ({ error: String(e) }));
const loadEnd = load();
const row = (name, r) =>
  `| ${name} | ${r.failure ?? 'ok'} | ${r.stored}/${r.files} | ${r.seconds.toFixed(1)} s | ${(r.rssBefore / MiB).toFixed(0)} → ${(r.rssPeak / MiB).toFixed(0)} MiB | ${r.sent} / ${(r.sentBytes / MiB).toFixed(1)} MiB | ${r.received} / ${(r.receivedBytes / MiB).toFixed(1)} MiB | ${r.sockets} / ${r.viewJoins} / ${r.uploadJoins} |`;
console.log(`\n${FILES} files chosen at once (load ${loadStart} → ${loadEnd})\n`);
console.log('| server | result | stored byte-exact | time | server RSS (before → peak) | frames / bytes sent by the browser | frames / bytes received | sockets / view joins / upload joins |');
console.log('|---|---|---|---|---|---|---|---|');
if (inlet) console.log(row('Inlet', inlet));
console.log(lvjs.error ? `| LiveViewJS 0.8.1 | ${lvjs.error} |` : row('LiveViewJS 0.8.1', lvjs));
