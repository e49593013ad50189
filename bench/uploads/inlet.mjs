#!/usr/bin/env node
// The Inlet uploader's benchmark (issue #8), everything in one run, Chromium
// without DevTools (plain `chromium --headless`, pages drive themselves):
//
//   1. loopback, 100 MiB and 1 GiB: the Inlet uploader, the official uploader on
//      Inlet (a page that builds its LiveSocket by hand) and the browser
//      streaming reference (a Chromium page sending the file to a bare ws server
//      with many messages in flight, no wait for replies); server RSS growth
//      during 1 GiB including consume; 4 files at once against one file;
//   2. an emulated link, 100 Mbit/s and 50 ms round trip (link.mjs, a delaying
//      proxy in front of every server; checked first on its own), a 5 MB photo
//      and a 100 MB video: the Inlet uploader, the official uploader on Inlet,
//      LiveViewJS 0.8.1 at its defaults, and the streaming reference;
//   3. the window sweep on both;
//   4. the seed's consume idiom (createOrAppendFile) on 100 MiB against LiveViewJS.
//
//   npm run build && node bench/uploads/inlet.mjs [--quick] [--runs N] [--skip-lvjs] [--only loopback,link,sweep,lvjs]
//
// Progress goes to stderr (the loopback lines with CPU seconds of the browser, all its processes, and of the
// receiving server per upload), tables to stdout, raw figures to $BENCH_DIR/results-inlet-uploader.json.
// Run it under `flock /tmp/inlet-chromium.lock flock /tmp/inlet-bench.lock`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CHROMIUM, runSelfDriven } from './browser.mjs';
import { fix, median, MiB, procCpuSec, randomFile, sha256File, sleep, startDataServer, startInletServer } from './lib.mjs';
import { startLink } from './link.mjs';
import { lvjsRun, lvjsSetup, LVJS_SCRIPTS } from './lvjs.mjs';
import { startRawServer } from './ws-raw.mjs';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const SKIP_LVJS = args.includes('--skip-lvjs');
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const RUNS = Number(opt('runs', QUICK ? 1 : 3));
const ONLY = new Set(String(opt('only', 'loopback,link,sweep,lvjs')).split(','));
const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'inlet-upload-bench');
const LVJS_DIR = join(BENCH_DIR, 'lvjs');
const DATA_DIR = join(LVJS_DIR, 'data');
mkdirSync(BENCH_DIR, { recursive: true });
const WORK = mkdtempSync(join(BENCH_DIR, 'inlet-work-'));
const LOG = join(BENCH_DIR, 'lvjs-harness.log');
const LINK = { rateBitsPerSec: 100e6, oneWayDelayMs: 25 };
const LINK_BYTES_PER_SEC = LINK.rateBitsPerSec / 8;
const KiB = 1024;
const say = (...m) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...m);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const results = { started: new Date().toISOString(), quick: QUICK, runs: RUNS, loadStart: load(), link: LINK };

mkdirSync(DATA_DIR, { recursive: true });
const data = await startDataServer(DATA_DIR);
const servers = [];
const links = [];
const stopAll = async () => {
  for (const l of links) await l.close().catch(() => {});
  for (const s of servers) await s.stop().catch(() => {});
  await data.close();
  rmSync(WORK, { recursive: true, force: true, maxRetries: 5 });
};

async function inletServer(tag, env = {}) {
  const s = await startInletServer({ workDir: WORK, tag, env });
  servers.push(s);
  return s;
}

/** A view of `server` whose pages load through `link` (same process, same RSS). */
const through = (server, link) => ({ ...server, url: `http://127.0.0.1:${link.port}` });

const opts = { workDir: WORK, dataUrl: data.url };

/** One upload by a self-driving page; `files` is one data file or several at once. Checks every stored file by sha256. */
async function upload(server, files) {
  const list = Array.isArray(files) ? files : [files];
  const names = list.map((f) => f.name).join(',');
  const bytes = list.reduce((n, f) => n + f.size, 0);
  server.saved.splice(0);
  const { rep, mem } = await runSelfDriven(server, (run) => `/upload#auto=${encodeURIComponent(names)}&run=${run}`, opts);
  const saved = server.saved.splice(0);
  let shaOk = saved.length === list.length;
  for (const f of list) {
    const s = saved.find((x) => x.name === f.name);
    if (!s || s.sha256 !== f.sha256 || (await sha256File(s.dest).catch(() => '')) !== f.sha256) shaOk = false;
    if (s) rmSync(s.dest, { force: true });
  }
  return { totalMs: rep.totalMs, bytes, mbps: bytes / 1e6 / (rep.totalMs / 1000), firstProgressMs: rep.firstProgressMs, mem, shaOk, cpu: { browser: mem?.browserCpuSec, server: mem?.cpuSec } };
}

