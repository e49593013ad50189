#!/usr/bin/env node
// Inlet upload benchmark: throughput, server memory, concurrency, references
// (LiveViewJS 0.8.1, bare ws with one message in flight) and a chunk-size
// sweep, all measured in one run. Prints tables and ratios on stdout, progress
// on stderr, and writes all raw figures to $BENCH_DIR/results-inlet-uploads.json.
//
//   npm run build && node bench/uploads/run.mjs [--quick] [--runs N] [--skip-lvjs]
//   node bench/uploads/run.mjs --print [results.json]    (re-print an earlier run's tables)
//
// Everything it writes goes under $BENCH_DIR (default <tmp>/inlet-upload-bench):
// random source files (lvjs/data, shared with the LiveViewJS harness so both
// servers get the same bytes), server temp and output folders, Chromium
// profiles, the LiveViewJS install (lvjs/), logs. Stored files are deleted
// after their sha256 is checked.
//
// Timing: from the moment the file is assigned to the live_file_input until the
// page shows the result the server renders after consumeUploadedEntries (which
// streams the temp file to an output folder), so change round trip, preflight,
// chunks, progress and consume are all included. MiB = 2^20 bytes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromiumRawUpload, noDevtoolsUpload, PlaywrightDriver, verifyStored } from './browser.mjs';
import { dirUsage, fix, HERE, median, MiB, procMem, randomFile, sampleRss, startDataServer, startInletServer } from './lib.mjs';
import { lvjsRun, lvjsSetup, lvjsVersions, LVJS_SCRIPTS } from './lvjs.mjs';
import { concurrentUploads } from './ws-clients.mjs';
import { oneInFlight, startRawServer } from './ws-raw.mjs';
import { DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_TIMEOUT, autoChunkSize, autoChunkTimeout } from 'inletjs';
import { DEFAULT_MAX_FRAME_BYTES } from 'inletjs/node';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const SKIP_LVJS = args.includes('--skip-lvjs');
const optNum = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const KiB = 1024;
const ROOT = join(HERE, '..', '..');

const CFG = QUICK
  ? {
      sizes: [1, 10],
      runs: optNum('runs', 1),
      big: { mib: 100, playwright: false },
      lvjsSizes: [10],
      lvjsPlaywright: false,
      sweep: [64 * KiB, 1024 * KiB, 4096 * KiB],
      sweepMiB: 20,
      sweepRuns: optNum('runs', 1),
      rawMiB: 20,
      conc: { clients: 10, mib: 5 },
      concSweep: [],
    }
  : {
      sizes: [1, 10, 100],
      runs: optNum('runs', 3),
      big: { mib: 1024, playwright: true },
      lvjsSizes: [10, 100],
      lvjsPlaywright: true,
      sweep: [64 * KiB, 256 * KiB, 1024 * KiB, 2048 * KiB, 4096 * KiB],
      sweepMiB: 100,
      sweepRuns: optNum('runs', 3),
      rawMiB: 100,
      conc: { clients: 50, mib: 20 },
      concSweep: 'sweep', // every sweep size besides the default (which section 3 runs)
    };

const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'inlet-upload-bench');
const LVJS_DIR = join(BENCH_DIR, 'lvjs');
const DATA_DIR = join(LVJS_DIR, 'data'); // the harness's data folder: same files for both servers
const WORK = join(BENCH_DIR, 'work');
const LOG = join(BENCH_DIR, 'lvjs-harness.log');

const say = (...m) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...m);
const kib = (b) => (b >= MiB ? `${b / MiB} MiB` : `${b / KiB} KiB`);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const DEFAULT_FRAME = DEFAULT_MAX_FRAME_BYTES;
// With 'auto' defaults, the chunk Inlet picks for the 100 MiB reference file is the one compared.
const DEF_CHUNK = DEFAULT_CHUNK_SIZE === 'auto' ? autoChunkSize(100 * 1024 * 1024) : DEFAULT_CHUNK_SIZE;
const DEF_TIMEOUT = DEFAULT_CHUNK_TIMEOUT === 'auto' ? autoChunkTimeout(DEF_CHUNK) : DEFAULT_CHUNK_TIMEOUT;
if (!CFG.sweep.includes(DEF_CHUNK)) CFG.sweep.push(DEF_CHUNK), CFG.sweep.sort((a, b) => a - b);
if (CFG.concSweep === 'sweep') CFG.concSweep = CFG.sweep.filter((c) => c !== DEF_CHUNK);
const frameFor = (chunk) => (chunk + KiB > DEFAULT_FRAME ? chunk + 64 * KiB : undefined);

