#!/usr/bin/env node
// Inlet vs LiveViewJS 0.8.1 on the same view: the 1,000-row table of
// examples/views/rows.js and the same four events (bump one row, bump every
// 10th row, reverse, prepend). Inlet runs it twice: as a keyed comprehension
// (/rows) and as a stream (/rows-stream, examples/views/rows-stream.js: the
// rows live in the browser's DOM and each event sends only the rows it
// touches). Prints figures and ratios; asserts nothing.
//
//   npm run build && node bench/core.mjs [--runs 30] [--ws-runs 60] [--no-browser]
//
// Figures, per event:
//   1. round trip in Chromium with each server's own client (Inlet: the
//      official phoenix_live_view 1.2.12; LiveViewJS: the 0.18.0 it pins),
//      timed inside the page from click() until a MutationObserver sees the
//      change in the DOM; median of --runs (default 30). A WebSocket wrapper
//      added before the page's scripts also stamps when the reply reaches the
//      page, which splits the round trip into "reply in the page" and the
//      client's patch.
//   2. bytes of the reply frame on the wire (UTF-8 bytes of the phx_reply text
//      frame, captured by Playwright's framereceived).
//   3. server work without a browser: a ws client in this process speaks
//      Phoenix V2 frames to each server and times send -> reply on loopback
//      (median of --ws-runs, default 60), and the server process's CPU time
//      over those events (/proc, 10 ms ticks, divided by the event count).
//
// Both servers run as child processes on 127.0.0.1, so neither shares an
// event loop with the ws client: Inlet is examples/server.js, LiveViewJS is
// bench/core-lvjs/server.mjs with the same markup. Their live DOMs are
// compared after every event series and reported (the stream page's rows are
// compared without the attributes streams add). What differs is only the
// wire format: Inlet's rows are a keyed comprehension (1.x "k"), LiveViewJS
// 0.8.1 has no keys and sends 0.18's "d" list whole on every change.
//
// LiveViewJS is installed by bench/core-lvjs/setup.sh into BENCH_DIR
// (default: lvjs-bench in the system temp directory), never into the repo.
// Chromium is Debian's /usr/bin/chromium, driven by playwright-core; under
// DevTools every WebSocket frame is also relayed to Playwright, which slows
// big frames a little (it counts against LiveViewJS's larger replies).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { WebSocket } from 'ws';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'lvjs-bench');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const RUNS = option('runs', 30);
const WS_RUNS = option('ws-runs', 60);
const WARMUP = 5;
const BROWSER = !args.includes('--no-browser');

/** The events compared, with the button the browser clicks and the payload the ws client sends. */
const EVENTS = [
  { key: 'bump', label: 'bump one row', button: '#bump', event: 'bump', value: { index: '0', value: '' } },
  { key: 'bump10', label: 'bump every 10th row', button: '#bump10', event: 'bump-every-10th', value: { value: '' } },
  { key: 'reverse', label: 'reverse 1,000 rows', button: '#reverse', event: 'reverse', value: { value: '' } },
  { key: 'prepend', label: 'prepend a row', button: '#prepend', event: 'prepend', value: { value: '' } },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------- servers

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `node script` with `env`; resolves once stdout matches `ready`. */
function startChild(name, script, env, ready) {
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => ready.test(String(d)) && resolve({ child, stderr: () => stderr }));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${stderr.slice(-2000)}`)));
  });
}

async function startServers() {
  if (!existsSync(join(ROOT, 'packages/core/dist/server/index.js')) || !existsSync(join(ROOT, 'packages/client/dist/inlet-client.js'))) {
    throw new Error('Inlet is not built: run `npm run build` first');
  }
  const setup = spawnSync('bash', [join(ROOT, 'bench/core-lvjs/setup.sh')], { env: { ...process.env, BENCH_DIR }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (setup.status !== 0) throw new Error('bench/core-lvjs/setup.sh failed');
  const lvjsVersion = String(setup.stdout).trim();
  const [inletPort, lvjsPort] = [await freePort(), await freePort()];
  const inlet = await startChild('Inlet', 'examples/server.js', { PORT: String(inletPort), HOST: '127.0.0.1', NODE_ENV: 'production', INLET_SECRET: 'bench-core-secret-0123456789abcdef-0123' }, /Inlet examples on/);
  let lvjs;
  try {
    // LiveViewJS fetches mime-db from a CDN at import; offline that only prints a stack on stderr.
    lvjs = await startChild('LiveViewJS', 'bench/core-lvjs/server.mjs', { PORT: String(lvjsPort), BENCH_DIR, APP_CSS: join(ROOT, 'examples/public/app.css') }, /LISTENING/);
  } catch (e) {
    inlet.child.kill('SIGTERM');
    throw e;
  }
  return {
    lvjsVersion,
    servers: [
      { name: 'Inlet', base: `http://127.0.0.1:${inletPort}`, path: '/rows', proc: inlet },
      { name: 'Inlet stream', base: `http://127.0.0.1:${inletPort}`, path: '/rows-stream', proc: inlet },
      { name: 'LiveViewJS', base: `http://127.0.0.1:${lvjsPort}`, path: '/rows', proc: lvjs },
    ],
    async stop() {
      for (const p of [inlet, lvjs]) {
        p.child.kill('SIGTERM');
        await new Promise((r) => (p.child.exitCode !== null ? r() : p.child.once('exit', r)));
      }
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms; NaN where /proc is missing. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5); here counted from field 3 (state).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

