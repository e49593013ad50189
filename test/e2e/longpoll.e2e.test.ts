/**
 * The official client over long polling, in headless Chromium, with
 * WebSockets blocked: the server refuses every upgrade (as a proxy that
 * does not pass WebSockets would), and the page asks for Phoenix's fallback
 * (`longPollFallbackMs`). Events, server pushes, live navigation, a
 * reconnect and uploads (byte-exact, by sha256) all go through
 * `/live/longpoll`. A browser without WebSocket at all uses long polling
 * from the start.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { InletServer } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startExample, waitForConnected } from '../support/browser.js';
import { makeRandomFile, sha256OfFile } from '../support/files.js';
import { reconnect } from '../support/suite.js';
import { uploadSuite } from '../support/upload-suite.js';
import { gate } from '../../examples/views/gate.js';

const BOOT = (options: string) =>
  `<link rel="stylesheet" href="/app.css"><script type="module">import { connect } from "/inlet/inlet-client.js"; window.liveSocket = connect(${options});</script>`;

let upgrades = 0;
/** Every /live/ request the page made, as "METHOD path". */
let liveRequests: string[] = [];
/** Lines of the page's long-poll POSTs that carried a binary frame (base64, not a JSON array). */
let binaryLines = 0;

const s = uploadSuite({
  prefix: 'inlet-e2e-lp-',
  server: () => ({ scripts: BOOT('{ longPollFallbackMs: 2500 }') }),
  perTest: 'context',
  // The refused WebSocket is the point of this file; anything else is not.
  expectedErrors: [/WebSocket connection to .* failed/],
  cleanStore: false,
});

beforeAll(() => {
  // WebSockets blocked: every upgrade is dropped before the handshake.
  s.server.http.removeAllListeners('upgrade');
  s.server.http.on('upgrade', (_req, socket: { destroy(): void }) => {
    upgrades++;
    socket.destroy();
  });
});

beforeEach(() => {
  liveRequests = [];
  s.page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/live/')) liveRequests.push(`${r.method()} ${url.pathname}`);
    if (url.pathname === '/live/longpoll' && r.method() === 'POST') binaryLines += (r.postData() ?? '').split('\n').filter((l) => l.length > 0 && !l.startsWith('[')).length;
  });
  binaryLines = 0;
  upgrades = 0;
});

// Runs before the suite's check of the page's errors (after-hooks run in reverse order).
afterEach(() => {
  gate.reset();
});

async function open(path: string): Promise<void> {
  await s.page.goto(`${s.server.url}${path}`);
  await waitForConnected(s.page);
}

const transportName = () => s.page.evaluate('(() => { const s = window.liveSocket.getSocket(); return s.transportName(s.transport); })()') as Promise<string>;

describe('with WebSockets blocked', () => {
  it('falls back to long polling at once, and events and diffs travel over it', async () => {
    const started = Date.now();
    await open('/counter');
    // The refused upgrade is an error, so the client falls back without waiting out the 2.5 s.
    expect(Date.now() - started).toBeLessThan(2500);
    expect(upgrades).toBeGreaterThanOrEqual(1);
    expect(await transportName()).toBe('LongPoll');
    for (let i = 0; i < 3; i++) await s.page.click('#inc');
    await s.page.waitForSelector('#count >> text=3');
    expect(liveRequests).toContain('GET /live/longpoll');
    expect(liveRequests).toContain('POST /live/longpoll');
    // The fallback is remembered for the tab's session, as Phoenix does.
    expect(await s.page.evaluate('sessionStorage.getItem("phx:fallback:LongPoll")')).toBe('true');
  });

  it('delivers server pushes to a waiting poll (async results, one by one)', async () => {
    await open('/async?gate');
    expect(await s.page.textContent('#org')).toContain('Loading the organisation…');
    await expect.poll(() => gate.waiting('async:org')).toBe(1);
    gate.release('async:org');
    await s.page.waitForSelector('#org >> text=Acme, 12 members');
    await s.page.click('button:text-is("Report")');
    await expect.poll(() => gate.waiting('async:report')).toBe(1);
    gate.release('async:report');
    await s.page.waitForSelector('#report >> text=report ready');
  });

  it('navigates live between views and recovers after a reconnect', async () => {
    await open('/pages/one');
    const before = liveRequests.length;
    await s.page.click('a[href="/pages/two"]');
    await s.page.waitForFunction(() => location.pathname === '/pages/two');
    await waitForConnected(s.page);
    // Live navigation: no page load, the join went over the same poll session.
    expect(liveRequests.slice(before).every((r) => r.endsWith('/live/longpoll'))).toBe(true);
    await open('/counter');
    await s.page.click('#inc');
    await s.page.waitForSelector('#count >> text=1');
    await reconnect(s.page);
    expect(await transportName()).toBe('LongPoll');
    await s.page.click('#inc');
    await s.page.waitForSelector('#count >> text=1');
  });

  it('uploads files byte-exact (binary chunks travel in base64)', async () => {
    const small = await makeRandomFile(s.files, 'photo.png', 300_000);
    await open('/uploads/gallery');
    await s.page.setInputFiles('input[type=file]', small.path);
    await s.page.waitForSelector('.entry');
    await s.page.click('#save');
    await s.page.waitForSelector('#gallery img[alt="photo.png"]');
    expect(await sha256OfFile(join(s.store, 'uploads', 'photo.png'))).toBe(small.sha);

    const large = await makeRandomFile(s.files, 'big.bin', 6 * 1024 * 1024 + 123);
    await open('/uploads/large');
    await s.page.setInputFiles('input[type=file]', large.path);
    await s.page.waitForSelector('.entry');
    await s.page.click('#save');
    await s.page.waitForSelector('#saved li', { timeout: 60_000 });
    expect(await s.page.getAttribute('#saved li', 'data-sha256')).toBe(large.sha);
    expect(await readdir(join(s.store, 'files'))).toEqual(['big.bin']);
    expect(await sha256OfFile(join(s.store, 'files', 'big.bin'))).toBe(large.sha);
    expect(upgrades).toBeGreaterThanOrEqual(1);
    // The chunks went as binary frames in the POST bodies.
    expect(binaryLines).toBeGreaterThan(6);
  }, 90_000);
});

describe('in a browser without WebSocket', () => {
  let plain: InletServer;
  beforeAll(async () => {
    // The example's own boot script: a plain connect(), no fallback option.
    plain = await startExample({ storeRoot: s.store, uploadTmpDir: join(s.root, 'tmp') } as never);
  });
  afterAll(async () => {
    await plain?.close();
  });

  it('uses long polling from the start, without any fallback option', async () => {
    await s.page.addInitScript('delete window.WebSocket');
    await s.page.goto(`${plain.url}/counter`);
    await waitForConnected(s.page);
    expect(await transportName()).toBe('LongPoll');
    await s.page.click('#inc');
    await s.page.waitForSelector('#count >> text=1');
    expect(liveRequests).toContain('POST /live/longpoll');
  });
});
