/**
 * Resumable uploads with the Inlet uploader in headless Chromium and the
 * official client, unmodified: a socket the server closes mid-upload, 3 s
 * offline (CDP), a reload with the same file selected again, a server
 * restart with the same upload folder; each continues from the server's
 * verified offset, and re-sends at most one window. A claim from another
 * browser session is refused. Every stored file is checked by sha256.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { gotoLive, MAIN_CONNECTED, startExample } from '../support/browser.js';
import { makeRandomFile, shasIn } from '../support/files.js';
import { uploadSuite } from '../support/upload-suite.js';

const SECRET = 'inlet-resume-e2e-secret-0123456789abcdef';
const WINDOW = 4 * 1024 * 1024;
const CHUNK = 512 * 1024;

/**
 * The example page's boot script with phoenix's heartbeat every 2 s (default 30 s), so a 6 s outage
 * drops the socket (a heartbeat unanswered for one interval: at most 4 s in). At 500 ms a loaded run
 * dropped the socket before the outage too: a heartbeat queued behind a window of chunks was answered late.
 */
const FAST_HEARTBEAT = `<link rel="stylesheet" href="/app.css"><script type="module">import { connect } from "/inlet/inlet-client.js"; window.liveSocket = connect({ heartbeatIntervalMs: 2000 });</script>`;

const serverOptions = () => ({ storeRoot: s.store, uploadTmpDir: s.uploadTmp, secret: SECRET }) as never;

const s = uploadSuite({
  prefix: 'inlet-e2e-resume-',
  server: () => ({ secret: SECRET }),
  perTest: 'context',
  // The client logs the dropped socket and the pushes it could not send while it was gone.
  expectedErrors: [/WebSocket/i, /ERR_INTERNET_DISCONNECTED/, /Failed to (push|load)/i, /net::/],
});

const stored = () => shasIn(join(s.store, 'files'));
/** Bytes the server holds of unfinished resumable uploads. */
async function storedSoFar(): Promise<number> {
  const dir = join(s.uploadTmp, 'sessions');
  let n = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) if (f.endsWith('.part')) n += (await stat(join(dir, f))).size;
  return n;
}
const sessionsLeft = async () => (await readdir(join(s.uploadTmp, 'sessions')).catch(() => [] as string[])).length;

/** Reads `[kind, join_ref len, ref len, topic len, event len, …]` of a client binary push. */
function binaryPush(b: Buffer): { event: string; bytes: number } {
  const [jl = 0, rl = 0, tl = 0, el = 0] = [b[1], b[2], b[3], b[4]];
  const at = 5 + jl + rl + tl;
  const event = b.toString('utf8', at, at + el);
  return { event, bytes: b.length - (at + el) - 16 };
}

/** What the page sent: chunk data bytes, when, and the offsets of the lvu joins the server answered. */
interface Wire {
  sent: number;
  chunks: number;
  /** When each chunk frame left the page (ms, Date.now()). */
  times: number[];
  joins: { offset: number; resumed: boolean; claim?: string }[];
  sockets: number;
}

function lvuJoinReply(message: string): { offset: number; resumed: boolean; claim?: string } | undefined {
  if (!message.includes('"phx_reply"') || !message.includes('"lvu:')) return undefined;
  const f = JSON.parse(message) as [unknown, unknown, string, string, { status: string; response: { offset?: number; resumed?: boolean; claim?: string } }];
  if (!f[2].startsWith('lvu:') || typeof f[4].response.offset !== 'number' || f[4].response.resumed === undefined) return undefined;
  return { offset: f[4].response.offset, resumed: f[4].response.resumed === true, ...(f[4].response.claim ? { claim: f[4].response.claim } : {}) };
}

function count(wire: Wire, message: string | Buffer): void {
  if (typeof message === 'string') return;
  const push = binaryPush(Buffer.from(message));
  if (push.event !== 'inlet_chunk') return;
  wire.sent += push.bytes;
  wire.chunks++;
  wire.times.push(Date.now());
}

/** Watches the page's sockets as they are (network emulation applies): chunk bytes sent, lvu join replies. */
function watchSockets(p: Page): Wire {
  const wire: Wire = { sent: 0, chunks: 0, times: [], joins: [], sockets: 0 };
  p.on('websocket', (ws) => {
    wire.sockets++;
    ws.on('framesent', ({ payload }) => count(wire, payload));
    ws.on('framereceived', ({ payload }) => {
      const join = typeof payload === 'string' ? lvuJoinReply(payload) : undefined;
      if (join) wire.joins.push(join);
    });
  });
  return wire;
}

/**
 * Routes the page's sockets through the test and drops the socket from the
 * server's side after `dropAfter` chunks (routed sockets bypass network
 * emulation, so only this test routes).
 */
