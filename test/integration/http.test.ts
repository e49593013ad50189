/**
 * What a browser sees of Inlet's HTTP side over a real socket (port 0):
 * static files with the right MIME type, Range, ETag revalidation and cache
 * headers; the CSRF cookie's flags behind TLS and a trusted proxy; and
 * failures reaching the logger, never the console.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tracingChannel } from 'node:diagnostics_channel';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLiveView, html } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** A GET with exactly these headers (what a browser revalidating its cache sends). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const Home = createLiveView({ render: () => html`<p>home</p>` });

interface Logged {
  level: string;
  message: string;
  context: Record<string, unknown>;
}

let root: string;
let server: InletServer;
let proxied: InletServer;
const video = randomBytes(200_000);
const logged: Logged[] = [];
const logger = {
  error: (context: Record<string, unknown>, message: string) => logged.push({ level: 'error', message, context }),
  warn: (context: Record<string, unknown>, message: string) => logged.push({ level: 'warn', message, context }),
  info: () => undefined,
  debug: () => undefined,
};
const consoleCalls: string[] = [];

beforeAll(async () => {
  for (const method of ['log', 'error', 'warn', 'info', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleCalls.push(`${method}: ${String(args[0])}`));
  }
  vi.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => void consoleCalls.push(`emitWarning: ${String(w)}`));
  root = await mkdtemp(join(tmpdir(), 'inlet-http-'));
  await mkdir(join(root, 'public', 'media'), { recursive: true });
  await mkdir(join(root, 'assets'));
  await writeFile(join(root, 'public', 'media', 'clip.mp4'), video);
  await writeFile(join(root, 'public', 'notes.md'), '# notes\n');
  await writeFile(join(root, 'public', '.secret'), 'hidden');
  await writeFile(join(root, 'assets', 'app.3f9a.css'), 'body{}');
  const failing = { capabilities: new Set<never>(), create: async () => Promise.reject(new Error('disk on fire')), write: async () => 0, complete: async () => ({}), abort: async () => undefined };
  server = createServer({
    routes: { '/': Home },
    staticDirs: [join(root, 'public'), { root: join(root, 'assets'), path: '/assets', maxAgeMs: 365 * 24 * 3600_000, immutable: true }],
    uploadTmpDir: join(root, 'tmp'),
    receiver: { store: failing },
    logger,
  });
  proxied = createServer({ routes: { '/': Home }, uploadTmpDir: join(root, 'tmp'), trustProxy: ['127.0.0.1'], logger });
  await server.listen(0);
  await proxied.listen(0);
});

afterAll(async () => {
  await server?.close();
  await proxied?.close();
  await rm(root, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe('static files', () => {
  it('serves a video with its MIME type, its length and Accept-Ranges', async () => {
    const res = await fetch(`${server.url}/media/clip.mp4`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('content-length')).toBe(String(video.length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')).toBe(createHash('sha256').update(video).digest('hex'));
  });

  it('answers a Range request with 206 and exactly those bytes (a video can seek)', async () => {
    const res = await fetch(`${server.url}/media/clip.mp4`, { headers: { range: 'bytes=1000-1999' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1000-1999/${video.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(video.subarray(1000, 2000))).toBe(true);
    const past = await fetch(`${server.url}/media/clip.mp4`, { headers: { range: `bytes=${video.length + 10}-` } });
    expect(past.status).toBe(416);
  });

  it('sends an ETag and answers If-None-Match with 304', async () => {
    const first = await fetch(`${server.url}/notes.md`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W?\/?".+"$/);
    expect(first.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('public, max-age=0');
    // fetch() adds Cache-Control: no-cache to conditional requests, so a plain client asks.
    const again = await rawGet(`${server.url}/notes.md`, { 'if-none-match': etag ?? '' });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('gives fingerprinted assets a long immutable cache lifetime under their path', async () => {
    const res = await fetch(`${server.url}/assets/app.3f9a.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('serves the client bundle with revalidation', async () => {
    const res = await fetch(`${server.url}/inlet/inlet-client.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('etag')).toBeTruthy();
  });

  it('falls through to the routes for missing files, folders and dotfiles', async () => {
    expect((await fetch(`${server.url}/nothing.txt`)).status).toBe(404);
    expect((await fetch(`${server.url}/.secret`)).status).toBe(404);
    const home = await fetch(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<p>home</p>');
    expect((await fetch(`${server.url}/media`)).status).toBe(404);
  });

  it('never serves a file outside its folder', async () => {
    const res = await fetch(`${server.url}/media/..%2f..%2fassets%2fapp.3f9a.css`);
    expect([403, 404]).toContain(res.status);
    expect(await res.text()).not.toContain('body{}');
  });
});

describe('cookies', () => {
  it('sets the CSRF cookie HttpOnly, SameSite=Lax, and not Secure over plain HTTP', async () => {
    const cookie = (await fetch(`${server.url}/`)).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^_inlet_csrf=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('marks it Secure when a trusted proxy says the browser used https', async () => {
    const cookie = (await fetch(`${proxied.url}/`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/; Secure/);
  });

  it('ignores X-Forwarded-Proto from a peer that is not a trusted proxy', async () => {
    const cookie = (await fetch(`${server.url}/`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('set-cookie') ?? '';
    expect(cookie).not.toMatch(/Secure/);
  });

  it('reuses a valid cookie and replaces a malformed one', async () => {
    const fresh = (await fetch(`${server.url}/`, { headers: { cookie: '_inlet_csrf=abcdefghijklmnopqrstuvwx; other=1' } })).headers.get('set-cookie');
    expect(fresh).toBeNull();
    const bad = (await fetch(`${server.url}/`, { headers: { cookie: '_inlet_csrf=%E0%A4%A; x' } })).headers.get('set-cookie');
    expect(bad).toMatch(/^_inlet_csrf=/);
  });
});

describe('telemetry', () => {
  it('traces receiver requests on inlet:receiver:request', async () => {
    const seen: [string, Record<string, unknown>][] = [];
    const handlers = {
      start: (ctx: unknown) => void seen.push(['start', ctx as Record<string, unknown>]),
      asyncEnd: (ctx: unknown) => void seen.push(['asyncEnd', ctx as Record<string, unknown>]),
    };
    const channel = tracingChannel('inlet:receiver:request');
    channel.subscribe(handlers as never);
    try {
      const res = await fetch(`${server.url}/_inlet/uploads/unknowntoken`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body: Buffer.alloc(10) });
      expect(res.status).toBe(404);
      expect(seen.map(([e, c]) => [e, c.method, c.route])).toEqual([
        ['start', 'PUT', '/_inlet/uploads/unknowntoken'],
        ['asyncEnd', 'PUT', '/_inlet/uploads/unknowntoken'],
      ]);
      // The end carries the response status and the route with the token left out.
      expect(seen.at(-1)?.[1]).toMatchObject({ status: 404, template: '/_inlet/uploads/:token' });
    } finally {
      channel.unsubscribe(handlers as never);
    }
  });
});

describe('failures reach the logger', () => {
  it('logs a receiver store failure with its cause, and answers 500', async () => {
    const { token } = await server.receiver.mint({ maxSize: 10, entry: { viewId: 'phx-x', confRef: 'c', entryRef: '0' } });
    const res = await fetch(`${server.url}/_inlet/uploads/${token}`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body: Buffer.alloc(10) });
    expect(res.status).toBe(500);
    const record = logged.find((l) => l.message.includes('store failed'));
    expect(record?.level).toBe('error');
    expect((record?.context.err as Error).message).toBe('disk on fire');
    expect(record?.context.view).toBe('phx-x');
  });

  it('never wrote to the console', () => {
    expect(consoleCalls).toEqual([]);
  });
});
