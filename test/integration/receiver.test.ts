/**
 * The built-in chunk receiver over real HTTP: a node:http server on port 0,
 * requests shaped like UpChunk's (one PUT per chunk with Content-Range) sent
 * with fetch, and raw requests for what fetch cannot send (wrong lengths,
 * chunked bodies, bodies that stop half-way).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SessionRegistry,
  createReceiverHandler,
  type ReceiverHandlerOptions,
  type SessionRegistryOptions,
} from '../../packages/core/src/uploads/receiver/index.js';
import { DiskStore, TransientStoreError, type ChunkBody, type UploadRecord, type UploadStore } from 'inletjs';

const KiB = 1024;
const entry = { viewId: 'phx-F1', confRef: '0', entryRef: '0' };
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A copy typed as a fetch body under both the Node and the DOM typings. */
const asBody = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** Wraps the disk store to inject faults and delays, and to count writes. */
class FaultyStore implements UploadStore {
  readonly inner: DiskStore;
  readonly capabilities = new Set(['partial'] as const);
  transientWrites = 0;
  writeDelayMs = 0;
  writes = 0;

  constructor(dir: string) {
    this.inner = new DiskStore({ dir });
  }
  create(s: UploadRecord): Promise<void> {
    return this.inner.create(s);
  }
  async write(s: UploadRecord, offset: number, chunk: ChunkBody): Promise<number> {
    this.writes += 1;
    if (this.writeDelayMs) await sleep(this.writeDelayMs);
    if (this.transientWrites > 0) {
      this.transientWrites -= 1;
      throw new TransientStoreError('injected: storage briefly unavailable');
    }
    return this.inner.write(s, offset, chunk);
  }
  complete(s: UploadRecord): Promise<Record<string, unknown>> {
    return this.inner.complete(s);
  }
  abort(s: UploadRecord): Promise<void> {
    return this.inner.abort(s);
  }
}

interface Rig {
  base: string;
  port: number;
  dir: string;
  store: FaultyStore;
  registry: SessionRegistry;
  completed: Map<string, Record<string, unknown>>;
  events: string[];
  mint(maxSize?: number): Promise<{ token: string; url: string; id: string }>;
}

const rigs: { server: Server; registry: SessionRegistry; dir: string }[] = [];

async function rig(
  registryOptions: Partial<SessionRegistryOptions> = {},
  handlerOptions: ReceiverHandlerOptions = {},
): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'inlet-receiver-'));
  const store = new FaultyStore(dir);
  const registry = new SessionRegistry({ store, sweepIntervalMs: 0, ...registryOptions });
  const completed = new Map<string, Record<string, unknown>>();
  const events: string[] = [];
  registry.onProgress((s, offset, total) => events.push(`progress ${s.id} ${offset}/${total}`));
  registry.onComplete((s, meta) => {
    completed.set(s.id, meta);
    events.push(`complete ${s.id}`);
  });
  registry.onError((s, reason) => events.push(`error ${s.id} ${reason}`));
  const receive = createReceiverHandler(registry, handlerOptions);
  const server = createServer((req, res) => {
    if (receive(req, res)) return;
    res.statusCode = 404;
    res.end('not the receiver');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  rigs.push({ server, registry, dir });
  const base = `http://127.0.0.1:${address.port}`;
  return {
    base,
    port: address.port,
    dir,
    store,
    registry,
    completed,
    events,
    async mint(maxSize = 64 * 1024 * KiB) {
      const { token, endpoint, id } = await registry.mint({ maxSize, entry });
      return { token, id, url: base + endpoint };
    },
  };
}

afterEach(async () => {
  for (const { server, registry, dir } of rigs.splice(0)) {
    await registry.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
});

function put(url: string, data: Buffer, start: number, end: number, total: number, method = 'PUT'): Promise<Response> {
  return fetch(url, {
    method,
    headers: { 'content-range': `bytes ${start}-${end}/${total}`, 'content-type': 'application/octet-stream' },
    body: asBody(data.subarray(start, end + 1)),
  });
}

function statusQuery(url: string, total: number): Promise<Response> {
  return fetch(url, { method: 'PUT', headers: { 'content-range': `bytes */${total}` } });
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Sends a request with full control of headers and body framing. `body`
 * pieces are written in order; `chunked` uses Transfer-Encoding: chunked.
 */
function raw(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer[]; chunked?: boolean; sendBody?: boolean },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'PUT', headers: options.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    if (options.chunked) req.setHeader('transfer-encoding', 'chunked');
    if (options.sendBody === false) {
      req.flushHeaders();
      return;
    }
    for (const piece of options.body ?? []) req.write(piece);
    req.end();
  });
}

