/**
 * Load and soak: many joined views clicking, some of them uploading without
 * pause, against an Inlet server in a child process whose RSS, open file
 * descriptors and event-loop delay it reports itself (GET /__child/stats,
 * see test/faults/server-child.mjs).
 *
 *   fast (100 views, 10 uploading, ~28 s):      npx vitest run test/soak/load.soak.test.ts
 *   long (1,000 views, 100 uploading, 10 min):  INLET_LONG=1 npx vitest run test/soak/load.soak.test.ts
 *
 * Knobs: INLET_SOAK_VIEWS, INLET_SOAK_UPLOADERS, INLET_SOAK_SECONDS,
 * INLET_SOAK_WARMUP_SECONDS, INLET_SOAK_CLICK_MS (mean click interval per view),
 * INLET_SOAK_REPORT_SECONDS, INLET_SOAK_UPLOAD_PAUSE_MS (between one uploader's
 * uploads; 250 fast, 0 long).
 *
 * Views join /counter and click `inc`; each reply must carry the count the
 * client expects. Uploaders repeatedly upload 2–8 MiB files (2–4 MiB in the
 * fast profile) to /uploads/large, one 1 MiB chunk per round trip as the
 * official client does, save (consume → moveInto), check the sha256 the page
 * shows (and every fifth stored file read back), then delete the stored file
 * so the folder stays small. Every few seconds the suite prints the server's
 * RSS, fds, event-loop delay (p50/p99/max over the interval) and the error
 * count, then a summary. Required: RSS flat within 10 % after warm-up (mean of
 * the last third of the samples against the first third), no errors, and
 * once the views have gone, no temp file left and the fd count back to idle.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChild, type ChildServer, type ChildStats } from '../faults/child.js';
import { count, describe, eventually, inline, LiveClient, LONG, mean, mib, sha, sleep, table, walk } from '../faults/support.js';

const env = process.env;
const num = (name: string, fallback: number): number => (env[name] !== undefined ? Number(env[name]) : fallback);
const VIEWS = num('INLET_SOAK_VIEWS', LONG ? 1000 : 100);
const UPLOADERS = num('INLET_SOAK_UPLOADERS', LONG ? 100 : 10);
const SECONDS = num('INLET_SOAK_SECONDS', LONG ? 600 : 28);
const WARMUP = num('INLET_SOAK_WARMUP_SECONDS', LONG ? 60 : 10);
const CLICK_MS = num('INLET_SOAK_CLICK_MS', LONG ? 5000 : 1000);
const REPORT = num('INLET_SOAK_REPORT_SECONDS', LONG ? 30 : 5);
const SAMPLE_MS = LONG ? 2000 : 250;
const FILE_MIB: [number, number] = LONG ? [2, 8] : [2, 4];
/** Pause between one uploader's uploads: a little air in the fast profile, which shares the machine. */
const UPLOAD_PAUSE_MS = num('INLET_SOAK_UPLOAD_PAUSE_MS', LONG ? 0 : 250);
const HEARTBEAT_MS = 30_000;
const SECRET = 'load-soak-secret-0123456789abcdef0123';
// The 10 % requirement is the long profile's (10 minutes, after a minute of warm-up). The fast
// profile is 28 s on a CI machine shared with other suites: its bound only catches gross leaks.
const RSS_TOLERANCE = LONG ? 0.1 : 0.35;
/** File descriptors the server may hold beyond its idle count once every view has gone (a few in closing). */
const FD_SLACK = 16;

let root: string;
let child: ChildServer;
const errors = new Map<string, number>();
const errorSamples: string[] = [];
const samples: { t: number; rss: number; heap: number; fds: number }[] = [];
const reports: string[] = [];
const tally = { clicks: 0, uploads: 0, uploadBytes: 0, verifiedReadBack: 0 };
let running = true;

/**
 * Saves and the suite's deletions of stored files never overlap: the example
 * app lists the folder on every save (readdir, then stat each file), and a
 * file deleted between the two crashes that view with ENOENT.
 */
let storeLock: Promise<unknown> = Promise.resolve();
function withStore<T>(fn: () => Promise<T>): Promise<T> {
  const run = storeLock.then(fn);
  storeLock = run.catch(() => undefined);
  return run;
}

function fail(kind: string, detail: string): void {
  count(errors, kind);
  if (errorSamples.length < 20) errorSamples.push(`${kind}: ${detail.slice(0, 300)}`);
}

/** A pool of files, so the runner spends its CPU on the protocol, not on random bytes. */
const pool = Array.from({ length: 6 }, (_, i) => {
  const [lo, hi] = FILE_MIB;
  const size = Math.round((lo + ((hi - lo) * i) / 5) * 1024 * 1024) + i * 4099;
  const content = randomBytes(size);
  return { content, sha: sha(content) };
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-soak-'));
  child = await startChild({ secret: SECRET, storeRoot: join(root, 'store'), uploadTmpDir: join(root, 'tmp') });
}, 120_000);

afterAll(async () => {
  await child?.stop();
  await rm(root, { recursive: true, force: true });
});

