/**
 * Fault injection during uploads, against real servers over real sockets.
 *
 *   fast (~50 faults):    npx vitest run test/faults/uploads.faults.test.ts
 *   long (≥1,000 faults): INLET_LONG=1 npx vitest run test/faults/uploads.faults.test.ts
 *
 * Knobs: INLET_FAULTS_SEED (replay), INLET_FAULTS_N (random faults), INLET_FAULTS_VERBOSE=1 (server log samples),
 * INLET_FAULTS_KILLS (server kills).
 *
 * Faults: the socket dropped at a random chunk, cut inside a WebSocket frame
 * (raw TCP bytes, then the connection destroyed), closed cleanly, dropped
 * after the last byte but before progress 100, dropped right after it; the
 * writer failing in init, at a random chunk, in close, or slow; the temp
 * folder full (an 8 MiB tmpfs) and the store full (another one) — when tmpfs
 * cannot be mounted, a writer throwing ENOSPC stands in and the table says
 * so; the chunk receiver's store answering 503 for a while, failing for good,
 * and a PUT cut part-way; the server process killed (SIGKILL) during socket
 * and chunked uploads, then restarted.
 *
 * Oracles: every file an app consumes is byte-exact (the fault view hashes
 * what it stored against the sha256 in the file's name; example saves are
 * checked against their sources; the store is walked at the end); each
 * affected entry shows an error in the rendered HTML or is gone; no temp
 * file is left once the views end.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createLiveView, html, live_file_input } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { exampleOptions } from '../../examples/app.js';
import { DiskStore, TransientStoreError, type ChunkBody, type UploadStore, type UploadRecord } from 'inletjs';
import { startChild, type ChildServer } from './child.js';
import { count, describe, eventually, inline, LiveClient, LONG, mib, prng, rss, sha, sleep, table, walk } from './support.js';
// A plain JS module, shared with the child server.
import { createFaultView } from './views.mjs';

const env = process.env;
const SEED = Number(env.INLET_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const rand = prng(SEED);
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const FAULTS = Number(env.INLET_FAULTS_N ?? (LONG ? 1100 : 46));
const KILLS = Number(env.INLET_FAULTS_KILLS ?? (LONG ? 25 : 2));
/** Per-test time limit: the long profile runs for minutes. */
const T = LONG ? 3_600_000 : 120_000;
const SECRET = 'uploads-faults-secret-0123456789abcdef';
const KiB = 1024;
const MiB = 1024 * 1024;

interface Record_ {
  ok: boolean;
  name: string;
  ref: string;
}

let root: string;
let store: string;
let tmp: string;
let main: InletServer;
let full: { tmpServer: InletServer; storeServer: InletServer; tmpDir: string; storeDir: string; mounted: boolean; note: string } | undefined;
const records: Record_[] = [];
/** The slow-consume view's results. */
const slowConsume = { done: [] as string[], failed: [] as string[] };
const counters = { injected: 0 };
const logged = new Map<string, number>();
const injected = new Map<string, number>();
const outcomes = new Map<string, number>();
const visible = { shown: 0, gone: 0, missing: [] as string[] };
/** sha256 of every file a client sent, for checking the store at the end. */
const sources = new Set<string>();
const figures: [string, string | number][] = [];
const clients: LiveClient[] = [];
const rssStart = rss();
const logSamples = new Map<string, string>();
const log = (m: string, e?: unknown): void => {
  const kind = String(m).replace(/lvu?:\S+|phx-[\w-]+|\d+/g, 'N').slice(0, 80);
  count(logged, kind);
  if (!logSamples.has(kind)) logSamples.set(kind, `${m}: ${e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e)}`);
};

/** A receiver store whose behaviour the client picks through the declared content type. */
class FaultyStore implements UploadStore {
  readonly inner: DiskStore;
  readonly capabilities = new Set(['partial'] as const);
  readonly #writes = new Map<string, number>();

  constructor(dir: string) {
    this.inner = new DiskStore({ dir });
  }
  create(s: UploadRecord): Promise<void> {
    return this.inner.create(s);
  }
  async write(s: UploadRecord, offset: number, chunk: ChunkBody): Promise<number> {
    const n = (this.#writes.get(s.id) ?? 0) + 1;
    this.#writes.set(s.id, n);
    const m = /^x-inlet\/(transient|permanent)-(\d+)$/.exec(s.contentType ?? '');
    if (m?.[1] === 'transient' && n <= Number(m[2])) {
      count(injected, 'receiver: 503');
      // Drain the body as a real store would have started to.
      for await (const _ of chunk) void _;
      throw new TransientStoreError('injected: storage briefly unavailable');
    }
    if (m?.[1] === 'permanent' && n === Number(m[2])) {
      count(injected, 'receiver: store broke');
      throw new Error('injected: store broke');
    }
    return this.inner.write(s, offset, chunk);
  }
  complete(s: UploadRecord): Promise<Record<string, unknown>> {
    this.#writes.delete(s.id);
    return this.inner.complete(s);
  }
  abort(s: UploadRecord): Promise<void> {
    this.#writes.delete(s.id);
    return this.inner.abort(s);
  }
}

function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function umount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
}