interface UpChunkResult {
  statuses: number[];
  ranges: (string | null)[];
  locations: (string | null)[];
}

/**
 * Mimics @mux/upchunk 3.x in Node: one request per chunk with Content-Range;
 * 200/201/202/204/308 accept the chunk unless a 308's Range ends short (then
 * the same chunk is resent); 408/502/503/504 and network errors are retried;
 * anything else stops the upload.
 */
async function upchunkLike(url: string, file: Buffer, chunkSize: number, attempts = 5): Promise<UpChunkResult> {
  const result: UpChunkResult = { statuses: [], ranges: [], locations: [] };
  let start = 0;
  let tries = 0;
  while (start < file.length) {
    const end = Math.min(start + chunkSize, file.length) - 1;
    let res: Response | undefined;
    try {
      res = await put(url, file, start, end, file.length);
    } catch {
      res = undefined;
    }
    if (res) {
      await res.arrayBuffer();
      result.statuses.push(res.status);
      result.ranges.push(res.headers.get('range'));
      result.locations.push(res.headers.get('location'));
    }
    const status = res?.status;
    if (status !== undefined && [200, 201, 202, 204, 308].includes(status)) {
      const held = /^bytes=0-(\d+)$/.exec(res?.headers.get('range') ?? '');
      const heldEnd = held ? Number(held[1]) : -1;
      if (status === 308 && heldEnd < end) {
        if (++tries >= attempts) throw new Error(`chunk ${start}-${end} not accepted after ${attempts} attempts`);
        continue;
      }
      start = end + 1;
      tries = 0;
      continue;
    }
    if (status === undefined || [408, 502, 503, 504].includes(status)) {
      if (++tries >= attempts) throw new Error(`gave up on chunk ${start}-${end}`);
      await sleep(10);
      continue;
    }
    throw new Error(`Server responded with ${status}. Stopping upload.`);
  }
  return result;
}

async function storedFile(r: Rig, id: string): Promise<Buffer> {
  const meta = r.completed.get(id);
  expect(meta).toBeDefined();
  return readFile(String(meta?.['path']));
}

