/**
 * The Inlet uploader in headless Chromium with the official client: what
 * travels on the wire (a window of chunks in flight), a chunk corrupted on
 * the way (refused, sent again, stored file exact), wrong magic bytes refused
 * on the first chunk, pause and resume, and a page with only the plain
 * official client. Every stored file is checked by sha256.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gotoLive, startExample } from '../support/browser.js';
import { filesOneLevelDown, makeRandomFile, shasIn } from '../support/files.js';
import { uploadSuite } from '../support/upload-suite.js';

let plainServer: InletServer;

/** A page that builds its LiveSocket by hand: the plain official client, no Inlet uploader. */
const PLAIN_SCRIPTS = `<script type="module">
import { Socket, LiveSocket } from '/inlet/inlet-client.js';
const csrf = document.querySelector("meta[name='csrf-token']").getAttribute('content');
window.liveSocket = new LiveSocket('/live', Socket, { params: { _csrf_token: csrf } });
window.liveSocket.connect();
</script>`;

const s = uploadSuite({ prefix: 'inlet-e2e-iu-' });

beforeAll(async () => {
  plainServer = await startExample({ storeRoot: s.store, uploadTmpDir: s.uploadTmp, scripts: PLAIN_SCRIPTS } as never);
});

afterAll(async () => {
  await plainServer?.close();
});

const stored = (dir: 'uploads' | 'files') => shasIn(join(s.store, dir));
const tmpLeft = () => filesOneLevelDown(s.uploadTmp);

/** What the page sent and got on its sockets: events by name, chunks in flight, refusals. */
interface Wire {
  events: Map<string, number>;
  maxInFlight: number;
  refusals: string[];
}

/** Reads `[kind, join_ref len, ref len, topic len, event len, …]` of a client binary push. */
function binaryPush(b: Buffer): { ref: string; event: string } {
  const [jl = 0, rl = 0, tl = 0, el = 0] = [b[1], b[2], b[3], b[4]];
  const at = 5 + jl;
  return { ref: b.toString('utf8', at, at + rl), event: b.toString('utf8', at + rl + tl, at + rl + tl + el) };
}

function watchWire(p: Page): Wire {
  const wire: Wire = { events: new Map(), maxInFlight: 0, refusals: [] };
  const pending = new Set<string>();
  p.on('websocket', (ws) => {
    ws.on('framesent', ({ payload }) => {
      if (typeof payload === 'string') return;
      const { ref, event } = binaryPush(Buffer.from(payload));
      wire.events.set(event, (wire.events.get(event) ?? 0) + 1);
      if (event === 'inlet_chunk') {
        pending.add(ref);
        wire.maxInFlight = Math.max(wire.maxInFlight, pending.size);
      }
    });
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string') return;
      const f = JSON.parse(payload) as [unknown, string, string, string, { status?: string; response?: { reason?: string } }];
      if (f[3] !== 'phx_reply' || !pending.delete(f[1])) return;
      if (f[4].status === 'error') wire.refusals.push(String(f[4].response?.reason));
    });
  });
  return wire;
}

async function uploadLarge(p: Page, base: string, path: string): Promise<void> {
  await gotoLive(p, `${base}/uploads/large`);
  await p.setInputFiles('input[type=file]', path);
  await p.waitForSelector('.entry');
  await p.click('#save');
  await p.waitForSelector('#saved li', { timeout: 120_000 });
}