// ---------------------------------------------------------------- ws client

/**
 * Joins `path` the way the browser would: HTTP render for the tokens, then a
 * Phoenix V2 socket with the CSRF token and the cookies, then phx_join.
 */
async function joinRows(base, path) {
  const res = await fetch(`${base}${path}`);
  const html = await res.text();
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /<meta name="csrf-token" content="([^"]*)"/.exec(html)?.[1];
  const tag = /<div[^>]*data-phx-main[^>]*>/.exec(html)?.[0];
  const attr = (name) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag ?? '')?.[1];
  const id = attr('id');
  if (!csrf || !id) throw new Error(`no live view container at ${base}${path}`);
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/live/websocket?_csrf_token=${encodeURIComponent(csrf)}&vsn=2.0.0`, { headers: { cookie } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const pending = new Map();
  ws.on('message', (data) => {
    const t = performance.now();
    const text = String(data);
    const [, ref] = JSON.parse(text);
    pending.get(ref)?.({ t, bytes: data.length, frame: JSON.parse(text) });
    pending.delete(ref);
  });
  let ref = 0;
  const topic = `lv:${id}`;
  const push = (event, payload) => {
    const r = String(++ref);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${base}: no reply to ${event}`)), 30_000);
      pending.set(r, (reply) => {
        clearTimeout(timer);
        resolve({ ...reply, ms: reply.t - t0 });
      });
      const t0 = performance.now();
      ws.send(JSON.stringify(['1', r, topic, event, payload]));
    });
  };
  const joined = await push('phx_join', {
    url: `${base}${path}`,
    params: { _csrf_token: csrf, _mounts: 0 },
    session: attr('data-phx-session'),
    static: attr('data-phx-static') || null,
  });
  if (joined.frame[4]?.status !== 'ok') throw new Error(`${base}: join failed ${JSON.stringify(joined.frame[4]).slice(0, 200)}`);
  return {
    joinBytes: joined.bytes,
    async event(spec) {
      const reply = await push('event', { type: 'click', event: spec.event, value: spec.value });
      if (reply.frame[4]?.status !== 'ok' || !reply.frame[4].response?.diff) {
        throw new Error(`${base}: bad reply to ${spec.event}: ${JSON.stringify(reply.frame).slice(0, 200)}`);
      }
      return reply;
    },
    close: () => ws.close(),
  };
}

/**
 * Figure 3: send -> reply on loopback, each event type on freshly joined
 * views; plus each server process's CPU time over the measured events. The
 * targets take turns in blocks of 10 events (two of them share Inlet's
 * process, so CPU time is read around each target's own block).
 */