async function open(base: string, path: string): Promise<LiveClient> {
  const c = await LiveClient.open(base, path);
  // Long runs open thousands of pages: forget the closed ones.
  if (clients.length > 200) clients.splice(0, clients.length, ...clients.filter((x) => !x.closed));
  clients.push(c);
  return c;
}

/** A file for the fault view: its name carries its sha256 and a writer directive. */
function faultFile(size: number, directive = 'ok'): { content: Buffer; name: string; sha: string } {
  const content = randomBytes(size);
  const h = sha(content);
  sources.add(h);
  return { content, name: `${h}.${directive}.bin`, sha: h };
}

async function preflight(c: LiveClient, files: { name: string; size: number; type?: string }[]) {
  const entries = files.map((f) => describe(f.name, f.size, f.type));
  await c.change(entries);
  const reply = await c.preflight(entries);
  const response = reply.response as { entries?: Record<string, unknown>; config?: { chunk_size: number } };
  return { entries, refs: entries.map((e) => e.ref as string), tokens: response.entries ?? {}, chunkSize: response.config?.chunk_size ?? 0, reply };
}

/** Waits for the entry to show an error, or to be gone; records which. */
async function expectVisibleFailure(c: LiveClient, ref: string, what: string): Promise<void> {
  try {
    await eventually(() => {
      const block = c.entryHtml(ref);
      return block === undefined || /class="error"/.test(block);
    }, 5000, `${what}: error shown or entry gone`);
    if (c.entryHtml(ref) === undefined) visible.gone++;
    else visible.shown++;
  } catch {
    visible.missing.push(`${what}: ${c.entryHtml(ref)?.slice(0, 200)}`);
  }
}

/** Waits for the fault view to report the consumed file `name` (byte-exact or not). */
async function consumed(name: string, ms = 10_000): Promise<Record_> {
  let found: Record_ | undefined;
  await eventually(() => (found = records.find((r) => r.name === name)) !== undefined, ms, `consumed ${name.slice(0, 12)}…`);
  return found as Record_;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-faults-'));
  store = join(root, 'store');
  tmp = join(root, 'tmp');
  const options = exampleOptions({ storeRoot: store, uploadTmpDir: tmp, secret: SECRET, log, receiver: { store: new FaultyStore(join(tmp, 'receiver')) } });
  main = createServer({
    ...options,
    routes: {
      ...options.routes,
      '/faulty': createFaultView({ dir: join(store, 'faulty'), writerDir: join(tmp, 'writers'), records, counters }),
      '/faulty-default': createFaultView({ dir: join(store, 'faulty-default'), records, counters }),
      // Consumes each finished entry in its progress callback, slowly (an upload to S3, say).
      '/slow-consume': createLiveView({
        mount: (socket) => {
          socket.allowUpload('files', {
            accept: 'any',
            maxFileSize: 16 * MiB,
            chunkSize: 64 * KiB,
            autoUpload: true,
            progress: async (name, entry, sock) => {
              if (!entry.done) return;
              try {
                await sock.consumeUploadedEntry(name, entry, async (meta) => {
                  await sleep(300);
                  return meta.fileSystem.moveInto(join(store, 'slow-consume'), entry.clientName, meta.path);
                });
                slowConsume.done.push(entry.clientName);
              } catch (e) {
                slowConsume.failed.push(`${entry.clientName.slice(0, 12)}: ${(e as Error).message}`);
              }
            },
          });
        },
        handleEvent: () => undefined,
        render: (_assigns, { uploads }) => html`<form phx-change="validate">${live_file_input(uploads.files!)}</form>`,
      }),
    },
  });
  await main.listen(0);

  // Disk full: an 8 MiB tmpfs as the temp folder of one server, and as the store of another.
  const tmpDir = join(root, 'full-tmp');
  const storeDir = join(root, 'full-store');
  await mkdir(tmpDir, { recursive: true });
  await mkdir(storeDir, { recursive: true });
  const mounted = mountTmpfs(tmpDir, '8m') && mountTmpfs(storeDir, '8m');
  const a = exampleOptions({ storeRoot: join(store, 'from-full-tmp'), uploadTmpDir: tmpDir, secret: SECRET, log });
  const tmpServer = createServer({
    ...a,
    routes: {
      ...a.routes,
      '/big': createFaultView({ dir: join(store, 'from-full-tmp'), records, counters, chunkSize: MiB }),
      // Without tmpfs: a writer that throws ENOSPC at a chunk stands in.
      '/big-simulated': createFaultView({ dir: join(store, 'from-full-tmp'), writerDir: join(tmp, 'writers'), records, counters, chunkSize: MiB }),
    },
  });
  const b = exampleOptions({ storeRoot: storeDir, uploadTmpDir: join(tmp, 'c'), secret: SECRET, log });
  const storeServer = createServer(b);
  await tmpServer.listen(0);
  await storeServer.listen(0);
  full = { tmpServer, storeServer, tmpDir, storeDir, mounted, note: mounted ? 'tmpfs 8 MiB (mounted)' : 'NOT mounted: a writer throwing ENOSPC stands in; store-full skipped' };
});