async function dropSocketAfter(p: Page, dropAfter: number): Promise<Wire> {
  const wire: Wire = { sent: 0, chunks: 0, times: [], joins: [], sockets: 0 };
  let dropped = false;
  await p.routeWebSocket(/\/live\/websocket/, (ws) => {
    wire.sockets++;
    const upstream = ws.connectToServer();
    ws.onMessage((message) => {
      upstream.send(message);
      count(wire, message);
      if (!dropped && wire.chunks === dropAfter) {
        dropped = true;
        upstream.close(); // the server's side of the socket goes away mid-upload
        ws.close({ code: 1001, reason: 'going away' });
      }
    });
    upstream.onMessage((message) => {
      const join = typeof message === 'string' ? lvuJoinReply(message) : undefined;
      if (join) wire.joins.push(join);
      ws.send(message);
    });
  });
  return wire;
}

async function startUpload(p: Page, path: string, base = s.server.url): Promise<void> {
  await gotoLive(p, `${base}/uploads/large`);
  await p.setInputFiles('input[type=file]', path);
  await p.waitForSelector('.entry');
  await p.click('#save');
}

const saved = (p: Page) => p.waitForSelector('#saved li', { timeout: 120_000 });

/**
 * Takes the page's network away (or gives it back) with CDP's
 * Network.emulateNetworkConditions, which applies to WebSocket frames too
 * (the tests check that nothing reaches the server meanwhile). The CDP
 * session stays open: its emulation ends with it.
 */