async function measureServers(servers) {
  // Warm every target's JIT on every event type first, on throwaway views.
  for (const s of servers) {
    const view = await joinRows(s.base, s.path);
    for (let i = 0; i < 20; i++) for (const spec of EVENTS) await view.event(spec);
    view.close();
  }
  const out = {};
  const joinBytes = {};
  const BLOCK = 10;
  for (const spec of EVENTS) {
    const views = await Promise.all(servers.map((s) => joinRows(s.base, s.path)));
    servers.forEach((s, i) => (joinBytes[s.name] = views[i].joinBytes));
    const ms = servers.map(() => []);
    const bytes = servers.map(() => []);
    const cpuTotal = servers.map(() => 0);
    for (let i = 0; i < WARMUP; i++) for (const view of views) await view.event(spec);
    for (let done = 0; done < WS_RUNS; done += BLOCK) {
      for (const [j, view] of views.entries()) {
        const cpu0 = cpuMs(servers[j].proc.child.pid);
        for (let i = done; i < Math.min(WS_RUNS, done + BLOCK); i++) {
          const reply = await view.event(spec);
          ms[j].push(reply.ms);
          bytes[j].push(reply.bytes);
        }
        cpuTotal[j] += cpuMs(servers[j].proc.child.pid) - cpu0;
      }
    }
    const cpu = cpuTotal.map((c) => c / WS_RUNS);
    views.forEach((v) => v.close());
    out[spec.key] = Object.fromEntries(servers.map((s, j) => [s.name, { ms: median(ms[j]), bytes: median(bytes[j]), cpu: cpu[j] }]));
  }
  return { perEvent: out, joinBytes };
}

// ---------------------------------------------------------------- browser

/**
 * Runs in the page: clicks the button and resolves with the ms until the DOM
 * shows the change (the #updates counter and the rows the event touches).
 */
function clickAndTime({ kind, button }) {
  const q = (s) => document.querySelector(s);
  const rows = () => document.querySelectorAll('#rows tbody tr');
  const value = (tr) => Number(tr.querySelector('.value').textContent);
  const arrivedBefore = window.__benchLastMessageAt;
  const all = rows();
  const before = { updates: Number(q('#updates').textContent), first: all[0].id, firstValue: value(all[0]), eleventhValue: value(all[10]), last: all[all.length - 1].id, count: all.length };
  const done = () => {
    if (Number(q('#updates').textContent) !== before.updates + 1) return false;
    const now = rows();
    switch (kind) {
      case 'bump':
        return now[0].id === before.first && value(now[0]) === before.firstValue + 1;
      case 'bump10':
        return value(now[0]) === before.firstValue + 1 && value(now[10]) === before.eleventhValue + 1;
      case 'reverse':
        return now[0].id === before.last && now[now.length - 1].id === before.first;
      case 'prepend':
        return now.length === before.count + 1 && now[1].id === before.first;
      default:
        throw new Error(`unknown kind ${kind}`);
    }
  };
  return new Promise((resolve, reject) => {
    let t0 = 0;
    const observer = new MutationObserver(() => {
      if (!done()) return;
      const ms = performance.now() - t0;
      observer.disconnect();
      clearTimeout(timer);
      const arrived = window.__benchLastMessageAt;
      resolve({ ms, replyMs: arrived !== arrivedBefore ? arrived - t0 : NaN });
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      reject(new Error(`${kind}: the DOM did not change within 10 s`));
    }, 10_000);
    observer.observe(q('[data-phx-main]'), { subtree: true, childList: true, characterData: true, attributes: true });
    t0 = performance.now();
    q(button).click();
  });
}

/**
 * Added before any page script: timestamps each WebSocket message as it
 * reaches the page (before the client's own onmessage runs), so a round trip
 * splits into "reply in the page" and "client patch".
 */
const STAMP_MESSAGES = `(() => {
  const Native = window.WebSocket;
  window.__benchLastMessageAt = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { window.__benchLastMessageAt = performance.now(); });
    }
  };
})();`;

