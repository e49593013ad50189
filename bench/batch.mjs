#!/usr/bin/env node
// The 10,000-file batch (issue #11): N small files chosen at once in one input
// of the /uploads/batch example, uploaded by the official client's own uploader
// in headless Chromium. Prints the time from choosing to the last file saved,
// the server's peak RSS (its own process), and the WebSocket frames and bytes
// both ways (CDP Network.webSocketFrameSent/Received), with `uptime` load.
//
//   flock /tmp/inlet-chromium.lock flock /tmp/inlet-bench.lock node bench/batch.mjs [--files N] [--prof]
//
// --prof writes a CPU profile of the server to $BENCH_DIR (node --cpu-prof).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const FILES = Number(opt('files', 10_000));
const PROF = args.includes('--prof');
const PAGE_PROF = args.includes('--page-prof');
const BENCH_DIR = process.env.BENCH_DIR ?? tmpdir();
const say = (...m) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...m);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const MiB = 2 ** 20;

/** File `i`: 64 to 2,111 bytes from a xorshift seeded with `i` (the e2e's generator). */
function batchFile(i) {
  const size = 64 + ((i * 2654435761) % 2048);
  const out = new Uint8Array(size);
  let x = (i + 1) * 2246822519;
  for (let k = 0; k < size; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[k] = x & 255;
  }
  return out;
}

function startServer(storeRoot) {
  const child = spawn(process.execPath, [...(PROF ? ['--cpu-prof', `--cpu-prof-dir=${BENCH_DIR}`] : []), '--import', './test/fuzz/register-ts.mjs', 'bench/batch-server.mjs', storeRoot], {
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

async function inletRun() {
  const storeRoot = mkdtempSync(join(BENCH_DIR, 'inlet-batch-'));
  const server = startServer(storeRoot);
  const url = await server.url;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const wire = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, sockets: 0, viewJoins: 0, uploadJoins: 0, closed: 0 };
    cdp.on('Network.webSocketCreated', () => wire.sockets++);
    cdp.on('Network.webSocketClosed', () => wire.closed++);
    cdp.on('Network.webSocketFrameSent', ({ response }) => {
      wire.sent++;
      // Binary frames come base64-encoded: count their bytes, not the text.
      wire.sentBytes += response.opcode === 2 ? Math.floor((response.payloadData.length * 3) / 4) : Buffer.byteLength(response.payloadData);
      if (response.opcode === 1 && response.payloadData.includes('"phx_join"')) {
        if (response.payloadData.includes('"lv:')) wire.viewJoins++;
        else wire.uploadJoins++;
      }
    });
    cdp.on('Network.webSocketFrameReceived', ({ response }) => {
      wire.received++;
      wire.receivedBytes += response.opcode === 2 ? Math.floor((response.payloadData.length * 3) / 4) : Buffer.byteLength(response.payloadData);
    });
    await page.goto(`${url}/uploads/batch`);
    await page.waitForSelector('[data-phx-main].phx-connected');
    if (PAGE_PROF) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    const before = await server.rss();
    const started = Date.now();
    await page.evaluate(`(() => {
      const batchFile = ${batchFile.toString()};
      const dt = new DataTransfer();
      for (let i = 0; i < ${FILES}; i++) dt.items.add(new File([batchFile(i)], 'f' + String(i).padStart(5, '0') + '.bin'));
      const input = document.querySelector('input[type=file]');
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    })()`);
    let failure;
    for (let last = '', lastChange = Date.now(); ; ) {
      const state = await page.evaluate(`document.getElementById('saved-count')?.textContent + ' ' + document.querySelectorAll('#entries > li').length`).catch(() => 'navigating');
      if (state.startsWith(`${FILES} `)) break;
      if (state !== last) {
        say(`inlet: ${((Date.now() - started) / 1000).toFixed(0)} s, saved/pending ${state}, frames ${wire.sent}/${wire.received}, sockets ${wire.sockets}, view joins ${wire.viewJoins}`);
        last = state;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > 120_000) {
        failure = `stalled at saved/pending ${state}`;
        break;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    const seconds = (Date.now() - started) / 1000;
    if (PAGE_PROF) {
      const { profile } = await cdp.send('Profiler.stop');
      (await import('node:fs')).writeFileSync(join(BENCH_DIR, 'page.cpuprofile'), JSON.stringify(profile));
    }
    const after = await server.rss();
    const dir = join(storeRoot, 'batch');
    let exact = 0;
    for (const n of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile())) {
      const i = Number(n.name.slice(1, 6));
      if (createHash('sha256').update(readFileSync(join(dir, n.name))).digest('hex') === createHash('sha256').update(batchFile(i)).digest('hex')) exact++;
    }
    await page.close();
    return { files: FILES, seconds, stored: exact, failure, rssBefore: before.now, rssPeak: after.peak, ...wire };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(storeRoot, { recursive: true, force: true });
  }
}

const loadStart = load();
say(`${FILES} files, load ${loadStart}`);
const inlet = await inletRun();
const loadEnd = load();
const row = (name, r) =>
  `| ${name} | ${r.failure ?? 'ok'} | ${r.stored}/${r.files} | ${r.seconds.toFixed(1)} s | ${(r.rssBefore / MiB).toFixed(0)} → ${(r.rssPeak / MiB).toFixed(0)} MiB | ${r.sent} / ${(r.sentBytes / MiB).toFixed(1)} MiB | ${r.received} / ${(r.receivedBytes / MiB).toFixed(1)} MiB | ${r.sockets} / ${r.viewJoins} / ${r.uploadJoins} |`;
console.log(`\n${FILES} files chosen at once (load ${loadStart} → ${loadEnd})\n`);
console.log('| server | result | stored byte-exact | time | server RSS (before → peak) | frames / bytes sent by the browser | frames / bytes received | sockets / view joins / upload joins |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(row('Inlet', inlet));