afterAll(async () => {
  for (const c of clients) if (!c.closed) c.terminate();
  const folders = [tmp, full?.tmpDir ?? '', join(root, 'child-tmp')].filter(Boolean);
  let left: string[] = [];
  try {
    await eventually(async () => (left = (await Promise.all(folders.map(walk))).flat()).length === 0, 15_000, 'temp files removed after the views ended');
  } catch {
    // reported below
  }
  await main.close();
  await full?.tmpServer.close();
  await full?.storeServer.close();
  // The store: every fault-view file is named after its content; every other file is one a client sent.
  const corrupted: string[] = [];
  let partials = 0;
  for (const path of await walk(store).then(async (a) => [...a, ...(await walk(join(root, 'child-store'))), ...(full ? await walk(full.storeDir) : [])])) {
    // moveInto's hidden partial copy, left when a kill lands mid-copy: never under a final name.
    if (/^\.inlet-[0-9a-f]{16}\.part$/.test(basename(path))) {
      partials++;
      continue;
    }
    const h = sha(await readFile(path));
    const named = /^([0-9a-f]{64})\./.exec(basename(path))?.[1];
    if (named ? h !== named : !sources.has(h)) corrupted.push(`${path} (${h.slice(0, 12)})`);
  }
  const bad = records.filter((r) => !r.ok);
  figures.push(['faults injected', `${[...injected.values()].reduce((a, b) => a + b, 0)}  (${inline(injected)})`]);
  figures.push(['outcomes', inline(outcomes)]);
  figures.push(['consumed files byte-exact / corrupted', `${records.length - bad.length} / ${bad.length}`]);
  figures.push(['store files not matching a source', corrupted.length]);
  figures.push(['hidden partial copies left by kills (not presented)', partials]);
  figures.push(['affected entries: error shown / gone / neither', `${visible.shown} / ${visible.gone} / ${visible.missing.length}`]);
  figures.push(['temp files left after views ended', left.length]);
  figures.push(['disk full', full?.note ?? '-']);
  figures.push(['runner RSS before → after', `${mib(rssStart)} → ${mib(rss())}`]);
  figures.push(['server log lines', inline(logged)]);
  figures.push(['seed', SEED]);
  console.log(table(`upload faults (${LONG ? 'long' : 'fast'} profile)`, figures));
  if (process.env.INLET_FAULTS_VERBOSE === '1') console.log([...logSamples.values()].join('\n'));
  if (visible.missing.length) console.log(visible.missing.slice(0, 10).join('\n'));
  if (corrupted.length) console.log(corrupted.slice(0, 10).join('\n'));
  if (left.length) console.log(left.slice(0, 10).join('\n'));
  if (full) {
    umount(full.tmpDir);
    umount(full.storeDir);
  }
  await rm(root, { recursive: true, force: true });
  expect(bad).toEqual([]);
  expect(corrupted).toEqual([]);
  expect(visible.missing).toEqual([]);
  expect(left).toEqual([]);
});

// ----------------------------------------------------------------- fault kinds

type Kind = (i: number) => Promise<void>;