describe('receiver over HTTP: the happy path', () => {
  it('takes a 700 KiB file in 256 KiB chunks like UpChunk: 308, 308, 201, bytes identical', async () => {
    const r = await rig();
    const file = randomBytes(700 * KiB);
    const { url, id } = await r.mint();
    const result = await upchunkLike(url, file, 256 * KiB);
    expect(result.statuses).toEqual([308, 308, 201]);
    expect(result.ranges).toEqual(['bytes=0-262143', 'bytes=0-524287', null]);
    expect(result.locations).toEqual([null, null, null]);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
    expect(r.events).toEqual([
      `progress ${id} 262144/716800`,
      `progress ${id} 524288/716800`,
      `progress ${id} 716800/716800`,
      `complete ${id}`,
    ]);
  });

  it('answers the final chunk with a small JSON body', async () => {
    const r = await rig();
    const file = randomBytes(10);
    const { url, id } = await r.mint();
    const res = await put(url, file, 0, 9, 10);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'complete', size: 10 });
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('accepts PATCH and POST as well as PUT', async () => {
    const r = await rig();
    const file = randomBytes(30);
    const { url, id } = await r.mint();
    expect((await put(url, file, 0, 9, 30, 'PATCH')).status).toBe(308);
    expect((await put(url, file, 10, 19, 30, 'POST')).status).toBe(308);
    expect((await put(url, file, 20, 29, 30, 'PUT')).status).toBe(201);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('leaves requests outside its base path to the application', async () => {
    const r = await rig();
    const res = await fetch(`${r.base}/somewhere/else`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not the receiver');
  });
});

describe('receiver over HTTP: bad input', () => {
  it('404 for an unknown or malformed token', async () => {
    const r = await rig();
    const file = randomBytes(10);
    expect((await put(`${r.base}/_inlet/uploads/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, file, 0, 9, 10)).status).toBe(404);
    expect((await put(`${r.base}/_inlet/uploads/a/b`, file, 0, 9, 10)).status).toBe(404);
    expect((await put(`${r.base}/_inlet/uploads/`, file, 0, 9, 10)).status).toBe(404);
  });

  it('410 once a session expired', async () => {
    const r = await rig({ ttlMs: 400 });
    const file = randomBytes(20);
    const { url, id } = await r.mint();
    expect((await put(url, file, 0, 9, 20)).status).toBe(308);
    // Well past the TTL: a loaded machine may note the first chunk's activity late.
    await sleep(1000);
    const res = await put(url, file, 10, 19, 20);
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({ error: 'gone', state: 'expired' });
    expect(r.events).toContain(`error ${id} expired`);
    expect(await readdir(r.dir)).toEqual([]);
  });

  it.each([
    ['no Content-Range', undefined],
    ['garbage', 'bytes=0-9'],
    ['end before start', 'bytes 9-0/10'],
    ['end past total', 'bytes 0-10/10'],
    ['unknown total', 'bytes 0-9/*'],
  ])('400 for a malformed range (%s)', async (_name, contentRange) => {
    const r = await rig();
    const { url } = await r.mint();
    const headers: Record<string, string> = contentRange === undefined ? {} : { 'content-range': contentRange };
    const res = await fetch(url, { method: 'PUT', headers, body: asBody(randomBytes(10)) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'range_invalid' });
  });

  it('400 when Content-Length differs from the range length', async () => {
    const r = await rig();
    const { token } = await r.mint();
    const path = `/_inlet/uploads/${token}`;
    const short = await raw(r.port, path, {
      headers: { 'content-range': 'bytes 0-9/20', 'content-length': '5' },
      body: [randomBytes(5)],
    });
    expect(short.status).toBe(400);
    expect(JSON.parse(short.body)).toMatchObject({ error: 'length_mismatch' });
    const none = await raw(r.port, path, { headers: { 'content-range': 'bytes 0-9/20' } });
    expect(none.status).toBe(400);
    expect(r.store.writes).toBe(0);
  });

  it('400 when the total changes between chunks', async () => {
    const r = await rig();
    const file = randomBytes(20);
    const { url } = await r.mint();
    expect((await put(url, file, 0, 9, 20)).status).toBe(308);
    const res = await fetch(url, { method: 'PUT', headers: { 'content-range': 'bytes 10-19/21' }, body: asBody(file.subarray(10, 20)) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'total_mismatch', total: 20 });
  });

  it('413 for a total above maxSize, decided before any body byte is sent', async () => {
    const r = await rig();
    const { token, id } = await r.mint(1000);
    const res = await raw(r.port, `/_inlet/uploads/${token}`, {
      headers: { 'content-range': 'bytes 0-999/1001', 'content-length': '1000' },
      sendBody: false,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: 'too_large', maxSize: 1000 });
    expect(r.events).toEqual([`error ${id} too_large`]);
    expect(r.store.writes).toBe(0);
  });

  it('413 for a chunk above maxChunkBytes, before any body byte is sent', async () => {
    const r = await rig({}, { maxChunkBytes: 1024 });
    const { token } = await r.mint();
    const res = await raw(r.port, `/_inlet/uploads/${token}`, {
      headers: { 'content-range': 'bytes 0-1024/5000', 'content-length': '1025' },
      sendBody: false,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'chunk_too_large' });
  });

  it('416 with Range for a gap', async () => {
    const r = await rig();
    const file = randomBytes(30);
    const { url } = await r.mint();
    const first = await put(url, file, 10, 19, 30);
    expect(first.status).toBe(416);
    expect(first.headers.get('range')).toBeNull();
    expect((await put(url, file, 0, 9, 30)).status).toBe(308);
    const gap = await put(url, file, 20, 29, 30);
    expect(gap.status).toBe(416);
    expect(gap.headers.get('range')).toBe('bytes=0-9');
  });

  it('400 when a chunked body runs past its range', async () => {
    const r = await rig();
    const { token } = await r.mint();
    const res = await raw(r.port, `/_inlet/uploads/${token}`, {
      headers: { 'content-range': 'bytes 0-9/100' },
      chunked: true,
      body: [randomBytes(8), randomBytes(8)],
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'body_too_long' });
  });

  it('405 for other methods', async () => {
    const r = await rig();
    const { url } = await r.mint();
    const res = await fetch(url);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('OPTIONS, PATCH, POST, PUT');
  });
});

describe('receiver over HTTP: resends, short bodies, status queries', () => {
  it('skips bytes it holds on a resend and appends the rest', async () => {
    const r = await rig();
    const file = randomBytes(300);
    const { url, id } = await r.mint();
    expect((await put(url, file, 0, 99, 300)).headers.get('range')).toBe('bytes=0-99');
    const again = await put(url, file, 0, 99, 300);
    expect([again.status, again.headers.get('range')]).toEqual([308, 'bytes=0-99']);
    const overlap = await put(url, file, 50, 199, 300);
    expect([overlap.status, overlap.headers.get('range')]).toEqual([308, 'bytes=0-199']);
    expect((await put(url, file, 200, 299, 300)).status).toBe(201);
    expect((await put(url, file, 200, 299, 300)).status).toBe(201);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('keeps what a short body delivered and answers 308 with the true Range; the resend completes it', async () => {
    const r = await rig();
    const file = randomBytes(1000);
    const { token, id } = await r.mint();
    const path = `/_inlet/uploads/${token}`;
    const short = await raw(r.port, path, {
      headers: { 'content-range': 'bytes 0-999/1000' },
      chunked: true,
      body: [file.subarray(0, 250), file.subarray(250, 400)],
    });
    expect(short.status).toBe(308);
    expect(short.headers['range']).toBe('bytes=0-399');
    expect(short.headers['location']).toBeUndefined();
    const resend = await put(`${r.base}${path}`, file, 0, 999, 1000);
    expect(resend.status).toBe(201);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('keeps what arrived before the client dropped the connection', async () => {
    const r = await rig();
    const file = randomBytes(64 * KiB);
    const { token, url, id } = await r.mint();
    const socket = connect(r.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `PUT /_inlet/uploads/${token} HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-${file.length - 1}/${file.length}\r\nContent-Length: ${file.length}\r\n\r\n`,
    );
    socket.write(file.subarray(0, 20 * KiB));
    await sleep(50);
    socket.destroy();
    for (let i = 0; i < 100 && (await r.registry.get(token))?.offset !== 20 * KiB; i++) await sleep(10);
    const status = await statusQuery(url, file.length);
    expect([status.status, status.headers.get('range')]).toEqual([308, `bytes=0-${20 * KiB - 1}`]);
    expect((await put(url, file, 0, file.length - 1, file.length)).status).toBe(201);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('answers "bytes */T" status queries: 308 without Range, 308 with Range, 200 once complete', async () => {
    const r = await rig();
    const file = randomBytes(20);
    const { url, id } = await r.mint();
    const empty = await statusQuery(url, 20);
    expect([empty.status, empty.headers.get('range')]).toEqual([308, null]);
    await put(url, file, 0, 9, 20);
    const half = await statusQuery(url, 20);
    expect([half.status, half.headers.get('range')]).toEqual([308, 'bytes=0-9']);
    await put(url, file, 10, 19, 20);
    const done = await statusQuery(url, 20);
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ status: 'complete', size: 20 });
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('completes a zero-byte file on "bytes */0"', async () => {
    const r = await rig();
    const { url, id } = await r.mint();
    const res = await statusQuery(url, 0);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'complete', size: 0 });
    expect(sha(await storedFile(r, id))).toBe(sha(Buffer.alloc(0)));
  });
});

describe('receiver over HTTP: concurrency, faults, expiry, CORS', () => {
  it('serialises two identical chunks sent at the same time: one write, same answer', async () => {
    const r = await rig();
    r.store.writeDelayMs = 50;
    const file = randomBytes(200);
    const { url, id } = await r.mint();
    const [a, b] = await Promise.all([put(url, file, 0, 99, 200), put(url, file, 0, 99, 200)]);
    expect([a.status, a.headers.get('range')]).toEqual([308, 'bytes=0-99']);
    expect([b.status, b.headers.get('range')]).toEqual([308, 'bytes=0-99']);
    expect(r.store.writes).toBe(1);
    expect((await put(url, file, 100, 199, 200)).status).toBe(201);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('answers 503 with Retry-After on a transient store failure, then succeeds on retry', async () => {
    const r = await rig();
    const file = randomBytes(300 * KiB);
    const { url, id } = await r.mint();
    expect((await put(url, file, 0, 99_999, file.length)).status).toBe(308);
    r.store.transientWrites = 1;
    const failed = await put(url, file, 100_000, 199_999, file.length);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(failed.headers.get('range')).toBe('bytes=0-99999');
    expect((await put(url, file, 100_000, 199_999, file.length)).status).toBe(308);
    expect((await put(url, file, 200_000, file.length - 1, file.length)).status).toBe(201);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('an UpChunk-like client rides through a 503 by itself', async () => {
    const r = await rig();
    r.store.transientWrites = 2;
    const file = randomBytes(600 * KiB);
    const { url, id } = await r.mint();
    const result = await upchunkLike(url, file, 256 * KiB);
    expect(result.statuses).toEqual([503, 503, 308, 308, 201]);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('the sweeper expires an abandoned upload, removes its partial file and reports it', async () => {
    const r = await rig({ ttlMs: 400, sweepIntervalMs: 50 });
    const file = randomBytes(100);
    const { url, id } = await r.mint();
    const expired = new Promise<string>((resolve) => r.registry.onError((s, reason) => s.id === id && resolve(reason)));
    expect((await put(url, file, 0, 49, 100)).status).toBe(308);
    expect(existsSync(join(r.dir, `${id}.part`))).toBe(true);
    expect(await expired).toBe('expired');
    expect(existsSync(join(r.dir, `${id}.part`))).toBe(false);
    expect((await put(url, file, 50, 99, 100)).status).toBe(410);
  });

  it('answers preflights and exposes Range when allowOrigin is set', async () => {
    const r = await rig({}, { allowOrigin: ['http://localhost:5173'] });
    const file = randomBytes(20);
    const { url, id } = await r.mint();
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-range, content-type, authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('PUT, PATCH, POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-range, content-type, authorization');
    const res = await fetch(url, {
      method: 'PUT',
      headers: { origin: 'http://localhost:5173', 'content-range': 'bytes 0-9/20' },
      body: asBody(file.subarray(0, 10)),
    });
    expect(res.status).toBe(308);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-expose-headers')).toBe('Range');
    const stranger = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' } });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    await put(url, file, 10, 19, 20);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });

  it('sends no CORS headers when allowOrigin is not set', async () => {
    const r = await rig();
    const { url } = await r.mint();
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('receiver over HTTP: larger files', () => {
  let file: Buffer;
  beforeAll(() => {
    file = randomBytes(24 * 1024 * KiB + 123);
  });
  afterAll(() => {
    file = Buffer.alloc(0);
  });

  it('streams 24 MiB in 5 MiB chunks to disk, bytes identical', async () => {
    const r = await rig();
    const { url, id } = await r.mint();
    const result = await upchunkLike(url, file, 5 * 1024 * KiB);
    expect(result.statuses).toEqual([308, 308, 308, 308, 201]);
    expect(sha(await storedFile(r, id))).toBe(sha(file));
  });
});