const cdpSessions = new WeakMap<Page, CDPSession>();
async function setOffline(p: Page, offline: boolean): Promise<void> {
  let cdp = cdpSessions.get(p);
  if (!cdp) {
    cdp = await p.context().newCDPSession(p);
    cdpSessions.set(p, cdp);
    await cdp.send('Network.enable');
  }
  await cdp.send('Network.emulateNetworkConditions', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
}

describe('resumable uploads', () => {
  it('a socket the server closes mid-upload: the upload continues from the server offset, at most one window sent again', async () => {
    const size = 40 * 1024 * 1024 + 333;
    const f = await makeRandomFile(s.files, 'dropped.bin', size);
    const wire = await dropSocketAfter(s.page, 30);
    await startUpload(s.page, f.path);
    await saved(s.page);
    expect(wire.joins.map((j) => j.resumed)).toEqual([false, true]);
    const resumedAt = wire.joins[1]!.offset;
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt % CHUNK).toBe(0);
    // Bytes sent twice: those in flight when the socket went (at most one window).
    const again = wire.sent - size;
    expect(again).toBeGreaterThanOrEqual(0);
    expect(again).toBeLessThanOrEqual(WINDOW);
    expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('true');
    expect(await stored()).toEqual({ 'dropped.bin': f.sha });
    expect(await s.page.locator('#saved li').count()).toBe(1);
    expect(await sessionsLeft()).toBe(0);
  }, 120_000);

  it('3 s offline (CDP) mid-upload: the socket stalls (nothing reaches the server) and the upload continues on it, nothing sent twice', async () => {
    const size = 48 * 1024 * 1024;
    const f = await makeRandomFile(s.files, 'offline.bin', size);
    const wire = watchSockets(s.page);
    await startUpload(s.page, f.path);
    await s.page.waitForFunction(() => Number(document.querySelector('.entry progress')?.getAttribute('value') ?? 0) >= 10, undefined, { timeout: 60_000 });
    await setOffline(s.page, true);
    await s.page.waitForTimeout(1000); // what was already on its way arrives
    const during = await storedSoFar();
    await s.page.waitForTimeout(2000);
    // The emulation really applies to the socket: nothing reached the server for 2 s.
    expect(await storedSoFar()).toBe(during);
    expect(during).toBeLessThan(size);
    await setOffline(s.page, false);
    await saved(s.page);
    expect(wire.sockets).toBe(1);
    expect(wire.sent).toBe(size);
    expect(await stored()).toEqual({ 'offline.bin': f.sha });
  }, 120_000);

  it('12 s offline (CDP), past the 10 s chunk timeout, the socket surviving: the server parks the upload and the client rejoins and continues on the same socket', async () => {
    const size = 40 * 1024 * 1024;
    const f = await makeRandomFile(s.files, 'stalled.bin', size);
    const wire = watchSockets(s.page);
    await startUpload(s.page, f.path);
    await s.page.waitForFunction(() => Number(document.querySelector('.entry progress')?.getAttribute('value') ?? 0) >= 10, undefined, { timeout: 60_000 });
    await setOffline(s.page, true);
    await s.page.waitForTimeout(12_000);
    await setOffline(s.page, false);
    await saved(s.page);
    expect(wire.sockets).toBe(1);
    expect(wire.joins.map((j) => j.resumed)).toEqual([false, true]);
    expect(wire.joins[1]!.offset).toBeGreaterThan(0);
    expect(wire.sent - size).toBeLessThanOrEqual(WINDOW);
    expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('true');
    expect(await stored()).toEqual({ 'stalled.bin': f.sha });
  }, 120_000);

  it('6 s offline with a 2 s heartbeat: the client drops the socket, reconnects, and the upload resumes from the server offset', async () => {
    const fast = await startExample({ ...(serverOptions() as object), scripts: FAST_HEARTBEAT } as never);
    try {
      const size = 48 * 1024 * 1024;
      const f = await makeRandomFile(s.files, 'offline-drop.bin', size);
      const wire = watchSockets(s.page);
      await startUpload(s.page, f.path, fast.url);
      await s.page.waitForFunction(() => Number(document.querySelector('.entry progress')?.getAttribute('value') ?? 0) >= 10, undefined, { timeout: 60_000 });
      await setOffline(s.page, true);
      await s.page.waitForTimeout(6000);
      await setOffline(s.page, false);
      await saved(s.page);
      expect(wire.sockets).toBeGreaterThan(1);
      expect(wire.joins.map((j) => j.resumed)).toEqual([false, true]);
      expect(wire.joins[1]!.offset).toBeGreaterThan(0);
      expect(wire.sent - size).toBeLessThanOrEqual(WINDOW);
      expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('true');
      expect(await stored()).toEqual({ 'offline-drop.bin': f.sha });
    } finally {
      await fast.close();
    }
  }, 120_000);

  it('a reload mid-upload, then the same file selected again: only the remaining bytes are sent (± one window)', async () => {
    const size = 40 * 1024 * 1024 + 5;
    const f = await makeRandomFile(s.files, 'reloaded.bin', size);
    const before = watchSockets(s.page);
    await startUpload(s.page, f.path);
    await s.page.waitForFunction(() => Number(document.querySelector('.entry progress')?.getAttribute('value') ?? 0) >= 30, undefined, { timeout: 60_000 });
    await s.page.reload();
    await s.page.waitForSelector(MAIN_CONNECTED);
    const sentBefore = before.sent;
    await startUpload(s.page, f.path);
    await saved(s.page);
    const resumed = before.joins.at(-1)!;
    expect(resumed.resumed).toBe(true);
    expect(resumed.offset).toBeGreaterThan(0.2 * size);
    const sentAfter = before.sent - sentBefore;
    expect(Math.abs(sentAfter - (size - resumed.offset))).toBeLessThanOrEqual(WINDOW);
    expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('true');
    expect(await stored()).toEqual({ 'reloaded.bin': f.sha });
  }, 120_000);

  it('a server restart with the same upload folder mid-upload: the page reconnects and the upload continues', async () => {
    const port = Number(new URL(s.server.url).port);
    const f = await makeRandomFile(s.files, 'restart.bin', 40 * 1024 * 1024);
    const wire = watchSockets(s.page);
    await startUpload(s.page, f.path);
    await s.page.waitForFunction(() => Number(document.querySelector('.entry progress')?.getAttribute('value') ?? 0) >= 20, undefined, { timeout: 60_000 });
    await s.server.close();
    s.server = await startExample(serverOptions(), port);
    await saved(s.page);
    expect(wire.joins.map((j) => j.resumed)).toEqual([false, true]);
    expect(wire.joins[1]!.offset).toBeGreaterThan(0);
    expect(wire.sent - 40 * 1024 * 1024).toBeLessThanOrEqual(WINDOW);
    expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('true');
    expect(await stored()).toEqual({ 'restart.bin': f.sha });
  }, 120_000);

  it('a claim from another browser session is refused: it uploads from 0, and the owner still resumes', async () => {
    const size = 24 * 1024 * 1024;
    const f = await makeRandomFile(s.files, 'owned.bin', size);
    const ownerWire = watchSockets(s.page);
    await startUpload(s.page, f.path);
    await s.page.waitForFunction(() => Number(document.querySelector('.entry progress')?.getAttribute('value') ?? 0) >= 30, undefined, { timeout: 60_000 });
    const rid = (await s.page.evaluate(`Object.keys(sessionStorage).filter((k) => k.startsWith('inlet:rid:')).map((k) => [k, sessionStorage.getItem(k)])`)) as [string, string][];
    expect(rid.length).toBe(1);
    await s.page.goto('about:blank'); // the owner leaves mid-upload: its session is parked

    // Another browser session, holding the owner's resume id (as if it leaked), selects the same file.
    const other = await s.browser.newContext();
    try {
      const thief = await other.newPage();
      await thief.goto(`${s.server.url}/uploads/large`);
      await thief.evaluate(`sessionStorage.setItem(${JSON.stringify(rid[0]![0])}, ${JSON.stringify(rid[0]![1])})`);
      const thiefWire = watchSockets(thief);
      await startUpload(thief, f.path);
      await saved(thief);
      expect(thiefWire.joins).toEqual([{ offset: 0, resumed: false, claim: 'refused' }]);
      expect(thiefWire.sent).toBe(size);
    } finally {
      await other.close();
    }
    await rm(join(s.store, 'files'), { recursive: true, force: true });
    // The owner comes back to the same file: its session was left untouched.
    const sentBefore = ownerWire.sent;
    await startUpload(s.page, f.path);
    await saved(s.page);
    const back = ownerWire.joins.at(-1)!;
    expect(back.resumed).toBe(true);
    expect(back.offset).toBeGreaterThan(0);
    expect(ownerWire.sent - sentBefore).toBeLessThanOrEqual(size - back.offset + WINDOW);
    expect(await stored()).toEqual({ 'owned.bin': f.sha });
  }, 120_000);
});
