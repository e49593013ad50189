// One upload through Chromium and the official LiveView client, two ways:
//   noDevtoolsUpload: plain `chromium --headless …` with no DevTools client; the
//                     page uploads by itself (page.js) and reports its timings.
//   PlaywrightDriver: playwright-core drives the same page (setInputFiles, click).
// Both time from the file's assignment to the input until #saved lists the file
// (rendered after consume), sample the server's RSS meanwhile, and verify the
// stored file's sha256 against the source.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { MiB, sampleRss, sha256File, sleep } from './lib.mjs';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let runSeq = 0;

/** CPU seconds (user + system) of every live process in process group `pgid` (the browser and its children; a child that exits takes its share along). */
export function groupCpuSec(pgid) {
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(f[2]) === pgid) sum += (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return sum;
}

/** Checks what the server stored (and the sha256 it computed while receiving) against the source, then deletes it. */
export async function verifyStored(file, saved) {
  const s = saved?.find((x) => x.name === file.name) ?? saved?.[0];
  if (!s || !s.dest) return { shaOk: false, why: 'nothing saved' };
  let stored;
  try {
    stored = await sha256File(s.dest);
  } catch (e) {
    return { shaOk: false, why: String(e) };
  }
  try {
    unlinkSync(s.dest);
  } catch {}
  const fileOk = stored === file.sha256;
  const metaOk = s.sha256 === file.sha256;
  return { shaOk: fileOk && metaOk, fileOk, metaOk };
}

async function withTimeout(p, ms, what) {
  let t;
  const timeout = new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

/**
 * Starts a plain headless Chromium (no DevTools client) on `server.url + target(run)`,
 * releases the page once it reports ready (sampling the server's RSS from then on)
 * and resolves with the page's report and the memory figures.
 */
async function selfDrivenPage(server, target, { workDir, dataUrl, timeoutMs = 900000 }) {
  const run = `r${process.pid}-${++runSeq}`;
  const profile = mkdtempSync(join(workDir, 'chrome-'));
  const ready = server.waitFor('READY', (id) => id === run, 180000);
  const reported = server.waitFor('REPORT', (r) => r.run === run, timeoutMs);
  ready.catch(() => {});
  reported.catch(() => {});
  const chrome = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, `${server.url}${target(run)}&data=${encodeURIComponent(dataUrl)}`], { stdio: 'ignore', detached: true });
  const chromeExit = new Promise((r) => (chrome.exitCode !== null ? r() : chrome.once('exit', r)));
  let mem;
  let rep;
  try {
    await withTimeout(Promise.race([ready, chromeExit.then(() => Promise.reject(new Error('chromium exited')))]), 180000, 'page ready');
    const heap = server.memStart();
    const sampler = sampleRss(server.pid);
    const browserCpu0 = groupCpuSec(chrome.pid);
    server.send(`GO ${run}`);
    try {
      rep = await reported;
    } finally {
      mem = sampler.stop();
      mem.browserCpuSec = groupCpuSec(chrome.pid) - browserCpu0;
      mem.heap = await heap.stop().catch(() => undefined);
    }
  } finally {
    try {
      process.kill(-chrome.pid, 'SIGTERM'); // the process group of the browser started above
    } catch {}
    await Promise.race([chromeExit, sleep(5000)]);
    try {
      process.kill(-chrome.pid, 'SIGKILL');
    } catch {}
    await sleep(200);
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
  if (rep.error) throw new Error(`page error: ${rep.error}`);
  return { rep, mem };
}

/** Runs any self-driving page target (`target(run)` is its path and hash); resolves with its report and memory. */
export const runSelfDriven = (server, target, opts) => selfDrivenPage(server, target, opts);

/** One upload by a self-driving page in a Chromium without DevTools attached. */
export async function noDevtoolsUpload(server, file, opts) {
  const { rep, mem } = await selfDrivenPage(server, (run) => `/upload#auto=${encodeURIComponent(file.name)}&run=${run}`, opts);
  const v = await verifyStored(file, rep.saved);
  return {
    method: 'no-devtools',
    mib: file.size / MiB,
    totalMs: rep.totalMs,
    mibps: file.size / MiB / (rep.totalMs / 1000),
    changeMs: rep.changeMs,
    submitToSavedMs: rep.submitToSavedMs,
    firstChunkMs: rep.firstChunkMs,
    firstProgressMs: rep.firstProgressMs,
    mem,
    ...v,
  };
}

/**
 * Reference: the same file sent from a Chromium page (no LiveView, no DevTools)
 * to a bare ws server with the official client's pacing (see page.js rawDrive).
 */
export async function chromiumRawUpload(server, file, rawPort, chunkBytes, opts) {
  const { rep } = await selfDrivenPage(server, (run) => `/bench/raw#raw=${rawPort}&chunk=${chunkBytes}&file=${encodeURIComponent(file.name)}&run=${run}`, opts);
  return { totalMs: rep.totalMs, mibps: file.size / MiB / (rep.totalMs / 1000), firstAckMs: rep.firstProgressMs };
}

/** A Playwright-driven Chromium (one browser, a fresh context per upload). */
export class PlaywrightDriver {
  static async launch() {
    const d = new PlaywrightDriver();
    d.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS.filter((f) => f !== '--headless') });
    return d;
  }

  version() {
    return this.browser.version();
  }

  async upload(server, file, { timeoutMs = 900000 } = {}) {
    const ctx = await this.browser.newContext();
    try {
      const page = await ctx.newPage();
      const errors = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}/upload`);
      await page.waitForSelector('[data-phx-main].phx-connected', { timeout: 30000 });
      const heap = server.memStart();
      const sampler = sampleRss(server.pid);
      let mem;
      let t0;
      let t1;
      let tChange;
      try {
        t0 = performance.now();
        await page.setInputFiles('#f input[type=file]', file.path);
        await page.waitForSelector('#f input[type=file][data-phx-active-refs]:not([data-phx-active-refs=""])', { state: 'attached', timeout: 60000 });
        tChange = performance.now();
        await page.click('#f button[type=submit]');
        await page.waitForSelector('#saved li', { state: 'attached', timeout: timeoutMs });
        t1 = performance.now();
      } finally {
        mem = sampler.stop();
        mem.heap = await heap.stop().catch(() => undefined);
      }
      const { saved, marks } = await page.evaluate(() => ({
        saved: [...document.querySelectorAll('#saved li')].map((li) => ({ name: li.textContent, sha256: li.dataset.sha, dest: li.dataset.dest })),
        marks: window.__uploadMarks,
      }));
      const v = await verifyStored(file, saved);
      return {
        method: 'playwright',
        mib: file.size / MiB,
        totalMs: t1 - t0,
        mibps: file.size / MiB / ((t1 - t0) / 1000),
        changeMs: tChange - t0,
        firstChunkMs: marks.chunk - marks.submit,
        firstProgressMs: marks.progress - marks.submit,
        mem,
        consoleErrors: errors,
        ...v,
      };
    } finally {
      await ctx.close();
    }
  }

  close() {
    return this.browser.close();
  }
}