/** Starts an upload on /faulty-default and breaks the socket as `how` says. */
function socketFault(how: 'drop-between' | 'drop-mid-frame' | 'close-between' | 'drop-before-100' | 'drop-after-100'): Kind {
  return async () => {
    const f = faultFile(int(10 * KiB, 700 * KiB));
    const c = await open(main.url, '/faulty-default');
    const p = await preflight(c, [{ name: f.name, size: f.content.length }]);
    const ref = p.refs[0] as string;
    const { joinRef, reply } = await c.joinEntry(ref, p.tokens[ref]);
    expect(reply.status).toBe('ok');
    const chunks = Math.ceil(f.content.length / p.chunkSize);
    const at = how === 'drop-before-100' || how === 'drop-after-100' ? chunks : int(0, chunks - 1);
    for (let k = 0; k < at; k++) {
      const r = await c.chunk(ref, joinRef, f.content.subarray(k * p.chunkSize, (k + 1) * p.chunkSize));
      expect(r.status).toBe('ok');
    }
    if (how === 'drop-between') c.terminate();
    else if (how === 'close-between') c.close();
    else if (how === 'drop-mid-frame') {
      const frame = c.chunkFrame(ref, joinRef, f.content.subarray(at * p.chunkSize, (at + 1) * p.chunkSize));
      c.sendPartialFrameAndDrop(frame, int(1, frame.length + 13));
    } else if (how === 'drop-before-100') c.terminate();
    else {
      c.client.ws.send(JSON.stringify([c.joinRef, c.client.nextRef(), c.topic, 'progress', { event: null, ref: c.confRef, entry_ref: ref, progress: 100 }]));
      c.terminate();
    }
    count(injected, `socket: ${how}`);
    await eventually(() => c.closed, 5000, 'socket closed');
    // The client reconnects and rejoins the same page: a new mount, the entry is gone.
    const again = await LiveClient.reconnect(c);
    clients.push(again);
    expect(again.entryHtml(ref)).toBeUndefined();
    visible.gone++;
    const early = records.find((r) => r.name === f.name);
    if (how === 'drop-after-100') count(outcomes, early ? 'completed before the drop' : 'dropped before completion');
    else expect(early).toBeUndefined();
    // …and uploads the file again, which must arrive byte-exact (once).
    if (!early) {
      const q = await preflight(again, [{ name: f.name, size: f.content.length }]);
      const r = q.refs[0] as string;
      expect(await again.sendFile(r, q.tokens[r], f.content, q.chunkSize)).toBeUndefined();
      expect((await consumed(f.name)).ok).toBe(true);
      count(outcomes, 'retried after drop: byte-exact');
    }
    again.close();
  };
}

function writerFault(directive: (chunks: number) => string): Kind {
  return async () => {
    const size = int(10 * KiB, 500 * KiB);
    const d = directive(Math.ceil(size / (64 * KiB)));
    const f = faultFile(size, d);
    const c = await open(main.url, '/faulty');
    const p = await preflight(c, [{ name: f.name, size }]);
    const ref = p.refs[0] as string;
    const result = await c.sendFile(ref, p.tokens[ref], f.content, p.chunkSize);
    const kind = d.replace(/\d+$/, '');
    count(injected, `writer: ${kind}`);
    if (kind === 'slow') {
      expect(result).toBeUndefined();
      expect((await consumed(f.name)).ok).toBe(true);
      count(outcomes, 'slow writer: byte-exact');
    } else {
      expect(result).toBe('writer_error');
      // The client may still claim completion; it must not be believed.
      await c.progress(ref, 100);
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      await expectVisibleFailure(c, ref, `writer ${d}`);
      expect(c.entryHtml(ref) ?? '').toMatch(/could not be saved: injected/);
      expect(records.find((r) => r.name === f.name)).toBeUndefined();
      count(outcomes, `writer ${kind}: error shown`);
    }
    c.close();
  };
}

/** Three 4 MiB uploads at once into an 8 MiB temp folder. */
const tmpFull: Kind = async () => {
  if (!full) return;
  const simulated = !full.mounted;
  const files = [0, 1, 2].map((i) => faultFile(4 * MiB, simulated && i === 2 ? `enospc${int(1, 4)}` : 'ok'));
  const c = await open(full.tmpServer.url, simulated ? '/big-simulated' : '/big');
  const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
  const results = await Promise.all(files.map((f, i) => c.sendFile(p.refs[i]!, p.tokens[p.refs[i]!], f.content, p.chunkSize)));
  for (const [i, r] of results.entries()) {
    const f = files[i]!;
    if (r === undefined) {
      expect((await consumed(f.name)).ok).toBe(true);
      count(outcomes, 'temp full: completed');
    } else {
      expect(r).toBe('writer_error');
      count(injected, 'disk: temp folder full');
      await expectVisibleFailure(c, p.refs[i]!, 'temp full');
      expect(c.entryHtml(p.refs[i]!) ?? '').toMatch(/ENOSPC/);
      count(outcomes, 'temp full: ENOSPC shown');
    }
  }
  c.close();
};