/** The streaming reference from a Chromium page (the page is served by `server`, the bytes go to `streamPort`). */
async function streamRef(server, file, streamPort, chunkBytes = 512 * KiB, windowBytes = 8 * MiB, streamPid) {
  const cpu0 = streamPid ? procCpuSec(streamPid) : NaN;
  const { rep, mem } = await runSelfDriven(server, (run) => `/bench/raw#stream=${streamPort}&chunk=${chunkBytes}&window=${windowBytes}&file=${encodeURIComponent(file.name)}&run=${run}`, opts);
  const cpu = { browser: mem?.browserCpuSec, server: streamPid ? procCpuSec(streamPid) - cpu0 : undefined };
  return { totalMs: rep.totalMs, mibps: file.size / MiB / (rep.totalMs / 1000), mbps: file.size / 1e6 / (rep.totalMs / 1000), shaOk: true, cpu };
}

// ------------------------------------------------------------------ link check

/** Round trip and throughput of the link on its own, from Node (ws through the link to a bare ws server). */
async function checkLink(link, streamPort) {
  const echo = await startRawServer('ack');
  const echoLink = await startLink({ targetPort: echo.port, ...LINK });
  const rtts = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${echoLink.port}`);
    const out = [];
    let t;
    ws.on('open', () => {
      t = performance.now();
      ws.send(Buffer.alloc(64), { binary: true });
    });
    ws.on('message', () => {
      out.push(performance.now() - t);
      if (out.length === 10) {
        ws.close();
        resolve(out);
      } else {
        t = performance.now();
        ws.send(Buffer.alloc(64), { binary: true });
      }
    });
    ws.on('error', reject);
  });
  const bytes = 20 * 1e6;
  const ms = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${link.port}`);
    const piece = Buffer.alloc(256 * KiB);
    let t0;
    ws.on('open', async () => {
      t0 = performance.now();
      ws.send(`size ${bytes}`);
      for (let sent = 0; sent < bytes; sent += piece.length) {
        while (ws.bufferedAmount > 4 * MiB) await sleep(1);
        ws.send(sent + piece.length > bytes ? piece.subarray(0, bytes - sent) : piece, { binary: true });
      }
    });
    ws.on('message', (m) => {
      if (String(m) === 'done') {
        ws.close();
        resolve(performance.now() - t0);
      }
    });
    ws.on('error', reject);
  });
  await echoLink.close();
  await echo.stop();
  void streamPort;
  return { rttMsMedian: median(rtts), mbps: bytes / 1e6 / (ms / 1000), utilisation: bytes / (ms / 1000) / LINK_BYTES_PER_SEC };
}

// ------------------------------------------------------------------ LiveViewJS behind the link