describe('the Inlet uploader', () => {
  it('keeps a window of chunks in flight and stores the file byte-exact, with a verified digest', async () => {
    const wire = watchWire(s.page);
    const size = 24 * 1024 * 1024 + 17;
    const f = await makeRandomFile(s.files, 'windowed.bin', size);
    await uploadLarge(s.page, s.server.url, f.path);
    expect(wire.events.get('chunk')).toBeUndefined();
    expect(wire.events.get('inlet_chunk')).toBe(Math.ceil(size / (512 * 1024)));
    expect(wire.maxInFlight).toBeGreaterThan(1);
    expect(await s.page.getAttribute('#saved li', 'data-sha256')).toBe(f.sha);
    expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('true');
    expect(await stored('files')).toEqual({ 'windowed.bin': f.sha });
    expect(await tmpLeft()).toBe(0);
  }, 120_000);

  it('sends a chunk corrupted on the way again, and stores the exact file', async () => {
    const f = await makeRandomFile(s.files, 'corrupt.bin', 6 * 1024 * 1024);
    let seen = 0;
    const refusals: string[] = [];
    await s.page.routeWebSocket(/\/live\/websocket/, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((message) => {
        if (typeof message !== 'string' && binaryPush(Buffer.from(message)).event === 'inlet_chunk' && ++seen === 3) {
          const bad = Buffer.from(message);
          bad[bad.length - 100] = (bad[bad.length - 100] ?? 0) ^ 0xff; // one flipped byte in the data
          upstream.send(bad);
          return;
        }
        upstream.send(message);
      });
      upstream.onMessage((message) => {
        if (typeof message === 'string' && message.includes('"chunk_checksum"')) refusals.push(message);
        ws.send(message);
      });
    });
    await uploadLarge(s.page, s.server.url, f.path);
    expect(refusals.length).toBe(1);
    expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('true');
    expect(await stored('files')).toEqual({ 'corrupt.bin': f.sha });
  }, 120_000);

  it('refuses a .png whose first bytes are a Windows program, before storing anything', async () => {
    const f = await makeRandomFile(s.files, 'x.bin', 3 * 1024 * 1024);
    const evil = join(s.files, 'holiday.png');
    const { copyFile, open } = await import('node:fs/promises');
    await copyFile(f.path, evil);
    const fh = await open(evil, 'r+');
    await fh.write(Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), 0, 16, 0);
    await fh.close();
    await gotoLive(s.page, `${s.server.url}/uploads/gallery`);
    await s.page.setInputFiles('input[type=file]', evil);
    await s.page.waitForSelector('.entry[data-name="holiday.png"]');
    await s.page.click('#save');
    await s.page.waitForSelector('text=looks like a Windows program (.exe)');
    expect(await stored('uploads')).toEqual({});
    expect(await tmpLeft()).toBe(0);
  });

  it('pauses and resumes an entry', async () => {
    const size = 200 * 1024 * 1024;
    const f = await makeRandomFile(s.files, 'paused.bin', size);
    await gotoLive(s.page, `${s.server.url}/uploads/large`);
    await s.page.setInputFiles('input[type=file]', f.path);
    await s.page.waitForSelector('.entry');
    const ref = (await s.page.getAttribute('.entry', 'id'))!.slice('entry-'.length);
    await s.page.click('#save');
    const status = () => s.page.evaluate(`import('/inlet/inlet-client.js').then((m) => m.uploadStatus(${JSON.stringify(ref)}))`) as Promise<{ acked: number; sent: number } | undefined>;
    // Pause at the first acknowledged chunk, from inside the page (a loopback upload is quick).
    expect(
      await s.page.evaluate(`import('/inlet/inlet-client.js').then((m) => new Promise((resolve) => {
        const t = setInterval(() => {
          if ((m.uploadStatus(${JSON.stringify(ref)})?.acked ?? 0) > 0) { clearInterval(t); resolve(m.pauseUpload(${JSON.stringify(ref)})); }
        }, 1);
      }))`),
    ).toBe(true);
    await s.page.waitForTimeout(500); // replies to what was in flight arrive
    const held = await status();
    await s.page.waitForTimeout(1000);
    expect(await status()).toEqual(held);
    expect(held!.acked).toBeLessThan(size);
    await s.page.evaluate(`import('/inlet/inlet-client.js').then((m) => m.resumeUpload(${JSON.stringify(ref)}))`);
    await s.page.waitForSelector('#saved li', { timeout: 120_000 });
    expect(await stored('files')).toEqual({ 'paused.bin': f.sha });
  }, 120_000);

  it('a page with only the plain official client still uploads, with its built-in uploader', async () => {
    const wire = watchWire(s.page);
    const f = await makeRandomFile(s.files, 'plain.bin', 5 * 1024 * 1024);
    await uploadLarge(s.page, plainServer.url, f.path);
    expect(wire.events.get('inlet_chunk')).toBeUndefined();
    expect(wire.events.get('chunk')).toBeGreaterThan(1);
    expect(await s.page.getAttribute('#saved li', 'data-verified')).toBe('false');
    expect(await stored('files')).toEqual({ 'plain.bin': f.sha });
  }, 120_000);
});
