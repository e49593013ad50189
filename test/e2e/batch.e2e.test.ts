/**
 * 10,000 files in one input (issue #11), through the official client's own
 * uploader in headless Chromium, on the /uploads/batch example: every file is
 * stored byte for byte (sha256 of each stored file against its source), the
 * page keeps its one socket and its one join of the view, and the server's
 * memory stays bounded. The files are made in the page (a DataTransfer of
 * File objects) from a generator the test runs too, so nothing touches disk
 * on the browser side.
 *
 * INLET_BATCH_FILES sets the count. The default, 500, is what CI affords: the
 * official client's cost grows with the cube of the batch (every entry it holds
 * re-reads the input's ref list each time the input changes, and the input
 * changes once per finished file), so 1,000 files take minutes and 10,000 do not
 * finish; docs/uploads.md, "10,000 files", has the measurements.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { InletServer } from 'inletjs/node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser, startExample } from '../support/browser.js';
import { batchFile } from '../support/batch-files.js';

const COUNT = Number(process.env.INLET_BATCH_FILES ?? 500);

const batchName = (i: number): string => `f${String(i).padStart(5, '0')}.bin`;

let root: string;
let store: string;
let browser: Browser;
let server: InletServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-e2e-batch-'));
  store = join(root, 'store');
  browser = await launchBrowser();
  // Joins past the socket's and the view's channel limits wait (the client joins one channel per file at once).
  server = await startExample({ storeRoot: store, uploadTmpDir: join(root, 'tmp'), maxWaitingJoins: 10_000 } as never);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

it(`uploads ${COUNT} files chosen at once: all stored byte for byte, one socket, one join, bounded memory`, async () => {
  const page: Page = await browser.newPage();
  const errors = collectPageErrors(page);
  let sockets = 0;
  let closedEarly = 0;
  let viewJoins = 0;
  let uploadJoins = 0;
  let done = false;
  page.on('websocket', (ws) => {
    sockets++;
    ws.on('close', () => {
      if (!done) closedEarly++;
    });
    ws.on('framesent', (f) => {
      if (typeof f.payload !== 'string' || !f.payload.includes('"phx_join"')) return;
      if (f.payload.includes('"lv:')) viewJoins++;
      else if (f.payload.includes('"lvu:')) uploadJoins++;
    });
  });
  let peakRss = 0;
  const baseRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);

  await gotoLive(page, `${server.url}/uploads/batch`);
  const started = Date.now();
  await page.evaluate(`(() => {
    const batchFile = ${batchFile.toString()};
    const dt = new DataTransfer();
    for (let i = 0; i < ${COUNT}; i++) dt.items.add(new File([batchFile(i)], 'f' + String(i).padStart(5, '0') + '.bin', { type: 'application/octet-stream' }));
    const input = document.querySelector('input[type=file]');
    input.files = dt.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  })()`);
  // Waits for every file to be saved, saying where the batch is every 10 s.
  for (let last = ''; ; ) {
    const state = await page.evaluate<string>(`[document.getElementById('saved-count')?.textContent, document.querySelectorAll('#entries > li').length, document.querySelectorAll('#entries .error').length].join(' ')`);
    if (state.startsWith(`${COUNT} `)) break;
    if (Date.now() - started > 600_000) throw new Error(`batch stuck at saved/pending/errored ${state}`);
    if (process.env.INLET_BATCH_TRACE && state !== last) console.log(`[batch] ${((Date.now() - started) / 1000).toFixed(0)} s: saved/pending/errored ${state}`);
    last = state;
    await new Promise((r) => setTimeout(r, process.env.INLET_BATCH_TRACE ? 10_000 : 500));
  }
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  expect(await page.$$eval('#entries > li', (els) => els.length)).toBe(0);
  expect(await page.textContent('#chosen')).toBe(String(COUNT));

  const dir = join(store, 'batch');
  const names = (await readdir(dir)).sort();
  const storedHashes = new Map<string, string>();
  for (const n of names) storedHashes.set(n, createHash('sha256').update(await readFile(join(dir, n))).digest('hex'));
  const expected = new Map<string, string>();
  for (let i = 0; i < COUNT; i++) expected.set(batchName(i), createHash('sha256').update(batchFile(i)).digest('hex'));
  expect(storedHashes.size).toBe(COUNT);
  expect([...storedHashes].filter(([n, h]) => expected.get(n) !== h)).toEqual([]);

  done = true;
  expect({ sockets, closedEarly, viewJoins }).toEqual({ sockets: 1, closedEarly: 0, viewJoins: 1 });
  // Every file joined its upload channel at least once (joins past the limits wait; a client timeout rejoins).
  expect(uploadJoins).toBeGreaterThanOrEqual(COUNT);
  const growth = (peakRss - baseRss) / 2 ** 20;
  console.log(`[batch] ${COUNT} files in ${seconds.toFixed(1)} s; upload joins sent ${uploadJoins}; test-process RSS ${(baseRss / 2 ** 20).toFixed(0)} -> peak ${(peakRss / 2 ** 20).toFixed(0)} MiB (+${growth.toFixed(0)})`);
  expect(growth).toBeLessThan(512);
  expect(errors.unexpected()).toEqual([]);
  await page.close();
}, 900_000);
