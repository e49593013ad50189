#!/usr/bin/env node
// Resume after a socket drop (issue #8): what a drop at 50 % costs the Inlet
// uploader in bytes sent again, against the bound "one window plus one chunk".
//
// A Playwright-driven Chromium uploads one file with the Inlet uploader to the
// bench app (server.mjs, its own process) through a proxy (link.mjs). CDP
// reports every chunk's data bytes as they leave the page and the offsets the
// server acknowledges; once half the file has been sent the proxy cuts both
// TCP legs at once, so whatever was still on its way is lost, as in a real
// network drop. The official client
// reconnects, the view rejoins, the uploader gives the file back to the input
// and claims its parked session; the join reply's offset is where it resumes.
// Each run checks the stored file by sha256, and is repeated without a drop
// for the time it costs.
//
// Measured on loopback (the proxy with no delay or rate limit) and behind the
// emulated link (100 Mbit/s, 50 ms round trip: there the window is full when
// the link is cut), for
// windows of 1, 4 (the default) and 8 MiB.
//
//   npm run build && flock /tmp/inlet-chromium.lock flock /tmp/inlet-bench.lock node bench/uploads/resume.mjs [--quick] [--runs N]
//
// Progress goes to stderr, the table to stdout, raw figures to $BENCH_DIR/results-inlet-resume.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, verifyStored } from './browser.mjs';
import { fix, median, MiB, randomFile, sleep, startInletServer } from './lib.mjs';
import { startLink } from './link.mjs';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const RUNS = Number(opt('runs', QUICK ? 1 : 3));
const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'inlet-upload-bench');
const DATA_DIR = join(BENCH_DIR, 'lvjs', 'data');
mkdirSync(DATA_DIR, { recursive: true });
const WORK = mkdtempSync(join(BENCH_DIR, 'resume-work-'));
const LINK = { rateBitsPerSec: 100e6, oneWayDelayMs: 25 };
const FRAME_HEADER = 16; // the Inlet chunk frame's header (uploader-protocol §4)
const say = (...m) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...m);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Event name and data bytes of a client binary push (Phoenix V2: kind, join ref, ref, topic, event lengths). */
function binaryPush(b) {
  const at = 5 + b[1] + b[2] + b[3];
  return { event: b.toString('utf8', at, at + b[4]), bytes: b.length - (at + b[4]) - FRAME_HEADER };
}

/** What a text frame from the server says about the Inlet upload: a chunk's acknowledged offset, a join reply, the preflight's sizes. */
function readReply(text, wire) {
  if (!text.includes('phx_reply')) return;
  const [, , topic, event, payload] = JSON.parse(text);
  if (event !== 'phx_reply' || payload?.status !== 'ok') return;
  const r = payload.response ?? {};
  if (topic.startsWith('lvu:')) {
    if (r.resumed !== undefined) wire.joins.push({ offset: r.offset, resumed: r.resumed === true, at: wire.sent });
    else if (typeof r.offset === 'number') wire.acked = Math.max(wire.acked, r.offset);
    if (r.chunk_size) wire.chunk = r.chunk_size;
    if (r.window) wire.window = r.window;
  } else if (r.entries) {
    for (const e of Object.values(r.entries)) if (e && typeof e === 'object' && e.uploader === 'Inlet') Object.assign(wire, { chunk: e.chunk_size, window: e.window });
  }
}

/**
 * Uploads `file` from a fresh page of `browser` through `link`, cutting the
 * link once `dropAt` data bytes have left the page (Infinity: no drop).
 */
async function upload(browser, server, link, file, dropAt) {
  const ctx = await browser.newContext();
  const wire = { sent: 0, acked: 0, joins: [], sockets: 0, drop: undefined, chunk: undefined, window: undefined };
  try {
    const page = await ctx.newPage();
    // CDP's view of the page's sockets: what left the page, what came back.
    page.on('websocket', (ws) => {
      wire.sockets++;
      ws.on('framesent', ({ payload }) => {
        if (typeof payload === 'string') return;
        const push = binaryPush(Buffer.from(payload));
        if (push.event !== 'inlet_chunk') return;
        wire.sent += push.bytes;
        if (!wire.drop && wire.sent >= dropAt) {
          wire.drop = { sent: wire.sent, acked: wire.acked };
          link.cut();
        }
      });
      ws.on('framereceived', ({ payload }) => {
        if (typeof payload === 'string') readReply(payload, wire);
      });
    });
    server.saved.splice(0);
    await page.goto(`http://127.0.0.1:${link.port}/upload`);
    await page.waitForSelector('[data-phx-main].phx-connected', { timeout: 30_000 });
    const t0 = performance.now();
    await page.setInputFiles('#f input[type=file]', file.path);
    await page.waitForSelector('#f input[type=file][data-phx-active-refs]:not([data-phx-active-refs=""])', { state: 'attached', timeout: 60_000 });
    await page.click('#f button[type=submit]');
    await page.waitForSelector('#saved li', { state: 'attached', timeout: 600_000 });
    const totalMs = performance.now() - t0;
    // The SAVED line is printed before the render that lists the file; give the pipe a moment.
    for (let i = 0; i < 100 && server.saved.length === 0; i++) await sleep(20);
    const { shaOk } = await verifyStored(file, server.saved.splice(0));
    const resumedAt = wire.joins.find((j) => j.resumed)?.offset;
    return {
      totalMs,
      shaOk,
      sent: wire.sent,
      extra: wire.sent - file.size,
      chunk: wire.chunk,
      window: wire.window,
      sockets: wire.sockets,
      joins: wire.joins,
      drop: wire.drop,
      resumedAt,
      // What was sent before the drop and had to go again.
      lost: wire.drop && resumedAt !== undefined ? wire.drop.sent - resumedAt : undefined,
    };
  } finally {
    await ctx.close();
  }
}