/** LiveViewJS's harness server (unmodified) behind `startLink`, driven by its own self-driving page. */
async function lvjsThroughLink(file) {
  const port = 4100 + Math.floor(Math.random() * 800);
  const out = join(WORK, 'lvjs-out');
  const srvTmp = join(WORK, 'lvjs-tmp');
  mkdirSync(out, { recursive: true });
  mkdirSync(srvTmp, { recursive: true });
  const srv = spawn(process.execPath, [join(LVJS_SCRIPTS, 'server.js')], {
    // (an 'error' listener below: a missing harness must not take the run down)
    cwd: LVJS_SCRIPTS,
    env: { ...process.env, BENCH_DIR: LVJS_DIR, PORT: String(port), OUT_DIR: out, TMPDIR: srvTmp, DATA_DIR },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  srv.on('error', () => {});
  const lines = [];
  let buf = '';
  const waiters = [];
  srv.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) w();
    }
  });
  const waitLine = async (prefix, ms) => {
    const end = Date.now() + ms;
    for (;;) {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found) return found;
      if (Date.now() > end) throw new Error(`LiveViewJS server: no ${prefix}`);
      await new Promise((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  let chrome;
  const link = await startLink({ targetPort: port, ...LINK });
  try {
    await waitLine('LISTENING', 30000);
    const profile = mkdtempSync(join(WORK, 'chrome-lvjs-'));
    chrome = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, `http://127.0.0.1:${link.port}/upload#auto=${encodeURIComponent(file.name)}`], {
      stdio: 'ignore',
      detached: true,
    });
    const rep = JSON.parse((await waitLine('REPORT ', 900000)).slice('REPORT '.length));
    const saved = Array.isArray(rep.saved) ? rep.saved : [];
    const dest = saved[0]?.dest ?? saved[0]?.path;
    const shaOk = dest ? (await sha256File(dest).catch(() => '')) === file.sha256 : false;
    return { totalMs: rep.totalMs, mbps: file.size / 1e6 / (rep.totalMs / 1000), shaOk, saved };
  } finally {
    try {
      process.kill(-chrome.pid, 'SIGKILL');
    } catch {}
    srv.kill('SIGTERM');
    await link.close();
    rmSync(out, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ the run

const row = (label, r, extra = '') =>
  `| ${label} | ${fix(r.totalMs, 0)} | ${fix(r.mbps ?? r.mibps, 1)} | ${r.shaOk === false ? 'NO' : 'yes'} |${extra}`;

async function repeat(n, fn) {
  const all = [];
  for (let i = 0; i < n; i++) all.push(await fn(i));
  const ms = median(all.map((r) => r.totalMs));
  const best = all.find((r) => r.totalMs === ms) ?? all[0];
  return { ...best, totalMs: ms, mbps: best.bytes ? best.bytes / 1e6 / (ms / 1000) : best.mbps, runs: all.map((r) => +r.totalMs.toFixed(0)), shaOk: all.every((r) => r.shaOk !== false) };
}

try {
  say(`bench dir ${BENCH_DIR}; load ${load()}`);
  if (!SKIP_LVJS) {
    const err = await lvjsSetup(LVJS_DIR, LOG);
    if (err) throw new Error(`LiveViewJS harness: ${err} (LVJS_SCRIPTS=${LVJS_SCRIPTS}; --skip-lvjs to run without it)`);
  }
  // BENCH_INLET_CHUNK / BENCH_INLET_WINDOW override the Inlet uploader's chunk size and window (not the official one's).
  const inlet = await inletServer('inlet', {
    ...(process.env.BENCH_INLET_CHUNK ? { CHUNK_BYTES: process.env.BENCH_INLET_CHUNK } : {}),
    ...(process.env.BENCH_INLET_WINDOW ? { WINDOW: process.env.BENCH_INLET_WINDOW } : {}),
  });
  const plain = await inletServer('plain', { CLIENT: 'plain' });
  const stream = await startRawServer('stream');
  servers.push(stream);
  const f100 = await randomFile(DATA_DIR, 'rand-100MiB.bin', 100 * MiB);
  const f1g = QUICK ? null : await randomFile(DATA_DIR, 'rand-1024MiB.bin', 1024 * MiB);
  const quarter = await Promise.all([0, 1, 2, 3].map((i) => randomFile(DATA_DIR, `rand-25MiB-${i}.bin`, 25 * MiB)));
  const photo = await randomFile(DATA_DIR, 'photo-5MB.bin', 5_000_000);
  const video = await randomFile(DATA_DIR, 'video-100MB.bin', 100_000_000);

  if (ONLY.has('loopback')) {
    say('loopback');
    const lo = (results.loopback = {});
    for (const [label, file] of [['100 MiB', f100], ...(f1g ? [['1 GiB', f1g]] : [])]) {
      const runs = label === '1 GiB' ? Math.max(1, RUNS - 1) : RUNS;
      const r = { stream: [], inlet: [], plain: [] };
      for (let i = 0; i < runs; i++) {
        r.stream.push(await streamRef(inlet, file, stream.port, undefined, undefined, stream.pid));
        r.inlet.push(await upload(inlet, file));
        r.plain.push(await upload(plain, file));
        const cpu = (x) => `cpu browser ${fix(x.cpu?.browser, 2)} s + server ${fix(x.cpu?.server, 2)} s`;
        say(`  ${label} run ${i + 1}: stream ${fix(r.stream.at(-1).mbps)} MB/s (${cpu(r.stream.at(-1))}), inlet ${fix(r.inlet.at(-1).mbps)} (${cpu(r.inlet.at(-1))}), official ${fix(r.plain.at(-1).mbps)} (${cpu(r.plain.at(-1))}); load ${load()}`);
      }
      const med = (xs) => {
        const ms = median(xs.map((x) => x.totalMs));
        return { totalMs: ms, mbps: file.size / 1e6 / (ms / 1000), shaOk: xs.every((x) => x.shaOk !== false), runs: xs.map((x) => +x.totalMs.toFixed(0)) };
      };
      lo[label] = {
        stream: med(r.stream),
        inlet: med(r.inlet),
        plain: med(r.plain),
        inletRssGrowthMiB: Math.max(...r.inlet.map((x) => x.mem?.growthMiB ?? NaN)),
        plainRssGrowthMiB: Math.max(...r.plain.map((x) => x.mem?.growthMiB ?? NaN)),
        cpuSec: { stream: r.stream.map((x) => x.cpu), inlet: r.inlet.map((x) => x.cpu), plain: r.plain.map((x) => x.cpu) },
        load: load(),
      };
    }
    const four = [];
    const one = [];
    for (let i = 0; i < RUNS; i++) {
      one.push(await upload(inlet, f100));
      four.push(await upload(inlet, quarter));
      say(`  4 x 25 MiB: ${fix(four.at(-1).mbps)} MB/s aggregate vs one 100 MiB ${fix(one.at(-1).mbps)}`);
    }
    lo.concurrent = {
      four: { totalMs: median(four.map((x) => x.totalMs)), shaOk: four.every((x) => x.shaOk) },
      one: { totalMs: median(one.map((x) => x.totalMs)), shaOk: one.every((x) => x.shaOk) },
      load: load(),
    };
  }

  if (ONLY.has('link') || ONLY.has('sweep')) {
    const inletLink = await startLink({ targetPort: inlet.port, ...LINK });
    const plainLink = await startLink({ targetPort: plain.port, ...LINK });
    const streamLink = await startLink({ targetPort: stream.port, ...LINK });
    links.push(inletLink, plainLink, streamLink);
    say('link check');
    results.linkCheck = await checkLink(streamLink);
    say(`  rtt ${fix(results.linkCheck.rttMsMedian)} ms, ${fix(results.linkCheck.mbps)} MB/s (${fix(results.linkCheck.utilisation * 100)} % of the link)`);
    if (ONLY.has('link')) {
      const ln = (results.link = {});
      for (const [label, file] of [['5 MB photo', photo], ['100 MB video', video]]) {
        const runs = label.startsWith('100') ? Math.max(1, RUNS - 1) : RUNS;
        ln[label] = {
          stream: await repeat(runs, async () => ({ ...(await streamRef(through(inlet, inletLink), file, streamLink.port)), bulk: streamLink.takeBulk() })),
          inlet: await repeat(runs, async () => (inletLink.takeBulk(), { ...(await upload(through(inlet, inletLink), file)), bulk: inletLink.takeBulk() })),
          plain: await repeat(runs, async () => (plainLink.takeBulk(), { ...(await upload(through(plain, plainLink), file)), bulk: plainLink.takeBulk() })),
          lvjs: SKIP_LVJS ? null : await repeat(1, () => lvjsThroughLink(file)).catch((e) => ({ error: String(e) })),
          load: load(),
        };
        say(`  ${label}: inlet ${fix(ln[label].inlet.mbps)} MB/s, official ${fix(ln[label].plain.mbps)}, lvjs ${fix(ln[label].lvjs?.mbps)}, stream ${fix(ln[label].stream.mbps)}`);
      }
    }
    if (ONLY.has('sweep')) {
      say('window sweep');
      const sw = (results.sweep = []);
      const windows = QUICK ? [1 * MiB, 4 * MiB] : [512 * KiB, 1 * MiB, 2 * MiB, 4 * MiB, 8 * MiB];
      for (const w of windows) {
        const s = await inletServer(`w${w}`, { WINDOW: String(w) });
        const sl = await startLink({ targetPort: s.port, ...LINK });
        const loop = await repeat(RUNS, () => upload(s, f100));
        const overLink = await repeat(Math.max(1, RUNS - 1), async () => (sl.takeBulk(), { ...(await upload(through(s, sl), video)), bulk: sl.takeBulk() }));
        sw.push({ window: w, loopback: loop, link: overLink, load: load() });
        say(`  window ${w / KiB} KiB: loopback ${fix(loop.mbps)} MB/s, link ${fix(overLink.mbps)} MB/s`);
        await sl.close();
        await s.stop();
      }
    }
  }

  if (ONLY.has('lvjs') && !SKIP_LVJS) {
    say('LiveViewJS, 100 MiB on loopback (the seed idiom: createOrAppendFile)');
    const lv = await lvjsRun('nocdp', [100], LVJS_DIR, LOG);
    const inl = await repeat(RUNS, () => upload(inlet, f100));
    results.lvjs = { lvjs100: lv[100] ?? lv, inlet100: inl, load: load() };
  }
} finally {
  results.loadEnd = load();
  writeFileSync(join(BENCH_DIR, 'results-inlet-uploader.json'), JSON.stringify(results, null, 2));
  await stopAll();
}

// ------------------------------------------------------------------ tables

const out = [];
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '-');
out.push(`# Inlet uploader bench (${results.started}; load ${results.loadStart} -> ${results.loadEnd}; runs ${RUNS})`);
if (results.loopback) {
  out.push('', '## Loopback (MB/s = 10^6 bytes/s, median)', '| size | streaming ref | Inlet uploader | official on Inlet | Inlet/ref | Inlet/official | RSS growth Inlet | sha |', '|---|---:|---:|---:|---:|---:|---:|---|');
  for (const [label, r] of Object.entries(results.loopback)) {
    if (label === 'concurrent' || !r?.stream || !r.inlet || !r.plain) continue;
    out.push(
      `| ${label} | ${fix(r.stream.mbps)} | ${fix(r.inlet.mbps)} | ${fix(r.plain.mbps)} | ${ratio(r.inlet.mbps, r.stream.mbps)} | ${ratio(r.inlet.mbps, r.plain.mbps)} | ${fix(r.inletRssGrowthMiB)} MiB | ${r.inlet.shaOk && r.plain.shaOk ? 'ok' : 'MISMATCH'} |`,
    );
  }
  const c = results.loopback.concurrent;
  if (c) out.push('', `4 x 25 MiB at once: ${fix(c.four.totalMs, 0)} ms; one 100 MiB: ${fix(c.one.totalMs, 0)} ms; aggregate / one = ${ratio(c.one.totalMs, c.four.totalMs)} (sha ${c.four.shaOk && c.one.shaOk ? 'ok' : 'MISMATCH'})`);
}
if (results.linkCheck) out.push('', `## Emulated link: ${LINK.rateBitsPerSec / 1e6} Mbit/s, ${LINK.oneWayDelayMs * 2} ms RTT`, `Check from Node through the link: ws round trip ${fix(results.linkCheck.rttMsMedian)} ms, ws stream ${fix(results.linkCheck.mbps)} MB/s (${fix(results.linkCheck.utilisation * 100)} % of 12.5 MB/s).`);
if (results.link && Object.keys(results.link).length > 0) {
  out.push('', '| file | streaming ref | Inlet uploader | official on Inlet | LiveViewJS | Inlet % of link (end to end) | Inlet % of link (data phase) | official % (data phase) | Inlet/official | Inlet/LiveViewJS |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, r] of Object.entries(results.link ?? {})) {
    if (!r?.stream || !r.inlet || !r.plain) continue;
    out.push(
      `| ${label} | ${fix(r.stream.mbps)} | ${fix(r.inlet.mbps)} | ${fix(r.plain.mbps)} | ${fix(r.lvjs?.mbps)} | ${fix((r.inlet.mbps * 1e6 * 100) / LINK_BYTES_PER_SEC)} % | ${fix(r.inlet.bulk?.use * 100)} % | ${fix(r.plain.bulk?.use * 100)} % | ${ratio(r.inlet.mbps, r.plain.mbps)} | ${ratio(r.inlet.mbps, r.lvjs?.mbps)} |`,
    );
  }
  out.push('(MB/s from the file being put in the input until the page shows it saved: change, preflight, join, chunks, finish, progress and consume included.)');
}
if (results.sweep) {
  out.push('', '## Window sweep (512 KiB chunks)', '| window | loopback 100 MiB MB/s | link 100 MB MB/s | link % (end to end) | link % (data phase) | load |', '|---|---:|---:|---:|---:|---|');
  for (const s of results.sweep)
    out.push(`| ${s.window / KiB} KiB | ${fix(s.loopback.mbps)} | ${fix(s.link.mbps)} | ${fix((s.link.mbps * 1e6 * 100) / LINK_BYTES_PER_SEC)} % | ${fix(s.link.bulk?.use * 100)} % | ${s.load} |`);
}
if (results.lvjs?.lvjs100) {
  const l = results.lvjs.lvjs100;
  const i = results.lvjs.inlet100;
  const lmbps = (100 * MiB) / 1e6 / (l.totalMs / 1000);
  out.push('', '## The seed idiom (createOrAppendFile), 100 MiB loopback', `LiveViewJS ${fix(lmbps)} MB/s (${fix(l.totalMs, 0)} ms, sha ${l.shaOk ? 'ok' : 'NO'}); Inlet ${fix(i.mbps)} MB/s (${fix(i.totalMs, 0)} ms); Inlet/LiveViewJS ${ratio(i.mbps, lmbps)}`);
} else if (results.lvjs?.error) out.push('', `LiveViewJS: ${results.lvjs.error}`);
console.log(out.join('\n'));