/** Two 5 MiB saves into an 8 MiB store: the second cannot fit. */
const storeFull: Kind = async () => {
  if (!full?.mounted) return;
  const dest = join(full.storeDir, 'files');
  await rm(dest, { recursive: true, force: true });
  const c = await open(full.storeServer.url, '/uploads/large');
  for (let round = 0; round < 2; round++) {
    const content = randomBytes(5 * MiB);
    sources.add(sha(content));
    const p = await preflight(c, [{ name: `big-${round}.bin`, size: content.length }]);
    const ref = p.refs[0] as string;
    expect(await c.sendFile(ref, p.tokens[ref], content, p.chunkSize)).toBeUndefined();
    // A crashing view sends phx_error and no reply.
    const saved = await c
      .request('event', { type: 'form', event: 'save', value: '', meta: {} }, 5000)
      .catch((e: unknown) => ({ status: 'no reply', response: { error: String(e) } }));
    if (round === 0) {
      expect(JSON.stringify(saved.response)).toContain(sha(content));
      continue;
    }
    count(injected, 'disk: store full');
    // The save cannot complete: the view shows an error or crashes (and remounts without the entry).
    await eventually(() => c.viewEvents.includes('phx_error') || /class="error"/.test(c.html()), 5000, 'store full visible');
    count(outcomes, c.viewEvents.includes('phx_error') ? 'store full: view crashed, entry gone' : 'store full: error shown');
    if (c.viewEvents.includes('phx_error')) visible.gone++;
    else visible.shown++;
  }
  c.terminate();
  // No partial file may be left in the store under a real name.
  for (const name of await readdir(dest).catch(() => [] as string[])) {
    const h = sha(await readFile(join(dest, name)));
    if (!sources.has(h)) count(outcomes, 'store full: TRUNCATED FILE LEFT IN STORE');
  }
  await eventually(async () => (await walk(join(tmp, 'c'))).length === 0, 5000, 'temp file of the failed save removed');
};

/** A PUT whose body stops part-way: the connection is destroyed after `sent` of `body.length` bytes. */
function partialPut(url: string, body: Buffer, start: number, total: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${start}-${start + body.length - 1}/${total}`, 'content-length': String(body.length), 'content-type': 'application/octet-stream' },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(body.subarray(0, sent), () => setTimeout(() => req.destroy(), 20));
  });
}

/**
 * An UpChunk-like client against the built-in receiver: PUT chunks with
 * Content-Range, retry 503 (after 20 ms, not Retry-After's 1 s, to keep the
 * suite fast), resume from the Range of a 308 or a status query.
 */
async function upchunk(c: LiveClient, content: Buffer, type: string, cutOnce: boolean): Promise<{ ref: string; result: string; retries: number }> {
  const p = await preflight(c, [{ name: `chunked-${sha(content).slice(0, 16)}.bin`, size: content.length, type }]);
  const ref = p.refs[0] as string;
  const meta = p.tokens[ref] as { uploader: string; endpoint: string } | undefined;
  expect(meta?.uploader).toBe('UpChunk');
  const url = c.base + meta!.endpoint;
  const chunk = 256 * KiB;
  let offset = 0;
  let retries = 0;
  let cut = cutOnce;
  for (;;) {
    const end = Math.min(offset + chunk, content.length) - 1;
    const body = content.subarray(offset, end + 1);
    if (cut && body.length > 1) {
      cut = false;
      await partialPut(url, body, offset, content.length, int(1, body.length - 1));
      count(injected, 'receiver: PUT cut part-way');
      const q = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes */${content.length}` } });
      expect(q.status).toBe(308);
      const range = /bytes=0-(\d+)/.exec(q.headers.get('range') ?? '');
      offset = range ? Number(range[1]) + 1 : 0;
      continue;
    }
    const res = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes ${offset}-${end}/${content.length}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
    await res.arrayBuffer();
    if (res.status === 503) {
      retries++;
      await sleep(20);
      continue;
    }
    if (res.status === 308) {
      const range = /bytes=0-(\d+)/.exec(res.headers.get('range') ?? '');
      offset = range ? Number(range[1]) + 1 : 0;
      // UpChunk reports progress; the server ignores it for receiver uploads.
      await c.progress(ref, Math.floor((offset / content.length) * 100));
      continue;
    }
    if (res.status === 201) {
      await c.progress(ref, 100);
      return { ref, result: 'complete', retries };
    }
    await c.progress(ref, { error: `upload failed: HTTP ${res.status}` });
    return { ref, result: `HTTP ${res.status}`, retries };
  }
}

function receiverFault(mode: 'transient' | 'cut' | 'permanent'): Kind {
  return async () => {
    const content = randomBytes(int(100 * KiB, 1500 * KiB));
    const h = sha(content);
    sources.add(h);
    const chunks = Math.ceil(content.length / (256 * KiB));
    const type = mode === 'transient' ? `x-inlet/transient-${int(1, 4)}` : mode === 'permanent' ? `x-inlet/permanent-${int(1, chunks)}` : 'application/octet-stream';
    const c = await open(main.url, '/uploads/chunked');
    const { ref, result } = await upchunk(c, content, type, mode === 'cut');
    if (mode === 'permanent') {
      expect(result).toBe('HTTP 500');
      await expectVisibleFailure(c, ref, 'receiver permanent');
      expect(c.entryHtml(ref) ?? '').toMatch(/could not be saved|upload failed/);
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      count(outcomes, 'receiver failure: error shown');
    } else {
      expect(result).toBe('complete');
      await eventually(() => c.html().includes(h), 5000, 'chunked upload consumed');
      const li = new RegExp(`data-sha256="${h}"`).test(c.html());
      expect(li).toBe(true);
      count(outcomes, `receiver ${mode}: byte-exact`);
    }
    c.close();
  };
}