const results = { started: new Date().toISOString(), runs: RUNS, loadStart: load(), link: LINK, rows: [] };
const servers = [];
const links = [];
let browser;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const loopFile = await randomFile(DATA_DIR, 'rand-100MiB.bin', 100 * MiB);
  const linkFile = await randomFile(DATA_DIR, 'video-100MB.bin', 100_000_000);
  const windows = QUICK ? [4 * MiB] : [1 * MiB, 4 * MiB, 8 * MiB];
  for (const window of windows) {
    const server = await startInletServer({ workDir: WORK, tag: `resume-w${window}`, env: { WINDOW: String(window) } });
    servers.push(server);
    // Loopback: the same proxy without delay or rate limit, only so that it can be cut.
    const loop = await startLink({ targetPort: server.port, rateBitsPerSec: 1e12, oneWayDelayMs: 0 });
    const link = await startLink({ targetPort: server.port, ...LINK });
    links.push(loop, link);
    for (const [where, via, file] of [
      ['loopback', loop, loopFile],
      ['100 Mbit/s, 50 ms', link, linkFile],
    ]) {
      const dropped = [];
      const clean = [];
      for (let i = 0; i < RUNS; i++) {
        dropped.push(await upload(browser, server, via, file, file.size / 2));
        clean.push(await upload(browser, server, via, file, Infinity));
        const d = dropped.at(-1);
        say(`${where}, window ${window / MiB} MiB: dropped at ${fix(d.drop?.sent / MiB, 2)} MiB (acked ${fix(d.drop?.acked / MiB, 2)}), resumed at ${fix(d.resumedAt / MiB, 2)} MiB, sent again ${fix(d.extra / MiB, 2)} MiB, ${fix(d.totalMs / 1000, 2)} s vs ${fix(clean.at(-1).totalMs / 1000, 2)} s; load ${load()}`);
      }
      results.rows.push({ where, window, file: file.name, size: file.size, dropped, clean, load: load() });
    }
  }
} finally {
  results.loadEnd = load();
  writeFileSync(join(BENCH_DIR, 'results-inlet-resume.json'), JSON.stringify(results, null, 2));
  await browser?.close();
  for (const l of links) await l.close().catch(() => {});
  for (const s of servers) await s.stop().catch(() => {});
  rmSync(WORK, { recursive: true, force: true, maxRetries: 5 });
}

const out = [
  `# Resume after a drop at 50 % (${new Date().toISOString().slice(0, 16)}Z, load ${results.loadStart} -> ${results.loadEnd}, median of ${RUNS})`,
  '',
  '| link | window | chunk | in flight at the drop | resumed at | sent again (total sent − size) | bound: window + chunk | within | time with drop | time without | sha |',
  '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|',
];
const KiB = 1024;
for (const r of results.rows) {
  const worst = r.dropped.reduce((a, b) => (b.extra > a.extra ? b : a));
  const chunk = worst.chunk ?? NaN;
  const bound = r.window + chunk;
  const within = r.dropped.every((d) => d.extra >= 0 && d.extra <= bound && d.sockets > 1 && d.resumedAt > 0);
  out.push(
    `| ${r.where} | ${r.window / MiB} MiB | ${chunk / KiB} KiB | ${fix((worst.drop.sent - worst.drop.acked) / MiB, 2)} MiB | ${fix(worst.resumedAt / MiB, 2)} MiB | ${fix(worst.extra / MiB, 2)} MiB (worst of ${r.dropped.length}: ${r.dropped.map((d) => fix(d.extra / MiB, 2)).join(', ')}) | ${fix(bound / MiB, 2)} MiB | ${within ? 'yes' : 'NO'} | ${fix(median(r.dropped.map((d) => d.totalMs)) / 1000, 2)} s | ${fix(median(r.clean.map((d) => d.totalMs)) / 1000, 2)} s | ${[...r.dropped, ...r.clean].every((d) => d.shaOk) ? 'yes' : 'NO'} |`,
  );
}
console.log(out.join('\n'));