/** Runs `fn` over `items` with at most `n` at once. */
async function limit<T>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

function heartbeats(c: LiveClient): void {
  void (async () => {
    while (running && !c.closed) {
      await sleep(HEARTBEAT_MS * (0.8 + Math.random() * 0.2));
      if (!running || c.closed) return;
      try {
        const ref = c.client.nextRef();
        const reply = c.client.waitFor((f) => f[1] === ref && f[2] === 'phoenix', 30_000);
        c.client.ws.send(JSON.stringify([null, ref, 'phoenix', 'heartbeat', {}]));
        await reply;
      } catch (e) {
        if (running) fail('heartbeat', (e as Error).message);
      }
    }
  })();
}

async function clicker(c: LiveClient): Promise<void> {
  let expected = Number(/<output id="count">(-?\d+)<\/output>/.exec(c.html())?.[1] ?? 0);
  // Spread the first clicks over one interval.
  await sleep(Math.random() * CLICK_MS);
  while (running) {
    try {
      const r = await c.click('inc');
      expected++;
      tally.clicks++;
      if (r.status !== 'ok') fail('click reply', JSON.stringify(r.response));
      const shown = Number(/<output id="count">(-?\d+)<\/output>/.exec(c.html())?.[1]);
      if (shown !== expected) {
        fail('click count', `expected ${expected}, page shows ${shown}`);
        expected = shown;
      }
    } catch (e) {
      if (running) fail('click', (e as Error).message);
      return;
    }
    await sleep(CLICK_MS * (0.5 + Math.random()));
  }
}

async function uploader(c: LiveClient, lane: number, store: string): Promise<void> {
  let n = 0;
  while (running) {
    const file = pool[(lane + n) % pool.length]!;
    const name = `u${lane}-${n++}.bin`;
    try {
      const entry = describe(name, file.content.length);
      const changed = await c.change([entry]);
      if (changed.status !== 'ok') throw new Error(`change: ${JSON.stringify(changed.response)}`);
      const pre = await c.preflight([entry]);
      const response = pre.response as { entries?: Record<string, string>; config?: { chunk_size: number } };
      const ref = entry.ref as string;
      const token = response.entries?.[ref];
      if (!token || !response.config) throw new Error(`preflight: ${JSON.stringify(pre.response).slice(0, 200)}`);
      const result = await c.sendFile(ref, token, file.content, response.config.chunk_size);
      if (result !== undefined) throw new Error(`upload: ${result}`);
      const saved = await withStore(() => c.submit());
      if (saved.status !== 'ok' || !c.html().includes(file.sha)) throw new Error(`save: sha256 ${file.sha.slice(0, 12)} not shown`);
      const path = join(store, 'files', name);
      if (n % 5 === 0) {
        if (sha(await readFile(path)) !== file.sha) throw new Error(`stored ${name} differs from its source`);
        tally.verifiedReadBack++;
      }
      await withStore(() => unlink(path));
      tally.uploads++;
      tally.uploadBytes += file.content.length;
      if (UPLOAD_PAUSE_MS > 0) await sleep(UPLOAD_PAUSE_MS);
    } catch (e) {
      if (running) fail('upload', `${name}: ${(e as Error).message}`);
      if (c.closed) return;
    }
  }
}

function loggedTotal(s: ChildStats): number {
  return Object.values(s.logged).reduce((a, b) => a + b, 0);
}