async function openPage(browser, server) {
  const context = await browser.newContext();
  await context.addInitScript(STAMP_MESSAGES);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  const replies = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string' || !payload.includes('"phx_reply"')) return;
      replies.push({ bytes: Buffer.byteLength(payload, 'utf8'), join: payload.includes('"rendered"') });
    }),
  );
  await page.goto(`${server.base}${server.path}`);
  await page.waitForSelector('[data-phx-main].phx-connected', { timeout: 15_000 });
  await page.waitForFunction(() => document.querySelectorAll('#rows tbody tr').length === 1000);
  return { server, context, page, replies, problems };
}

/** Figures 1 and 2: both pages in one Chromium, interleaved click by click. */
async function measureBrowser(servers) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const version = browser.version();
  const out = {};
  const sameDom = {};
  try {
    for (const spec of EVENTS) {
      // A fresh page per event type, so every server starts from the mount state.
      const pages = [];
      for (const s of servers) pages.push(await openPage(browser, s));
      const ms = pages.map(() => []);
      const replyMs = pages.map(() => []);
      const bytes = pages.map(() => []);
      for (let i = 0; i < WARMUP + RUNS; i++) {
        for (const [j, p] of pages.entries()) {
          const mark = p.replies.length;
          const t = await p.page.evaluate(clickAndTime, { kind: spec.key, button: spec.button });
          // The frame event can reach us just after the evaluate result.
          for (let w = 0; p.replies.length === mark && w < 100; w++) await new Promise((r) => setTimeout(r, 10));
          const reply = p.replies.slice(mark).find((f) => !f.join);
          if (i >= WARMUP) {
            ms[j].push(t.ms);
            if (!Number.isNaN(t.replyMs)) replyMs[j].push(t.replyMs);
            if (reply) bytes[j].push(reply.bytes);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      // Same clicks on every page, so the rows must be identical (less what streams add).
      const dom = await Promise.all(
        pages.map((p) => p.page.evaluate(() => document.querySelector('#rows tbody').innerHTML.replace(/ data-phx-stream="[^"]*"/g, ''))),
      );
      sameDom[spec.key] = dom.every((h) => h === dom[0]);
      for (const [j, p] of pages.entries()) {
        if (p.problems.length) console.warn(`  ${p.server.name} page reported: ${p.problems.slice(0, 3).join(' | ')}`);
        out[spec.key] ??= {};
        out[spec.key][p.server.name] = {
          ms: median(ms[j]),
          p90: ms[j].sort((a, b) => a - b)[Math.floor(ms[j].length * 0.9)],
          replyMs: replyMs[j].length ? median(replyMs[j]) : NaN,
          bytes: bytes[j].length ? median(bytes[j]) : NaN,
        };
        await p.context.close();
      }
    }
  } finally {
    await browser.close();
  }
  return { perEvent: out, version, sameDom };
}

// ---------------------------------------------------------------- report

function clientVersions(dir) {
  const version = (name) => JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  return `phoenix_live_view ${version('phoenix_live_view')} + phoenix ${version('phoenix')}`;
}

const fmt = (n, unit) => (Number.isNaN(n) ? 'n/a' : unit === 'B' ? `${Math.round(n).toLocaleString('en-US')} B` : `${n.toFixed(2)} ms`);

const TARGETS = ['Inlet', 'Inlet stream', 'LiveViewJS'];
const ratio = (lvjs, x) => (Number.isNaN(lvjs) || Number.isNaN(x) || x === undefined ? 'n/a' : `${(lvjs / x).toFixed(1)}x`);

function printTable(rows) {
  const head = ['figure', 'Inlet keyed', 'Inlet stream', 'LiveViewJS', 'LVJS/keyed', 'LVJS/stream'];
  const cells = rows.map((r) => [
    r.figure,
    ...TARGETS.map((t) => fmt(r.v[t], r.unit)),
    ratio(r.v.LiveViewJS, r.v.Inlet),
    ratio(r.v.LiveViewJS, r.v['Inlet stream']),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

async function main() {
  const started = Date.now();
  const { servers, stop, lvjsVersion } = await startServers();
  try {
    console.log(`# Inlet vs LiveViewJS: 1,000-row table, same markup and events (Inlet as a keyed comprehension and as a stream)`);
    console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); ${lvjsVersion}`);
    console.log(`server round trips: ${WS_RUNS} per event after ${WARMUP} warm-up, targets in turns of 10; browser: ${BROWSER ? `${RUNS} per event after ${WARMUP} warm-up` : 'skipped'}\n`);

    const ws = await measureServers(servers);
    const br = BROWSER ? await measureBrowser(servers) : undefined;

    const rows = [];
    const pick = (per, key) => Object.fromEntries(TARGETS.map((t) => [t, per[t]?.[key] ?? NaN]));
    for (const spec of EVENTS) {
      const w = ws.perEvent[spec.key];
      const b = br?.perEvent[spec.key];
      if (b) {
        rows.push({ figure: `${spec.label}: click -> DOM changed, in Chromium`, unit: 'ms', v: pick(b, 'ms') });
        rows.push({ figure: `  of which click -> reply in the page`, unit: 'ms', v: pick(b, 'replyMs') });
      }
      const bytesLabel = b ? '  reply bytes on the wire' : `${spec.label}: reply bytes on the wire (ws client)`;
      rows.push({ figure: bytesLabel, unit: 'B', v: pick(b ?? w, 'bytes') });
      rows.push({ figure: `  server round trip, ws client on loopback`, unit: 'ms', v: pick(w, 'ms') });
      rows.push({ figure: `  server CPU per event (/proc)`, unit: 'ms', v: pick(w, 'cpu') });
    }
    rows.push({ figure: 'join reply (full render of 1,000 rows)', unit: 'B', v: ws.joinBytes });
    if (br) console.log(`Chromium ${br.version}; clients: Inlet ${clientVersions(ROOT)} (official, via @inletjs/client); LiveViewJS ${clientVersions(BENCH_DIR)} (what it pins)\n`);
    console.log('All times are medians; a ratio is LiveViewJS / Inlet (above 1 = Inlet smaller or faster).\n');
    printTable(rows);

    if (br) {
      const same = EVENTS.filter((e) => br.sameDom[e.key]).map((e) => e.key);
      console.log(`\nRows of the three pages identical after each event series: ${same.length === EVENTS.length ? 'yes' : `only after ${same.join(', ') || 'none'}`}`);
      console.log('p90 of click -> DOM (ms):', EVENTS.map((e) => `${e.key} ${TARGETS.map((t) => `${t} ${br.perEvent[e.key][t].p90.toFixed(1)}`).join(' / ')}`).join('; '));
    }
    console.log('\nTargets (from the issues), not asserted:');
    for (const spec of EVENTS) {
      const bytes = br ? br.perEvent[spec.key] : ws.perEvent[spec.key];
      const byteRatio = bytes.LiveViewJS.bytes / bytes.Inlet.bytes;
      const rt = ws.perEvent[spec.key].LiveViewJS.ms / ws.perEvent[spec.key].Inlet.ms;
      const cpu = ws.perEvent[spec.key].LiveViewJS.cpu / ws.perEvent[spec.key].Inlet.cpu;
      console.log(
        `  ${spec.label.padEnd(20)} keyed: diff bytes 1/${byteRatio.toFixed(1)} of LiveViewJS's (target <= 1/5: ${byteRatio >= 5 ? 'met' : 'NOT met'}); ` +
          `server ${rt.toFixed(1)}x faster round trip, ${cpu.toFixed(1)}x less CPU (target >= 2x: ${Math.min(rt, cpu) >= 2 ? 'met' : 'NOT met'})`,
      );
    }
    if (br) {
      for (const key of ['bump', 'prepend']) {
        const b = br.perEvent[key];
        const r = b.LiveViewJS.ms / b['Inlet stream'].ms;
        console.log(`  ${EVENTS.find((e) => e.key === key).label.padEnd(20)} stream: click -> DOM ${r.toFixed(1)}x faster than LiveViewJS (target >= 3x, issue #11: ${r >= 3 ? 'met' : 'NOT met'})`);
      }
    }
    console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    await stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