const KINDS: [string, Kind][] = [
  ['drop-between', socketFault('drop-between')],
  ['drop-mid-frame', socketFault('drop-mid-frame')],
  ['close-between', socketFault('close-between')],
  ['drop-before-100', socketFault('drop-before-100')],
  ['drop-after-100', socketFault('drop-after-100')],
  ['writer-init', writerFault(() => 'init')],
  ['writer-chunk', writerFault((chunks) => `chunk${int(1, chunks)}`)],
  ['writer-close', writerFault(() => 'close')],
  ['writer-slow', writerFault(() => `slow${int(1, 15)}`)],
  ['receiver-503', receiverFault('transient')],
  ['receiver-cut', receiverFault('cut')],
  ['receiver-permanent', receiverFault('permanent')],
  ['temp-full', tmpFull],
  ['store-full', storeFull],
];

suite('random faults during uploads', () => {
  it(`survives ${FAULTS} random faults: nothing corrupted presented as complete, every failure visible`, async () => {
    const started = Date.now();
    const ran = new Map<string, number>();
    for (let i = 0; i < FAULTS; i++) {
      // Every kind in turn first, then at random; the slow disk kinds less often.
      let [name, kind] = KINDS[i % KINDS.length]!;
      if (i >= KINDS.length) {
        [name, kind] = KINDS[int(0, KINDS.length - 1)]!;
        if ((name === 'temp-full' || name === 'store-full') && rand() < 0.6) [name, kind] = KINDS[int(0, 8)]!;
      }
      count(ran, name);
      try {
        await kind(i);
      } catch (e) {
        throw new Error(`fault #${i} (${name}, seed ${SEED}) failed: ${(e as Error).message}`, { cause: e });
      }
    }
    figures.push(['random faults run', `${FAULTS} in ${((Date.now() - started) / 1000).toFixed(1)} s`]);
    figures.push(['  by kind', inline(ran)]);
  }, T);
});

// ----------------------------------------------------------------- teardown during consume

suite('socket dropped while the app consumes', () => {
  // Reported bug: ViewInstance.stop() (socket gone) runs uploads.release()
  // at once instead of after the callback in progress, so release() deletes
  // the completed temp file while the app's consume function is still using
  // it. Repro: a view consuming in its progress callback (300 ms of work,
  // then moveInto); the client sends its last chunk and progress 100, then
  // drops the socket 50 ms later: moveInto fails with ENOENT and the
  // complete upload is lost. Phoenix runs the consume to its end (the LV
  // process handles the channel exit only after the callback returns).
  it('REGRESSION a socket drop during a consume deletes the temp file under the consume function', async () => {
    const f = faultFile(200 * KiB);
    const c = await open(main.url, '/slow-consume');
    const p = await preflight(c, [{ name: f.name, size: f.content.length }]);
    const ref = p.refs[0] as string;
    const { joinRef } = await c.joinEntry(ref, p.tokens[ref]);
    for (let off = 0; off < f.content.length; off += p.chunkSize) {
      expect((await c.chunk(ref, joinRef, f.content.subarray(off, off + p.chunkSize))).status).toBe('ok');
    }
    c.client.ws.send(JSON.stringify([c.joinRef, c.client.nextRef(), c.topic, 'progress', { event: null, ref: c.confRef, entry_ref: ref, progress: 100 }]));
    await sleep(50);
    c.terminate();
    count(injected, 'socket: drop during consume');
    await eventually(() => slowConsume.done.length + slowConsume.failed.length > 0, 5000, 'consume finished');
    figures.push(['REGRESSION drop during a 300 ms consume', slowConsume.failed.length ? `consume failed: ${slowConsume.failed[0]}` : 'consumed']);
    expect(slowConsume.failed).toEqual([]);
    expect(slowConsume.done).toEqual([f.name]);
  }, T);
});

// ----------------------------------------------------------------- kill -9 and restart