it(
  `holds ${VIEWS} views (${UPLOADERS} uploading) for ${SECONDS} s with flat RSS and no errors`,
  async () => {
    const idle = await child.stats({ gc: true });
    const setupStarted = Date.now();
    const views: LiveClient[] = [];
    await limit(
      Array.from({ length: VIEWS }, (_, i) => i),
      LONG ? 25 : 10,
      async (i) => {
        const c = await LiveClient.open(child.url, i < UPLOADERS ? '/uploads/large' : '/counter');
        views.push(c);
      },
    );
    const setupS = (Date.now() - setupStarted) / 1000;
    const base = await child.stats({ gc: true, reset: true });
    console.log(
      table(`load soak (${LONG ? 'long' : 'fast'} profile): setup`, [
        ['views joined', `${views.length} (${UPLOADERS} on /uploads/large, the rest on /counter) in ${setupS.toFixed(1)} s`],
        ['server at start', `RSS ${mib(base.rss)}, heap ${mib(base.heapUsed)}, fds ${base.fds}`],
        ['plan', `${SECONDS} s, warm-up ${WARMUP} s, click every ~${CLICK_MS} ms per view, files ${FILE_MIB[0]}–${FILE_MIB[1]} MiB`],
      ]),
    );
    const store = join(root, 'store');
    const work: Promise<void>[] = [];
    for (const c of views) {
      heartbeats(c);
      work.push(c.path === '/uploads/large' ? uploader(c, views.indexOf(c), store) : clicker(c));
    }
    const started = Date.now();
    let lastReport = started;
    let lastClicks = 0;
    let lastBytes = 0;
    reports.push('     t      RSS     heap   fds  ELD p50/p99/max ms   clicks/s  upload MiB/s  uploads  errors');
    while (Date.now() - started < SECONDS * 1000) {
      await sleep(SAMPLE_MS);
      const now = Date.now();
      const t = (now - started) / 1000;
      const due = now - lastReport >= REPORT * 1000 - SAMPLE_MS / 2;
      let s: ChildStats;
      try {
        s = await child.stats({ reset: due });
      } catch (e) {
        fail('stats', (e as Error).message);
        continue;
      }
      samples.push({ t, rss: s.rss, heap: s.heapUsed, fds: s.fds });
      if (due) {
        const secs = (now - lastReport) / 1000;
        const errs = [...errors.values()].reduce((a, b) => a + b, 0) + loggedTotal(s);
        const line = `${t.toFixed(0).padStart(6)}  ${mib(s.rss).padStart(9)} ${mib(s.heapUsed).padStart(9)} ${String(s.fds).padStart(5)}  ${`${s.eld.p50}/${s.eld.p99}/${s.eld.max}`.padStart(17)}  ${((tally.clicks - lastClicks) / secs).toFixed(0).padStart(9)}  ${((tally.uploadBytes - lastBytes) / secs / 1024 / 1024).toFixed(1).padStart(12)}  ${String(tally.uploads).padStart(7)}  ${String(errs).padStart(6)}`;
        reports.push(line);
        console.log(`[soak] ${line}`);
        lastReport = now;
        lastClicks = tally.clicks;
        lastBytes = tally.uploadBytes;
      }
    }
    running = false;
    const elapsed = (Date.now() - started) / 1000;
    await Promise.race([Promise.allSettled(work), sleep(60_000)]);
    const end = await child.stats();
    for (const c of views) c.close();
    // Every view ends: the server's temp files must go.
    let left: string[] = [];
    await eventually(async () => (left = await walk(join(root, 'tmp'))).length === 0, 20_000, 'temp files removed').catch(() => undefined);
    // …and its sockets and files: the fd count goes back to what it was before the views.
    let after = await child.stats({ gc: true });
    await eventually(async () => (after = await child.stats()).fds <= idle.fds + FD_SLACK, 30_000, 'fds back to idle').catch(() => undefined);

    // RSS flatness: samples after warm-up, first third against last third.
    const steady = samples.filter((x) => x.t >= WARMUP);
    const third = Math.max(1, Math.floor(steady.length / 3));
    const first = mean(steady.slice(0, third).map((x) => x.rss));
    const last = mean(steady.slice(-third).map((x) => x.rss));
    const drift = first > 0 ? last / first - 1 : 0;
    const logged = loggedTotal(end);
    const errorTotal = [...errors.values()].reduce((a, b) => a + b, 0) + logged;
    console.log(
      [
        table(`load soak (${LONG ? 'long' : 'fast'} profile): every ${REPORT} s`, reports.map((r) => [r, ''] as const)),
        table(`load soak (${LONG ? 'long' : 'fast'} profile): summary`, [
          ['duration', `${elapsed.toFixed(0)} s (warm-up ${WARMUP} s), ${VIEWS} views, ${UPLOADERS} uploading`],
          ['clicks', `${tally.clicks} (${(tally.clicks / elapsed).toFixed(0)}/s), every reply checked against the expected count`],
          ['uploads', `${tally.uploads} (${mib(tally.uploadBytes)}, ${(tally.uploadBytes / elapsed / 1024 / 1024).toFixed(1)} MiB/s), ${tally.verifiedReadBack} read back byte-exact`],
          ['RSS after warm-up: first third → last third', `${mib(first)} → ${mib(last)} (${(drift * 100).toFixed(1)} %, limit ±${RSS_TOLERANCE * 100} %)`],
          ['RSS min / max after warm-up', `${mib(Math.min(...steady.map((x) => x.rss)))} / ${mib(Math.max(...steady.map((x) => x.rss)))}`],
          ['heap first third → last third', `${mib(mean(steady.slice(0, third).map((x) => x.heap)))} → ${mib(mean(steady.slice(-third).map((x) => x.heap)))}`],
          ['fds: idle / joined / min / max / after views closed', `${idle.fds} / ${base.fds} / ${Math.min(...samples.map((x) => x.fds))} / ${Math.max(...samples.map((x) => x.fds))} / ${after.fds}`],
          ['server RSS after views closed (gc)', mib(after.rss)],
          ['temp files left after views closed', left.length],
          ['errors (client + server log)', `${errorTotal}  ${inline(errors)}  server: ${inline(end.logged)}`],
        ]),
        ...errorSamples,
        ...end.logSamples,
      ].join('\n'),
    );
    expect(errorTotal).toBe(0);
    expect(left).toEqual([]);
    expect(after.fds).toBeLessThanOrEqual(idle.fds + FD_SLACK);
    expect(Math.abs(drift)).toBeLessThanOrEqual(RSS_TOLERANCE);
  },
  (SECONDS + 600) * 1000,
);
