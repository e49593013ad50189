/**
 * The official client over long polling, in headless Chromium, with
 * WebSockets blocked: the server refuses every upgrade (as a proxy that
 * does not pass WebSockets would), and the page asks for Phoenix's fallback
 * (`longPollFallbackMs`). Events, server pushes, live navigation, a
 * reconnect and uploads (byte-exact, by sha256) all go through
 * `/live/longpoll`. A browser without WebSocket at all uses long polling
 * from the start.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { InletServer } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collectPageErrors, launchBrowser, startExample, waitForConnected, type PageErrors } from '../support/browser.js';
import { makeRandomFile, sha256OfFile } from '../support/files.js';
import { reconnect } from '../support/suite.js';
import { gate } from '../../examples/views/gate.js';

const BOOT = (options: string) =>
  `<link rel="stylesheet" href="/app.css"><script type="module">import { connect } from "/inlet/inlet-client.js"; window.liveSocket = connect(${options});</script>`;

let root: string;
let store: string;
let files: string;
let browser: Browser;
let server: InletServer;
let context: BrowserContext;
let page: Page;
let errors: PageErrors;
let upgrades = 0;
/** Every /live/ request the page made, as "METHOD path". */
let liveRequests: string[] = [];
/** Lines of the page's long-poll POSTs that carried a binary frame (base64, not a JSON array). */
let binaryLines = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-e2e-lp-'));
  store = join(root, 'store');
  files = join(root, 'src');
  await mkdir(files);
  browser = await launchBrowser();
  server = await startExample({ storeRoot: store, uploadTmpDir: join(root, 'tmp'), scripts: BOOT('{ longPollFallbackMs: 2500 }') } as never);
  // WebSockets blocked: every upgrade is dropped before the handshake.
  server.http.removeAllListeners('upgrade');
  server.http.on('upgrade', (_req, socket: { destroy(): void }) => {
    upgrades++;
    socket.destroy();
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  context = await browser.newContext();
  page = await context.newPage();
  errors = collectPageErrors(page);
  liveRequests = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/live/')) liveRequests.push(`${r.method()} ${url.pathname}`);
    if (url.pathname === '/live/longpoll' && r.method() === 'POST') binaryLines += (r.postData() ?? '').split('\n').filter((l) => l.length > 0 && !l.startsWith('[')).length;
  });
  binaryLines = 0;
  upgrades = 0;
});

afterEach(async () => {
  gate.reset();
  // The refused WebSocket is the point of this file; anything else is not.
  expect(errors.unexpected([/WebSocket connection to .* failed/])).toEqual([]);
  await context.close();
});

async function open(path: string): Promise<void> {
  await page.goto(`${server.url}${path}`);
  await waitForConnected(page);
}

const transportName = () => page.evaluate('(() => { const s = window.liveSocket.getSocket(); return s.transportName(s.transport); })()') as Promise<string>;

describe('with WebSockets blocked', () => {
  it('falls back to long polling at once, and events and diffs travel over it', async () => {
    const started = Date.now();
    await open('/counter');
    // The refused upgrade is an error, so the client falls back without waiting out the 2.5 s.
    expect(Date.now() - started).toBeLessThan(2500);
    expect(upgrades).toBeGreaterThanOrEqual(1);
    expect(await transportName()).toBe('LongPoll');
    for (let i = 0; i < 3; i++) await page.click('#inc');
    await page.waitForSelector('#count >> text=3');
    expect(liveRequests).toContain('GET /live/longpoll');
    expect(liveRequests).toContain('POST /live/longpoll');
    // The fallback is remembered for the tab's session, as Phoenix does.
    expect(await page.evaluate('sessionStorage.getItem("phx:fallback:LongPoll")')).toBe('true');
  });

  it('delivers server pushes to a waiting poll (async results, one by one)', async () => {
    await open('/async?gate');
    expect(await page.textContent('#org')).toContain('Loading the organisation…');
    await expect.poll(() => gate.waiting('async:org')).toBe(1);
    gate.release('async:org');
    await page.waitForSelector('#org >> text=Acme, 12 members');
    await page.click('button:text-is("Report")');
    await expect.poll(() => gate.waiting('async:report')).toBe(1);
    gate.release('async:report');
    await page.waitForSelector('#report >> text=report ready');
  });

  it('navigates live between views and recovers after a reconnect', async () => {
    await open('/pages/one');
    const before = liveRequests.length;
    await page.click('a[href="/pages/two"]');
    await page.waitForFunction(() => location.pathname === '/pages/two');
    await waitForConnected(page);
    // Live navigation: no page load, the join went over the same poll session.
    expect(liveRequests.slice(before).every((r) => r.endsWith('/live/longpoll'))).toBe(true);
    await open('/counter');
    await page.click('#inc');
    await page.waitForSelector('#count >> text=1');
    await reconnect(page);
    expect(await transportName()).toBe('LongPoll');
    await page.click('#inc');
    await page.waitForSelector('#count >> text=1');
  });

  it('uploads files byte-exact (binary chunks travel in base64)', async () => {
    const small = await makeRandomFile(files, 'photo.png', 300_000);
    await open('/uploads/gallery');
    await page.setInputFiles('input[type=file]', small.path);
    await page.waitForSelector('.entry');
    await page.click('#save');
    await page.waitForSelector('#gallery img[alt="photo.png"]');
    expect(await sha256OfFile(join(store, 'uploads', 'photo.png'))).toBe(small.sha);

    const large = await makeRandomFile(files, 'big.bin', 6 * 1024 * 1024 + 123);
    await open('/uploads/large');
    await page.setInputFiles('input[type=file]', large.path);
    await page.waitForSelector('.entry');
    await page.click('#save');
    await page.waitForSelector('#saved li', { timeout: 60_000 });
    expect(await page.getAttribute('#saved li', 'data-sha256')).toBe(large.sha);
    expect(await readdir(join(store, 'files'))).toEqual(['big.bin']);
    expect(await sha256OfFile(join(store, 'files', 'big.bin'))).toBe(large.sha);
    expect(upgrades).toBeGreaterThanOrEqual(1);
    // The chunks went as binary frames in the POST bodies.
    expect(binaryLines).toBeGreaterThan(6);
  }, 90_000);
});

describe('in a browser without WebSocket', () => {
  let plain: InletServer;
  beforeAll(async () => {
    // The example's own boot script: a plain connect(), no fallback option.
    plain = await startExample({ storeRoot: store, uploadTmpDir: join(root, 'tmp') } as never);
  });
  afterAll(async () => {
    await plain?.close();
  });

  it('uses long polling from the start, without any fallback option', async () => {
    await page.addInitScript('delete window.WebSocket');
    await page.goto(`${plain.url}/counter`);
    await waitForConnected(page);
    expect(await transportName()).toBe('LongPoll');
    await page.click('#inc');
    await page.waitForSelector('#count >> text=1');
    expect(liveRequests).toContain('POST /live/longpoll');
  });
});