suite('server killed during uploads, then restarted (child process)', () => {
  const childTmp = (): string => join(root, 'child-tmp');
  const childStore = (): string => join(root, 'child-store');
  const start = (): Promise<ChildServer> => startChild({ secret: SECRET, storeRoot: childStore(), uploadTmpDir: childTmp() });
  const folders = async (): Promise<string[]> => readdir(childTmp()).catch(() => [] as string[]);

  /** Keeps uploading until the socket dies; returns what it was doing then. */
  async function keepUploading(base: string, path: string, stop: { now: boolean }): Promise<string> {
    try {
      const c = await open(base, path);
      while (!stop.now) {
        if (path === '/faulty-default') {
          const f = faultFile(int(64 * KiB, 2 * MiB));
          const p = await preflight(c, [{ name: f.name, size: f.content.length }]);
          const r = await c.sendFile(p.refs[0]!, p.tokens[p.refs[0]!], f.content, p.chunkSize);
          if (r !== undefined) return `faulty: ${r}`;
        } else {
          const content = randomBytes(int(64 * KiB, 3 * MiB));
          sources.add(sha(content));
          const p = await preflight(c, [{ name: `k-${sha(content).slice(0, 12)}.bin`, size: content.length }]);
          const r = await c.sendFile(p.refs[0]!, p.tokens[p.refs[0]!], content, p.chunkSize);
          if (r !== undefined) return `large: ${r}`;
          const saved = await c.submit();
          // A mismatch is left to the store walk at the end (the file would match no source).
          if (!JSON.stringify(saved.response).includes(sha(content))) return 'large: saved sha256 differs';
        }
      }
      return 'stopped';
    } catch (e) {
      return `died: ${(e as Error).message.slice(0, 40)}`;
    }
  }

  /** A chunked upload that stops after `chunks` PUTs; returns the endpoint, the entry ref and the page. */
  async function partialChunked(base: string, chunks: number): Promise<{ url: string; ref: string; c: LiveClient; content: Buffer }> {
    const c = await open(base, '/uploads/chunked');
    const content = randomBytes(2 * MiB);
    const p = await preflight(c, [{ name: 'partial.bin', size: content.length }]);
    const ref = p.refs[0] as string;
    const url = base + (p.tokens[ref] as { endpoint: string }).endpoint;
    for (let k = 0; k < chunks; k++) {
      const res = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes ${k * 256 * KiB}-${(k + 1) * 256 * KiB - 1}/${content.length}` }, body: new Uint8Array(content.subarray(k * 256 * KiB, (k + 1) * 256 * KiB)) });
      expect(res.status).toBe(308);
    }
    return { url, ref, c, content };
  }

  it(`kills the server ${KILLS} times mid-upload; the next one refuses old tokens and sweeps the dead folders`, async () => {
    const tally = new Map<string, number>();
    let child = await start();
    for (let k = 0; k < KILLS; k++) {
      const stop = { now: false };
      const partial = await partialChunked(child.url, int(1, 6));
      const uploads = [
        keepUploading(child.url, '/faulty-default', stop),
        keepUploading(child.url, '/faulty-default', stop),
        keepUploading(child.url, '/uploads/large', stop),
      ];
      await sleep(int(200, 1500));
      const deadPid = child.pid;
      await child.kill();
      count(injected, 'process: SIGKILL mid-upload');
      for (const r of await Promise.all(uploads)) count(tally, r.replace(/\d+/g, 'N'));
      const dead = (await folders()).filter((n) => n.startsWith(`p${deadPid}-`));
      child = await start();
      // Old receiver tokens: the sessions lived in the dead process's memory.
      const put = await fetch(child.url + new URL(partial.url).pathname, { method: 'PUT', headers: { 'content-range': `bytes */${partial.content.length}` } });
      count(tally, `old receiver token: HTTP ${put.status}`);
      expect(put.status).toBe(404);
      // The old page rejoins on the new process: a fresh mount, no entry, nothing complete.
      const again = await LiveClient.reconnect(partial.c, child.url);
      clients.push(again);
      await again.progress(partial.ref, 100);
      expect(again.entryHtml(partial.ref)).toBeUndefined();
      expect(again.inputAttr('data-phx-done-refs')).toBe('');
      visible.gone++;
      // A socket upload on the new process (which creates its temp folder, sweeping dead ones).
      const f = faultFile(int(1 * KiB, 300 * KiB));
      const c = await open(child.url, '/faulty-default');
      const p = await preflight(c, [{ name: f.name, size: f.content.length }]);
      expect(await c.sendFile(p.refs[0]!, p.tokens[p.refs[0]!], f.content, p.chunkSize)).toBeUndefined();
      await eventually(async () => (await child.stats()).consumed.ok > 0, 5000, 'consumed on the new process');
      const still = (await folders()).filter((n) => n.startsWith(`p${deadPid}-`));
      count(tally, `dead folders: ${dead.length > 0 ? 'left' : 'none'} → ${still.length > 0 ? 'still there' : 'swept'}`);
      expect(still).toEqual([]);
      expect((await child.stats()).consumed.bad).toBe(0);
      again.terminate();
      c.close();
    }
    // Stop politely once every client is gone: its own temp folder must empty first.
    for (const c of clients) if (!c.closed) c.terminate();
    await eventually(async () => (await walk(childTmp())).length === 0, 10_000, 'child temp files removed');
    await child.stop();
    figures.push([`kill -9 / restart × ${KILLS}`, inline(tally)]);
  }, T);

  // Reported bug: fileSystem.moveInto across file systems (EXDEV: temp folder
  // on a tmpfs, store on disk) reserves the final name, then copyFile()s into
  // it: until the copy ends, the store holds a truncated file under its final
  // name, and a crash (or a kill) in that window leaves it there for good; the
  // gallery then lists it. Repro: temp folder on a tmpfs, store on disk, upload
  // 192 MiB to /uploads/large, save, SIGKILL the server while the destination
  // file is still growing: the store keeps a partial file named after the upload.
  it('REGRESSION moveInto across file systems leaves a truncated file under its final name when the server dies mid-copy', async () => {
    const xtmp = join(root, 'xdev-tmp');
    const xstore = join(root, 'child-store', 'xdev');
    await mkdir(xtmp, { recursive: true });
    if (!mountTmpfs(xtmp, '300m')) {
      figures.push(['REGRESSION moveInto mid-copy', 'skipped: tmpfs not mountable']);
      throw new Error('tmpfs not mountable');
    }
    let child: ChildServer | undefined;
    try {
      child = await startChild({ secret: SECRET, storeRoot: xstore, uploadTmpDir: xtmp });
      const content = randomBytes(192 * MiB);
      sources.add(sha(content));
      const c = await open(child.url, '/uploads/large');
      const p = await preflight(c, [{ name: 'big-copy.bin', size: content.length }]);
      expect(await c.sendFile(p.refs[0]!, p.tokens[p.refs[0]!], content, p.chunkSize)).toBeUndefined();
      const dest = join(xstore, 'files', 'big-copy.bin');
      c.client.ws.send(JSON.stringify([c.joinRef, c.client.nextRef(), c.topic, 'event', { type: 'form', event: 'save', value: '', meta: {} }]));
      // Kill as soon as the destination exists but is not complete yet.
      const { stat } = await import('node:fs/promises');
      let seen = -1;
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const size = await stat(dest).then((x) => x.size, () => -1);
        if (size > 0 && size < content.length) {
          seen = size;
          break;
        }
        if (size === content.length) break;
      }
      await child.kill();
      count(injected, 'process: SIGKILL mid-copy');
      c.terminate();
      const left = await stat(dest).then((x) => x.size, () => -1);
      figures.push(['REGRESSION moveInto mid-copy (192 MiB, EXDEV)', `killed at ${mib(Math.max(seen, 0))} copied; store keeps ${left < 0 ? 'nothing' : `big-copy.bin of ${mib(left)}`}`]);
      // A name in the store must only ever hold the whole file.
      expect(left === -1 || left === content.length).toBe(true);
    } finally {
      await child?.kill();
      umount(xtmp);
      // What the dead process left: removed here, since no process will sweep a tmpfs that is gone.
      await rm(xstore, { recursive: true, force: true });
    }
  }, 120_000);

  // Reported bug: the temp folder (and with it the sweep of dead processes'
  // folders) is created lazily by the first *socket* upload; the chunk
  // receiver's disk store mkdirs <tmp>/p<pid>-…/receiver itself. docs/uploads.md
  // says dead folders "are removed when the next process starts". Repro: kill
  // a server during a chunked upload, start another on the same uploadTmpDir,
  // complete a chunked upload on it: the dead process's folder (with its
  // receiver .part file) is still there.
  it('REGRESSION a restarted server does not sweep a killed server\'s upload folder at start, nor when only chunked uploads follow', async () => {
    let child = await start();
    const partial = await partialChunked(child.url, 3);
    const deadPid = child.pid;
    await child.kill();
    count(injected, 'process: SIGKILL mid-upload');
    partial.c.terminate();
    expect((await folders()).some((n) => n.startsWith(`p${deadPid}-`))).toBe(true);
    child = await start();
    try {
      const c = await open(child.url, '/uploads/chunked');
      const content = randomBytes(300 * KiB);
      sources.add(sha(content));
      expect((await upchunk(c, content, 'application/octet-stream', false)).result).toBe('complete');
      await eventually(() => c.html().includes(sha(content)), 5000, 'chunked upload consumed');
      c.close();
      await sleep(500);
      const still = (await folders()).filter((n) => n.startsWith(`p${deadPid}-`));
      figures.push(['REGRESSION dead folder after restart + chunked upload', still.length ? `still there: ${still.join(', ')}` : 'swept']);
      expect(still).toEqual([]);
    } finally {
      // Clean up for the suite's temp-file check: a socket upload sweeps it.
      const f = faultFile(1000);
      const c = await open(child.url, '/faulty-default');
      const p = await preflight(c, [{ name: f.name, size: f.content.length }]);
      await c.sendFile(p.refs[0]!, p.tokens[p.refs[0]!], f.content, p.chunkSize);
      c.close();
      await eventually(async () => (await walk(childTmp())).length === 0, 10_000, 'child temp files removed');
      await child.stop();
    }
  }, T);
});