async function attempt(what, fn, errors) {
  try {
    return await fn();
  } catch (e) {
    const msg = `${what}: ${e?.message ?? e}`;
    say(`ERROR ${msg}`);
    errors.push(msg);
    return null;
  }
}

function sortedRange(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? `${fix(s[0])}–${fix(s[s.length - 1])}` : '-';
}

async function main() {
  if (!existsSync(join(ROOT, 'packages/core/dist/index.js')) || !existsSync(join(ROOT, 'packages/client/dist/inlet-client.js'))) {
    throw new Error('Inlet is not built: run `npm run build` first');
  }
  for (const d of [BENCH_DIR, DATA_DIR, WORK]) mkdirSync(d, { recursive: true });
  const started = Date.now();
  const errors = [];
  const R = {
    mode: QUICK ? 'quick' : 'full',
    cfg: CFG,
    defaults: { chunk: DEF_CHUNK, chunkTimeout: DEF_TIMEOUT, auto: DEFAULT_CHUNK_SIZE === 'auto', maxFrame: DEFAULT_FRAME },
    startedAt: new Date().toISOString(),
    loadStart: load(),
  };

  // ---------------------------------------------------------------- machine and versions
  const chromiumVersion = (() => {
    try {
      return execFileSync('/usr/bin/chromium', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return '?';
    }
  })();
  const pkg = (p) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, p), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  const git = (...a) => {
    try {
      return execFileSync('git', ['-C', ROOT, ...a], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return '?';
    }
  };
  R.build = {
    head: git('rev-parse', '--short', 'HEAD'),
    changedUnderPackages: git('status', '--porcelain', '--', 'packages').split('\n').filter(Boolean).length,
    distBuiltAt: new Date(
      Math.max(...readdirSync(join(ROOT, 'packages/core/dist'), { recursive: true }).map((f) => statSync(join(ROOT, 'packages/core/dist', f)).mtimeMs)),
    ).toISOString(),
  };
  R.machine = {
    node: process.version,
    chromium: chromiumVersion,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    inlet: pkg('packages/core/package.json'),
    lvClient: pkg('node_modules/phoenix_live_view/package.json'),
    ws: pkg('node_modules/ws/package.json'),
    playwright: pkg('node_modules/playwright-core/package.json'),
  };

  // ---------------------------------------------------------------- data
  say(`preparing data files in ${DATA_DIR}`);
  const files = {};
  for (const mib of new Set([...CFG.sizes, CFG.sweepMiB, CFG.big.mib, ...CFG.lvjsSizes])) files[mib] = await randomFile(DATA_DIR, `rand-${mib}MiB.bin`, mib * MiB);
  const concFiles = [];
  for (let i = 0; i < CFG.conc.clients; i++) concFiles.push(await randomFile(DATA_DIR, `rand-${CFG.conc.mib}MiB-c${i}.bin`, CFG.conc.mib * MiB));

  // ---------------------------------------------------------------- LiveViewJS harness
  let lvjsOk = !SKIP_LVJS;
  if (lvjsOk) {
    say(`LiveViewJS harness setup (${LVJS_SCRIPTS}/setup.sh, BENCH_DIR=${LVJS_DIR})`);
    const err = await lvjsSetup(LVJS_DIR, LOG);
    if (err) {
      errors.push(`LiveViewJS: ${err}`);
      say(`LiveViewJS skipped: ${err}`);
      lvjsOk = false;
    } else R.lvjsVersions = lvjsVersions(LVJS_DIR);
  }

  // ---------------------------------------------------------------- servers
  const dataServer = await startDataServer(DATA_DIR);
  const PAGE_OPTS = { workDir: WORK, dataUrl: dataServer.url };
  const main = await startInletServer({ workDir: WORK, tag: 'default' });
  const sweepServers = new Map();
  for (const c of CFG.sweep) {
    sweepServers.set(c, await startInletServer({ workDir: WORK, tag: `c${c / KiB}k`, chunkBytes: c, maxFrameBytes: frameFor(c) }));
  }
  const raw = await startRawServer('ack');
  const rawWrite = await startRawServer('write', { WS_RAW_TMP: WORK });
  const pw = await PlaywrightDriver.launch();
  R.machine.chromiumDriven = pw.version();
  const servers = [main, ...sweepServers.values()];

  const single = {}; // `${method}:${mib}` -> runs
  const lvjs = {}; // `${kind}:${mib}` -> runs
  const sweep = {}; // chunk -> runs
  const rawRuns = {}; // `${mode}:${chunk}` -> MiB/s list
  const push = (obj, key, v) => (obj[key] ??= []).push(v);

  try {
    // ---------------------------------------------------------------- interleaved rounds
    const rounds = Math.max(CFG.runs, CFG.sweepRuns);
    for (let r = 0; r < rounds; r++) {
      say(`round ${r + 1}/${rounds} (load ${load()})`);
      if (r < CFG.runs) {
        for (const mib of CFG.sizes) {
          const a = await attempt(`Inlet no-DevTools ${mib} MiB`, () => noDevtoolsUpload(main, files[mib], PAGE_OPTS), errors);
          if (a) push(single, `no-devtools:${mib}`, a);
          say(`  Inlet no-DevTools ${mib} MiB: ${fix(a?.mibps)} MiB/s sha ${a?.shaOk ? 'OK' : 'FAIL'}`);
          const b = await attempt(`Inlet Playwright ${mib} MiB`, () => pw.upload(main, files[mib]), errors);
          if (b) push(single, `playwright:${mib}`, b);
          say(`  Inlet Playwright  ${mib} MiB: ${fix(b?.mibps)} MiB/s sha ${b?.shaOk ? 'OK' : 'FAIL'}`);
        }
        if (lvjsOk) {
          for (const kind of CFG.lvjsPlaywright ? ['nocdp', 'playwright'] : ['nocdp']) {
            const res = await attempt(`LiveViewJS ${kind}`, () => lvjsRun(kind, CFG.lvjsSizes, LVJS_DIR, LOG), errors);
            if (res?.error) errors.push(`LiveViewJS ${kind}: ${res.error}`);
            else if (res) for (const [mib, v] of Object.entries(res)) push(lvjs, `${kind}:${mib}`, v);
            say(`  LiveViewJS ${kind}: ${res?.error ?? Object.entries(res ?? {}).map(([m, v]) => `${m} MiB ${fix(v.mibps)} MiB/s`).join(', ')}`);
          }
        }
      }
      if (r < CFG.sweepRuns) {
        const order = CFG.sweep.map((_, i) => CFG.sweep[(i + r) % CFG.sweep.length]); // rotate the order each round
        for (const c of order) {
          const a = await attempt(`sweep ${kib(c)}`, () => noDevtoolsUpload(sweepServers.get(c), files[CFG.sweepMiB], PAGE_OPTS), errors);
          if (a) push(sweep, c, a);
          const ms = await attempt(`bare ws ${kib(c)}`, () => oneInFlight(raw.port, CFG.rawMiB * MiB, c), errors);
          if (ms) push(rawRuns, `ack:${c}`, CFG.rawMiB / (ms / 1000));
          const cr = await attempt(`Chromium -> bare ws ${kib(c)}`, () => chromiumRawUpload(sweepServers.get(c), files[CFG.sweepMiB], raw.port, c, PAGE_OPTS), errors);
          if (cr) push(rawRuns, `chromium:${c}`, cr.mibps);
          const nc = await attempt(`Node client -> Inlet ${kib(c)}`, () => concurrentUploads(sweepServers.get(c), [files[CFG.sweepMiB]], { sampleRss, verifyStored }), errors);
          const ncOk = nc && nc.shaOk === 1 && !nc.results[0].error;
          if (nc && !ncOk) errors.push(`Node client -> Inlet ${kib(c)}: ${nc.results[0].error ?? 'sha256 mismatch'}`);
          if (ncOk) push(rawRuns, `inlet-node:${c}`, CFG.sweepMiB / (nc.results[0].totalMs / 1000));
          say(`  sweep ${kib(c)}: Inlet ${fix(a?.mibps)} MiB/s, bare ws ${fix(ms ? CFG.rawMiB / (ms / 1000) : NaN)} MiB/s, Chromium -> bare ws ${fix(cr?.mibps)} MiB/s, Node client -> Inlet ${fix(ncOk ? CFG.sweepMiB / (nc.results[0].totalMs / 1000) : NaN)} MiB/s`);
        }
        for (const c of [64 * KiB, DEF_CHUNK]) {
          const ms = await attempt(`bare ws+write ${kib(c)}`, () => oneInFlight(rawWrite.port, CFG.rawMiB * MiB, c), errors);
          if (ms) push(rawRuns, `write:${c}`, CFG.rawMiB / (ms / 1000));
        }
      }
    }

    // ---------------------------------------------------------------- big file, memory
    say(`${CFG.big.mib} MiB upload on a fresh server (load ${load()})`);
    const bigSrv = await startInletServer({ workDir: WORK, tag: 'big' });
    R.big = { freshServerRssMiB: (procMem(bigSrv.pid)?.rss ?? NaN) / MiB, runs: [] };
    try {
      for (const method of CFG.big.playwright ? ['no-devtools', 'playwright'] : ['no-devtools']) {
        const f = files[CFG.big.mib];
        const res = await attempt(`Inlet ${method} ${CFG.big.mib} MiB`, () => (method === 'no-devtools' ? noDevtoolsUpload(bigSrv, f, PAGE_OPTS) : pw.upload(bigSrv, f)), errors);
        if (res) R.big.runs.push(res);
        say(`  ${method}: ${fix(res?.mibps)} MiB/s, RSS growth ${fix(res?.mem?.growthMiB)} MiB, sha ${res?.shaOk ? 'OK' : 'FAIL'}`);
      }
      R.big.leftoverTmp = dirUsage(bigSrv.tmpDir);
    } finally {
      await bigSrv.stop();
    }

    // ---------------------------------------------------------------- concurrency
    R.conc = [];
    for (const c of [undefined, ...CFG.concSweep]) {
      const label = c ? kib(c) : 'default';
      say(`${CFG.conc.clients} x ${CFG.conc.mib} MiB concurrent, chunk ${label} (load ${load()})`);
      const srv = await startInletServer({ workDir: WORK, tag: `conc-${c ? c / KiB : 'default'}`, chunkBytes: c, maxFrameBytes: c ? frameFor(c) : undefined });
      try {
        const res = await attempt(`concurrent (${label})`, () => concurrentUploads(srv, concFiles, { sampleRss, verifyStored }), errors);
        if (res) {
          R.conc.push({ chunk: c ?? null, ...res, leftoverTmp: dirUsage(srv.tmpDir) });
          const ok = res.results.filter((x) => !x.error);
          say(`  aggregate ${fix((CFG.conc.clients * CFG.conc.mib) / (res.wallMs / 1000))} MiB/s, errors ${res.results.length - ok.length}, sha ${res.shaOk}/${res.files}, RSS growth ${fix(res.mem?.growthMiB)} MiB`);
        }
      } finally {
        await srv.stop();
      }
    }
  } finally {
    await pw.close().catch(() => {});
    await raw.stop();
    await rawWrite.stop();
    await dataServer.close();
    R.leftoverTmp = {};
    for (const s of servers) {
      R.leftoverTmp[s.tag] = dirUsage(s.tmpDir);
      await s.stop();
    }
    rmSync(WORK, { recursive: true, force: true });
  }
  R.loadEnd = load();
  R.elapsedSec = (Date.now() - started) / 1000;
  Object.assign(R, { single, lvjs, sweep, rawRuns, errors });
  writeFileSync(join(BENCH_DIR, 'results-inlet-uploads.json'), JSON.stringify(R, null, 2));
  print(R);
}

// ==================================================================== report

function print(R) {
  const out = [];
  const w = (s = '') => out.push(s);
  const m = R.machine;
  const okCount = (runs) => `${runs.filter((x) => x.shaOk).length}/${runs.length} ${runs.every((x) => x.shaOk) ? 'OK' : 'FAIL'}`;
  const mibps = (runs) => median(runs.map((x) => x.mibps));

  w(`=== Inlet upload benchmark (${R.mode}) ${R.startedAt} ===`);
  w(`machine: node ${m.node} | ${m.chromium} | ${m.cores} cores (${m.cpu}) | ${m.memGiB} GiB RAM | load avg at start ${R.loadStart}, at end ${R.loadEnd}`);
  w(`software: inlet ${m.inlet} with phoenix_live_view client ${m.lvClient} (bundled), ws ${m.ws}, playwright-core ${m.playwright}${R.lvjsVersions ? ` | liveviewjs ${R.lvjsVersions.liveviewjs} + @liveviewjs/express ${R.lvjsVersions.express} with client ${R.lvjsVersions.client}` : ''}`);
  if (R.build) w(`inlet build: git HEAD ${R.build.head}, ${R.build.changedUnderPackages} uncommitted change(s) under packages/, newest dist file ${R.build.distBuiltAt}`);
  const D = R.defaults ?? { chunk: MiB, chunkTimeout: 10000, maxFrame: 9 * MiB };
  w(`Inlet defaults (read from the build): chunkSize ${D.auto ? `'auto' (${kib(D.chunk)} for 100 MiB)` : kib(D.chunk)}, chunkTimeout ${D.auto ? `'auto' (${D.chunkTimeout / 1000} s for that chunk)` : `${D.chunkTimeout / 1000} s`}, maxFrameBytes ${kib(D.maxFrame)}; one chunk in flight per entry (official client)`);
  w('Timing: file assigned to the input -> page shows the saved file (change, preflight, chunks, progress, consume incl.).');
  w('TTFP = submit -> first progress push (the client sends it right after the first chunk is acknowledged).');
  w();

  // 1
  w(`1. Throughput, one file, Inlet defaults (median of ${R.cfg.runs} for <= 100 MiB; 1 run for the ${R.cfg.big.mib} MiB file)`);
  w(`   ${pad('size', 9)}${pad('method', 13)}${lpad('MiB/s', 8)}  ${pad('range', 13)}${lpad('time s', 8)}${lpad('TTFP ms', 9)}${lpad('change ms', 11)}  sha256`);
  const row1 = (size, method, runs) =>
    w(
      `   ${pad(size, 9)}${pad(method, 13)}${lpad(fix(mibps(runs)), 8)}  ${pad(sortedRange(runs.map((x) => x.mibps)), 13)}${lpad(fix(median(runs.map((x) => x.totalMs)) / 1000, 2), 8)}${lpad(fix(median(runs.map((x) => x.firstProgressMs)), 0), 9)}${lpad(fix(median(runs.map((x) => x.changeMs)), 0), 11)}  ${okCount(runs)}`,
    );
  for (const mib of R.cfg.sizes) {
    for (const method of ['no-devtools', 'playwright']) {
      const runs = R.single[`${method}:${mib}`] ?? [];
      if (runs.length) row1(`${mib} MiB`, method === 'no-devtools' ? 'no-DevTools' : 'Playwright', runs);
      else w(`   ${pad(`${mib} MiB`, 9)}${pad(method, 13)} no result`);
    }
  }
  for (const r of R.big.runs) row1(R.cfg.big.mib >= 1024 ? `${R.cfg.big.mib / 1024} GiB` : `${R.cfg.big.mib} MiB`, r.method === 'no-devtools' ? 'no-DevTools' : 'Playwright', [r]);
  w();

  // 2
  w(`2. Server memory during the ${R.cfg.big.mib} MiB upload, consume included (fresh server, ${fix(R.big.freshServerRssMiB)} MiB RSS after start; baseline = RSS when the page is ready; RSS sampled every 10 ms + VmHWM after reset)`);
  for (const r of R.big.runs) {
    const g = r.mem.growthMiB;
    w(
      `   ${pad(r.method === 'no-devtools' ? 'no-DevTools' : 'Playwright', 12)} baseline ${fix(r.mem.baseMiB)} MiB, peak ${fix(r.mem.peakMiB)} MiB (sampled ${fix(r.mem.sampledPeakMiB)}, VmHWM ${fix(r.mem.hwmMiB)}), growth ${fix(g)} MiB -> target < 64 MiB: ${g < 64 ? 'met' : 'NOT met'}; server CPU ${fix(r.mem.cpuSec)} s`,
    );
    if (r.mem.heap) w(`   ${pad('', 12)} ${heapText(r.mem.heap).slice(2)}`);
  }
  const lt = R.big.leftoverTmp;
  if (lt) w(`   upload temp files left after consume: ${lt.files} (${fix(lt.bytes / MiB)} MiB)`);
  const g100 = (R.single[`no-devtools:${Math.max(...R.cfg.sizes)}`] ?? []).map((x) => x.mem.growthMiB);
  if (g100.length) w(`   for comparison, growth during ${Math.max(...R.cfg.sizes)} MiB (no-DevTools, warm server): median ${fix(median(g100))} MiB, max ${fix(Math.max(...g100))} MiB`);
  w();

  // 3
  const c0 = R.conc.find((c) => c.chunk === null);
  w(`3. ${R.cfg.conc.clients} concurrent uploads x ${R.cfg.conc.mib} MiB, protocol-level ws clients (Phoenix V2 frames), Inlet defaults`);
  if (c0) for (const line of concLines(c0, R.cfg.conc)) w(line);
  else w('   no result');
  w();

  // 4
  w('4. References, measured in the same run');
  const big = Math.max(...R.cfg.lvjsSizes);
  if (R.lvjsVersions) {
    w(`   LiveViewJS ${R.lvjsVersions.liveviewjs} at its defaults (64 KiB chunks), same files, via ${LVJS_SCRIPTS} (1 run per invocation, interleaved)`);
    for (const mib of R.cfg.lvjsSizes) {
      for (const kind of ['nocdp', 'playwright']) {
        const runs = R.lvjs[`${kind}:${mib}`] ?? [];
        if (!runs.length) continue;
        w(
          `   ${pad(`${mib} MiB`, 9)}${pad(kind === 'nocdp' ? 'no-DevTools' : 'Playwright', 13)}${lpad(fix(mibps(runs)), 8)} MiB/s  range ${pad(sortedRange(runs.map((x) => x.mibps)), 13)} runs ${runs.length}  sha256 ${runs.filter((x) => x.shaOk).length}/${runs.length}${kind === 'playwright' ? `  server peak RSS ${fix(Math.max(...runs.map((x) => x.peakRssMiB ?? NaN)))} MiB` : ''}`,
        );
      }
    }
  } else w('   LiveViewJS: not measured');
  w(`   bare ws over loopback, ${R.cfg.rawMiB} MiB, one message in flight (server acks each message with "ok")`);
  for (const c of R.cfg.sweep) {
    const xs = R.rawRuns[`ack:${c}`] ?? [];
    w(`   ${pad(kib(c), 9)}${lpad(fix(median(xs)), 8)} MiB/s  range ${sortedRange(xs)}`);
  }
  w(`   Chromium page -> the same bare ws server, ${R.cfg.sweepMiB} MiB, the official client's pacing (FileReader slice, copy behind a 19-byte header, send, wait for "ok", setTimeout 0)`);
  for (const c of R.cfg.sweep) {
    const xs = R.rawRuns[`chromium:${c}`] ?? [];
    w(`   ${pad(kib(c), 9)}${lpad(fix(median(xs)), 8)} MiB/s  range ${sortedRange(xs)}`);
  }
  w(`   Node protocol-level client (ws-clients.mjs, one upload) -> Inlet, ${R.cfg.sweepMiB} MiB, chunkSize set per row: Inlet's server side without the browser`);
  for (const c of R.cfg.sweep) {
    const xs = R.rawRuns[`inlet-node:${c}`] ?? [];
    w(`   ${pad(kib(c), 9)}${lpad(fix(median(xs)), 8)} MiB/s  range ${sortedRange(xs)}`);
  }
  w(`   Node ws client -> bare ws server that also writes + hashes each message, ${R.cfg.rawMiB} MiB`);
  for (const c of [64 * KiB, D.chunk]) {
    const xs = R.rawRuns[`write:${c}`] ?? [];
    if (xs.length) w(`   ${pad(kib(c), 9)}${lpad(fix(median(xs)), 8)} MiB/s  range ${sortedRange(xs)}`);
  }
  w('   Ratios:');
  const inletAt = (method, mib) => mibps(R.single[`${method}:${mib}`] ?? []);
  for (const [method, kind, label] of [
    ['no-devtools', 'nocdp', 'no-DevTools'],
    ['playwright', 'playwright', 'Playwright'],
  ]) {
    const l = mibps(R.lvjs[`${kind}:${big}`] ?? []);
    const i = inletAt(method, big);
    if (Number.isFinite(l) && Number.isFinite(i)) w(`   Inlet / LiveViewJS, ${big} MiB, ${pad(label, 12)}: ${fix(i / l, 1)}x  (${fix(i)} / ${fix(l)} MiB/s; target >= 5x: ${i / l >= 5 ? 'met' : 'NOT met'})`);
  }
  const def = D.chunk;
  const bare = median(R.rawRuns[`ack:${def}`] ?? []);
  const inletBig = inletAt('no-devtools', Math.max(...R.cfg.sizes));
  if (Number.isFinite(bare)) {
    w(
      `   Inlet / bare ws one-in-flight, same chunk size (${kib(def)}), ${Math.max(...R.cfg.sizes)} MiB no-DevTools: ${fix((100 * inletBig) / bare, 0)} %  (${fix(inletBig)} / ${fix(bare)} MiB/s; target >= 70 %: ${inletBig / bare >= 0.7 ? 'met' : 'NOT met'})`,
    );
    const sw = median((R.sweep[def] ?? []).map((x) => x.mibps));
    if (Number.isFinite(sw)) w(`   same, from the sweep (${R.cfg.sweepMiB} MiB, chunkSize set to ${kib(def)} explicitly): ${fix((100 * sw) / bare, 0)} %`);
    const nd = median(R.rawRuns[`inlet-node:${def}`] ?? []);
    if (Number.isFinite(nd)) w(`   Inlet with a Node protocol-level client / bare ws (Node client), both ${kib(def)}: ${fix((100 * nd) / bare, 0)} %  (${fix(nd)} / ${fix(bare)} MiB/s)`);
    const cb = median(R.rawRuns[`chromium:${def}`] ?? []);
    if (Number.isFinite(cb) && Number.isFinite(sw)) w(`   Inlet (sweep, ${kib(def)}) / Chromium page -> bare ws at ${kib(def)} (the browser-side ceiling): ${fix((100 * sw) / cb, 0)} %  (${fix(sw)} / ${fix(cb)} MiB/s)`);
  }
  w();

  // 5
  w(`5. Chunk-size sweep: Inlet, ${R.cfg.sweepMiB} MiB, no DevTools (median of ${R.cfg.sweepRuns}, interleaved with bare ws at the same size)`);
  w(`   ${pad('chunk', 9)}${lpad('Inlet', 8)}  ${pad('range', 13)}${lpad('bare ws', 8)}${lpad('Inlet/', 8)}${lpad('Chrom.', 8)}${lpad('Inlet/', 8)}${lpad('Node->', 8)}${lpad('TTFP', 7)}${lpad('1st chunk', 10)}${lpad('RSS +', 7)}   ${R.cfg.conc.clients} x ${R.cfg.conc.mib} MiB concurrent: aggregate, per upload, RSS +, errors`);
  w(`   ${pad('', 9)}${lpad('MiB/s', 8)}  ${pad('', 13)}${lpad('MiB/s', 8)}${lpad('bare', 8)}${lpad('->bare', 8)}${lpad('Chrom.', 8)}${lpad('Inlet', 8)}${lpad('ms', 7)}${lpad('sent ms', 10)}${lpad('MiB', 7)}`);
  for (const c of R.cfg.sweep) {
    const runs = R.sweep[c] ?? [];
    const i = mibps(runs);
    const b = median(R.rawRuns[`ack:${c}`] ?? []);
    const cb = median(R.rawRuns[`chromium:${c}`] ?? []);
    const conc = R.conc.find((x) => (x.chunk ?? def) === c);
    let concText = '(not run)';
    if (conc) {
      const ok = conc.results.filter((x) => !x.error);
      concText = `${fix((R.cfg.conc.clients * R.cfg.conc.mib) / (conc.wallMs / 1000))} MiB/s, ${fix(median(ok.map((x) => R.cfg.conc.mib / (x.totalMs / 1000))))} MiB/s, ${fix(conc.mem?.growthMiB)} MiB, ${conc.results.length - ok.length}${conc.chunk === null ? ' (the default run of section 3)' : ''}`;
    }
    w(
      `   ${pad(kib(c), 9)}${lpad(fix(i), 8)}  ${pad(sortedRange(runs.map((x) => x.mibps)), 13)}${lpad(fix(b), 8)}${lpad(`${fix((100 * i) / b, 0)}%`, 8)}${lpad(fix(cb), 8)}${lpad(`${fix((100 * i) / cb, 0)}%`, 8)}${lpad(fix(median(R.rawRuns[`inlet-node:${c}`] ?? [])), 8)}${lpad(fix(median(runs.map((x) => x.firstProgressMs)), 0), 7)}${lpad(fix(median(runs.map((x) => x.firstChunkMs)), 0), 10)}${lpad(fix(median(runs.map((x) => x.mem.growthMiB)), 0), 7)}   ${concText}  sha ${okCount(runs)}`,
    );
  }
  w('   Columns: Inlet = browser upload (timed as in section 1); bare ws = Node client, one message in flight; Chrom.->bare = Chromium page with the');
  w("   client's pacing to the bare ws server; Node->Inlet = protocol-level Node client to Inlet; TTFP = submit -> first progress push;");
  w('   1st chunk sent = submit -> first chunk frame leaves the page; RSS + = server RSS growth during one upload (warm server, median).');
  w('   Computed, not measured (loopback has no latency and no bandwidth limit):');
  const mbit = (bytes) => fix((bytes * 8) / 1e6 / 10, 2);
  w(`   - chunkTimeout 10 s bounds each chunk's transfer, so a file needs a sustained uplink of at least chunk / 10 s: ${R.cfg.sweep.map((c) => `${kib(c)} ${mbit(c)}`).join(', ')} Mbit/s (N files in parallel share the link: N times that).`);
  const model = (c, rtt, mbps) => c / MiB / (rtt + c / ((mbps * 1e6) / 8));
  for (const [rtt, mbps] of [
    [0.01, 1000],
    [0.05, 100],
    [0.1, 20],
  ]) {
    const cap = (mbps * 1e6) / 8 / MiB;
    w(`   - stop-and-wait over RTT ${rtt * 1000} ms, ${mbps} Mbit/s (link ${fix(cap)} MiB/s): ${R.cfg.sweep.map((c) => `${kib(c)} ${fix(model(c, rtt, mbps))}`).join(', ')} MiB/s; first progress after ${R.cfg.sweep.map((c) => `${fix((rtt + c / ((mbps * 1e6) / 8)) * 1000, 0)}`).join(' / ')} ms + preflight`);
  }
  w();
  const left = Object.entries(R.leftoverTmp ?? {}).filter(([, u]) => u.files > 0);
  w(`Upload temp files left in server temp dirs at the end: ${left.length ? left.map(([t, u]) => `${t}: ${u.files} (${fix(u.bytes / MiB)} MiB)`).join(', ') : 'none'}`);
  w(`Errors: ${R.errors.length ? '' : 'none'}`);
  for (const e of R.errors) w(`   - ${e}`);
  w(`Elapsed ${fix(R.elapsedSec / 60, 1)} min. Raw figures: ${join(BENCH_DIR, 'results-inlet-uploads.json')}`);
  console.log(out.join('\n'));
}

/** "JS heap peak …, external …" from the server's own process.memoryUsage() sampling. */
function heapText(h) {
  if (!h) return '';
  return `; in the server at peak: JS heap used ${fix(h.heapUsedMiB)} MiB (${fix(h.heapUsedStartMiB)} at start), external ${fix(h.externalMiB)} MiB (${fix(h.externalStartMiB)} at start) of which ArrayBuffers ${fix(h.arrayBuffersMiB)} MiB`;
}

function concLines(c, cfg) {
  const ok = c.results.filter((x) => !x.error);
  const per = ok.map((x) => cfg.mib / (x.totalMs / 1000));
  const lines = [
    `   wall ${fix(c.wallMs / 1000, 2)} s, aggregate ${fix((cfg.clients * cfg.mib) / (c.wallMs / 1000))} MiB/s; per upload: median ${fix(median(per))} MiB/s (range ${sortedRange(per)}), median time ${fix(median(ok.map((x) => x.totalMs)) / 1000, 2)} s, median first chunk ack ${fix(median(ok.map((x) => x.firstAckMs)), 0)} ms`,
    `   errors ${c.results.length - ok.length}; sha256 ${c.shaOk}/${c.files} ${c.shaOk === c.files ? 'OK' : 'FAIL'}; server RSS baseline (all ${cfg.clients} joined) ${fix(c.mem?.baseMiB)} MiB, peak ${fix(c.mem?.peakMiB)} MiB, growth ${fix(c.mem?.growthMiB)} MiB; server CPU ${fix(c.mem?.cpuSec)} s; temp files left ${c.leftoverTmp?.files ?? '?'}`,
    `   ${heapText(c.heap).slice(2)}`,
  ];
  const errs = [...new Set(c.results.filter((x) => x.error).map((x) => x.error))];
  if (errs.length) lines.push(`   error messages: ${errs.slice(0, 3).join(' | ')}`);
  return lines;
}

if (args.includes('--print')) {
  // re-print the tables of an earlier run: --print [results.json]
  const i = args.indexOf('--print');
  const file = args[i + 1] && !args[i + 1].startsWith('--') ? args[i + 1] : join(BENCH_DIR, 'results-inlet-uploads.json');
  print(JSON.parse(readFileSync(file, 'utf8')));
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
