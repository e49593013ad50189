/**
 * Upload abuse at volume, against real servers over real sockets.
 *
 *   fast:  npx vitest run test/abuse/uploads.abuse.test.ts
 *   long:  INLET_LONG=1 npx vitest run test/abuse/uploads.abuse.test.ts
 *
 * Knobs: INLET_ABUSE_SEED (replay the random choices).
 *
 * What a hostile page user tries: forged, altered, replayed, expired,
 * cross-view, cross-entry and earlier-mount upload tokens; declared sizes
 * that lie both ways; chunk floods at a deliberately slow writer (the server
 * runs in a child process so its own RSS is measured); more upload channels
 * than allowed, one by one and all at once; 10,000-entry change events over
 * and over; hostile file names. Required throughout: nothing written outside
 * the store and temp folders, no temp file left once the views end, memory
 * bounded. Figures are printed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createLiveView, html, live_file_input, TmpFileWriter } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe as suite, expect, it } from 'vitest';
import { exampleOptions } from '../../examples/app.js';
import { Signer } from '../../packages/core/src/live/tokens.js';
import { startChild, type ChildServer } from '../faults/child.js';
import {
  count,
  describe,
  eventually,
  filesOutside,
  inline,
  LiveClient,
  LONG,
  mib,
  prng,
  rss,
  sha,
  sleep,
  table,
  walk,
  type Reply,
} from '../faults/support.js';
// A plain JS module, shared with the child server.
import { createFaultView } from '../faults/views.mjs';

const SEED = Number(process.env.INLET_ABUSE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

const P = LONG
  ? { tokens: 3000, sizeLies: 200, floodMiB: 256, floodParallel: 4, parallelMiB: 64, tinyChunks: 100_000, tinyRounds: 5, bigChanges: 200, channelRounds: 20, nameRounds: 3 }
  : { tokens: 300, sizeLies: 20, floodMiB: 48, floodParallel: 3, parallelMiB: 12, tinyChunks: 50_000, tinyRounds: 1, bigChanges: 12, channelRounds: 2, nameRounds: 1 };

/** Per-test time limit: the long profile runs for minutes. */
const T = LONG ? 3_600_000 : 120_000;
const SECRET = 'uploads-abuse-secret-0123456789abcdef';
const MiB = 1024 * 1024;

/** The default writer, with an init that takes 150 ms. */
class SlowInitWriter extends TmpFileWriter {
  override async init(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await sleep(150);
    await super.init();
  }
}
/**
 * Growth of the JavaScript memory the server holds (V8 heap in use after a
 * collection + array buffers) tolerated while a flood is in flight: the
 * 16 MiB queue (frame bytes plus their accounted overhead) + a frame +
 * socket buffers + a writer chunk.
 */
const FLOOD_MEMORY_BOUND = 48 * 1024 * 1024;
/**
 * RSS growth tolerated: the above plus what V8 keeps reserved, which depends
 * on the machine and its load (a loaded CI machine saw +149 MiB for a 50,000
 * chunk flood whose heap in use stays near 35 MiB).
 */
const FLOOD_RSS_BOUND = 192 * 1024 * 1024;

let root: string;
let store: string;
let tmp: string;
let server: InletServer;
const records: { ok: boolean; name: string; ref: string }[] = [];
const logged = new Map<string, number>();
const figures: [string, string | number][] = [];
const rssStart = rss();
const clients: LiveClient[] = [];

async function open(path: string, base = server.url): Promise<LiveClient> {
  const c = await LiveClient.open(base, path);
  clients.push(c);
  return c;
}

interface Preflighted {
  entries: Record<string, unknown>[];
  refs: string[];
  tokens: Record<string, string>;
  chunkSize: number;
  reply: Reply;
}

async function preflight(c: LiveClient, files: { name: string; size: number }[]): Promise<Preflighted> {
  const entries = files.map((f) => describe(f.name, f.size));
  const changed = await c.change(entries);
  expect(changed.status).toBe('ok');
  const reply = await c.preflight(entries);
  const response = reply.response as { entries?: Record<string, string>; config?: { chunk_size: number } };
  return { entries, refs: entries.map((e) => e.ref as string), tokens: response.entries ?? {}, chunkSize: response.config?.chunk_size ?? 0, reply };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-abuse-'));
  store = join(root, 'store');
  tmp = join(root, 'tmp');
  await mkdir(join(tmp, 'writers'), { recursive: true });
  const options = exampleOptions({ storeRoot: store, uploadTmpDir: tmp, secret: SECRET, log: (m: string) => count(logged, String(m).replace(/lvu?:\S+|phx-[\w-]+|\d+/g, 'N').slice(0, 80)) });
  server = createServer({
    ...options,
    routes: {
      ...options.routes,
      // 200 entries a config, so the per-view channel limit (50) is what stops a client.
      '/many': createFaultView({ dir: join(store, 'many'), records, maxEntries: 200, chunkSize: 1024 }),
      // The first writer made for a "slowinit…" entry opens slowly, later ones at once: fixes the order of racing joins.
      '/dup': createLiveView({
        mount: (socket) => {
          const made = new Map<string, number>();
          socket.allowUpload('files', {
            accept: 'any',
            maxEntries: 200,
            maxFileSize: MiB,
            chunkSize: 1024,
            writer: (_name, entry) => {
              const n = (made.get(entry.ref) ?? 0) + 1;
              made.set(entry.ref, n);
              return n === 1 && entry.clientName.startsWith('slowinit') ? new SlowInitWriter(join(tmp, 'writers')) : new TmpFileWriter(join(tmp, 'writers'));
            },
          });
        },
        handleEvent: async (event, socket) => {
          if (event.type === 'cancel') await socket.cancelUpload('files', String(event.ref));
        },
        render: (_a, { uploads }) => html`<form phx-change="validate">${live_file_input(uploads.files!)}</form>`,
      }),
    },
  });
  await server.listen(0);
});

afterAll(async () => {
  for (const c of clients) if (!c.closed) c.close();
  // Every view has ended: its temp files must go.
  let left: string[] = [];
  try {
    await eventually(async () => (left = await walk(tmp)).length === 0, 15_000, 'temp files removed after the views ended');
  } finally {
    await server.close();
    const outside = await filesOutside(root, [store, tmp, join(root, 'child-store'), join(root, 'child-tmp')]);
    figures.push(['temp files left after views ended', left.length]);
    figures.push(['files outside store/tmp folders', outside.length]);
    figures.push(['runner RSS before → after', `${mib(rssStart)} → ${mib(rss())}`]);
    figures.push(['server log lines', inline(logged)]);
    figures.push(['seed', SEED]);
    console.log(table(`upload abuse (${LONG ? 'long' : 'fast'} profile)`, figures));
    await rm(root, { recursive: true, force: true });
    expect(left).toEqual([]);
    expect(outside).toEqual([]);
  }
});

// ----------------------------------------------------------------- tokens

suite('upload tokens at volume', () => {
  it(`refuses ${P.tokens} forged, altered, expired, foreign, cross-view, cross-entry and earlier-mount tokens`, async () => {
    const a = await open('/uploads/large');
    const b = await open('/uploads/large');
    const pa = await preflight(a, [{ name: 'a0.bin', size: 1000 }, { name: 'a1.bin', size: 1000 }]);
    const pb = await preflight(b, [{ name: 'b0.bin', size: 1000 }]);
    const [a0, a1] = pa.refs as [string, string];
    const b0 = pb.refs[0] as string;
    const tokenA0 = pa.tokens[a0] as string;
    const tokenB0 = pb.tokens[b0] as string;
    const dataA0 = JSON.parse(Buffer.from(tokenA0.split('.')[0] as string, 'base64url').toString()).d as Record<string, string>;
    // A token of an earlier mount: preflight on a view, then remount it on the same socket.
    const c = await open('/uploads/large');
    const pc = await preflight(c, [{ name: 'c0.bin', size: 1000 }]);
    const c0 = pc.refs[0] as string;
    const oldMountToken = pc.tokens[c0] as string;
    await c.join();
    const pc2 = await preflight(c, [{ name: 'c1.bin', size: 1000 }]);
    const c1 = pc2.refs[0] as string;

    const own = new Signer(SECRET);
    const other = new Signer('another-secret-another-secret-0000');
    const flip = (t: string, at: number): string => {
      const chars = [...t];
      const i = Math.min(chars.length - 2, Math.max(0, at)); // never the last char: its low bits carry no data
      chars[i] = chars[i] === 'A' ? 'B' : 'A';
      return chars.join('');
    };
    type Attempt = { kind: string; client: LiveClient; topicRef: string; token: unknown };
    const kinds: (() => Attempt)[] = [
      () => ({ kind: 'garbage', client: a, topicRef: a0, token: randomBytes(int(0, 300)).toString(pick(['base64url', 'hex', 'latin1'] as const)) }),
      () => ({ kind: 'altered body', client: a, topicRef: a0, token: flip(tokenA0, int(0, tokenA0.indexOf('.') - 1)) }),
      () => ({ kind: 'altered mac', client: a, topicRef: a0, token: flip(tokenA0, int(tokenA0.indexOf('.') + 1, tokenA0.length - 2)) }),
      () => ({ kind: 'other secret', client: a, topicRef: a0, token: other.sign('upload', dataA0, 60_000) }),
      () => ({ kind: 'other purpose', client: a, topicRef: a0, token: own.sign('session', dataA0, 60_000) }),
      () => ({ kind: 'expired', client: a, topicRef: a0, token: own.sign('upload', dataA0, -int(1, 10 * 60_000)) }),
      () => ({ kind: 'non-string', client: a, topicRef: a0, token: pick([42, null, true, { token: tokenA0 }, [tokenA0], 'x'.repeat(70_000)]) }),
      () => ({ kind: 'cross-view', client: a, topicRef: b0, token: tokenB0 }),
      () => ({ kind: 'cross-entry', client: a, topicRef: a1, token: tokenA0 }),
      () => ({ kind: 'earlier mount', client: c, topicRef: c0, token: oldMountToken }),
      () => ({ kind: 'earlier mount, new ref', client: c, topicRef: c1, token: oldMountToken }),
      () => ({ kind: 'valid data, unknown view', client: a, topicRef: a0, token: own.sign('upload', { ...dataA0, v: 'phx-nope' }, 60_000) }),
    ];
    const outcomes = new Map<string, number>();
    const accepted: string[] = [];
    const started = Date.now();
    for (let i = 0; i < P.tokens; i++) {
      const attempt = (kinds[i % kinds.length] as () => Attempt)();
      const { reply } = await attempt.client.joinEntry(attempt.topicRef, attempt.token);
      const reason = reply.status === 'ok' ? 'ok' : String(reply.response.reason);
      count(outcomes, `${attempt.kind}: ${reason}`);
      if (reply.status === 'ok') accepted.push(attempt.kind);
    }
    const ms = Date.now() - started;

    // Replays of a real token: while uploading, once complete, after consume, and on another socket.
    const content = randomBytes(1000);
    expect(await a.sendFile(a0, tokenA0, content, pa.chunkSize)).toBeUndefined();
    const replays = new Map<string, number>();
    for (let i = 0; i < Math.ceil(P.tokens / 10); i++) count(replays, `complete: ${String((await a.joinEntry(a0, tokenA0)).reply.response.reason)}`);
    const saved = await a.submit();
    expect(JSON.stringify(saved.response)).toContain(sha(content));
    for (let i = 0; i < Math.ceil(P.tokens / 10); i++) count(replays, `consumed: ${String((await a.joinEntry(a0, tokenA0)).reply.response.reason)}`);
    for (let i = 0; i < Math.ceil(P.tokens / 10); i++) count(replays, `other socket: ${String((await b.joinEntry(a0, tokenA0)).reply.response.reason)}`);

    figures.push(['token attempts refused', `${P.tokens - accepted.length}/${P.tokens} in ${ms} ms`]);
    figures.push(['token outcomes', inline(outcomes)]);
    figures.push(['replays', inline(replays)]);
    expect(accepted).toEqual([]);
    for (const key of outcomes.keys()) expect(key).toMatch(/: invalid_token$/);
    expect([...replays.keys()].sort()).toEqual(['complete: already_registered', 'consumed: disallowed', 'other socket: invalid_token']);
    // The views are still alive and the real token of b still works.
    expect((await b.joinEntry(b0, tokenB0)).reply.status).toBe('ok');
    a.close();
    b.close();
    c.close();
  }, T);
});

// ----------------------------------------------------------------- size lies

suite('declared sizes that lie', () => {
  it('refuses more bytes than declared, shows the error, consumes nothing', async () => {
    const c = await open('/uploads/large');
    const reasons = new Map<string, number>();
    let shown = 0;
    for (let round = 0; round < P.sizeLies; round++) {
      const declared = int(1, 300_000);
      const p = await preflight(c, [{ name: `over-${round}.bin`, size: declared }]);
      const ref = p.refs[0] as string;
      const { joinRef, reply } = await c.joinEntry(ref, p.tokens[ref]);
      expect(reply.status).toBe('ok');
      // Chunks of random sizes (within chunk_size) until the declared size is passed.
      let sent = 0;
      let refused: Reply | undefined;
      while (!refused) {
        const n = int(1, Math.min(p.chunkSize, 200_000));
        const r = await c.chunk(ref, joinRef, randomBytes(n));
        if (r.status !== 'ok') refused = r;
        else sent += n;
        expect(sent).toBeLessThanOrEqual(declared);
      }
      count(reasons, String(refused.response.reason));
      expect(refused.response).toEqual({ reason: 'file_size_limit_exceeded', limit: declared });
      // The client may still claim 100 %.
      await c.progress(ref, 100);
      await eventually(() => /class="error"/.test(c.entryHtml(ref) ?? ''), 3000, 'error shown on the entry');
      if (/class="error"/.test(c.entryHtml(ref) ?? '')) shown++;
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      await c.submit();
      expect(c.html()).not.toContain('<li data-sha256');
      await c.click('cancel', { ref });
    }
    // A single chunk larger than chunk_size.
    const p = await preflight(c, [{ name: 'huge-chunk.bin', size: 3 * 1024 * 1024 }]);
    const ref = p.refs[0] as string;
    const { joinRef } = await c.joinEntry(ref, p.tokens[ref]);
    const r = await c.chunk(ref, joinRef, Buffer.alloc(p.chunkSize + 1));
    count(reasons, String(r.response.reason));
    expect(r.response).toEqual({ reason: 'chunk_too_large', limit: p.chunkSize });
    await c.click('cancel', { ref });
    expect((await readdir(join(store, 'files')).catch(() => [] as string[])).filter((n) => /^(over-|huge-chunk)/.test(n))).toEqual([]);
    figures.push(['over-size uploads refused', `${P.sizeLies} (${inline(reasons)}), error shown on ${shown}`]);
    c.close();
  }, T);

  it('never completes an entry that got fewer bytes than declared, whatever progress the client claims', async () => {
    const c = await open('/uploads/large');
    const claims = [100, 100.5, 1e308, 1000, 99.99999, 100];
    let refused = 0;
    let completedAfterRest = 0;
    for (let round = 0; round < P.sizeLies; round++) {
      const content = randomBytes(int(2, 200_000));
      const p = await preflight(c, [{ name: `short-${round}.bin`, size: content.length }]);
      const ref = p.refs[0] as string;
      const { joinRef } = await c.joinEntry(ref, p.tokens[ref]);
      const cut = int(0, content.length - 1);
      const send = async (from: number, to: number): Promise<void> => {
        for (let off = from; off < to; off += p.chunkSize) {
          expect(await c.chunk(ref, joinRef, content.subarray(off, Math.min(to, off + p.chunkSize)))).toEqual({ status: 'ok', response: {} });
        }
      };
      await send(0, cut);
      for (const claim of claims.slice(0, int(1, claims.length))) await c.progress(ref, claim);
      // Not done: not in done-refs, progress below 100, nothing consumed on save.
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      expect(c.entryHtml(ref)).toMatch(/<span class="pct">(\d|[1-9]\d)%<\/span>/);
      await c.submit();
      expect(c.html()).not.toContain('<li data-sha256');
      expect(c.entryHtml(ref)).toBeDefined();
      refused++;
      // The rest of the bytes, then 100: now it completes, byte-exact.
      await send(cut, content.length);
      await c.progress(ref, 100);
      expect(c.inputAttr('data-phx-done-refs')).toBe(ref);
      const done = await c.submit();
      expect(JSON.stringify(done.response)).toContain(sha(content));
      expect(sha(await readFile(join(store, 'files', `short-${round}.bin`)))).toBe(sha(content));
      completedAfterRest++;
    }
    // Progress claims without any channel at all, and on an unknown entry.
    const p = await preflight(c, [{ name: 'never-joined.bin', size: 5000 }]);
    const ref = p.refs[0] as string;
    for (const claim of [100, 100, 1e9]) await c.progress(ref, claim);
    await c.progress('no-such-ref', 100);
    expect(c.inputAttr('data-phx-done-refs')).toBe('');
    await c.submit();
    expect(c.html()).not.toContain('<li data-sha256');
    await c.click('cancel', { ref });
    figures.push(['short uploads claiming 100 %', `${refused} not completed; ${completedAfterRest} completed byte-exact once the rest arrived`]);
    c.close();
  }, T);
});

// ----------------------------------------------------------------- floods

suite('chunk floods at a slow writer (server in a child process)', () => {
  let child: ChildServer;
  let childStore: string;

  beforeAll(async () => {
    childStore = join(root, 'child-store');
    child = await startChild({ secret: SECRET, storeRoot: childStore, uploadTmpDir: join(root, 'child-tmp') });
  });

  afterAll(async () => {
    // Its views have ended: the child's temp files must go too.
    let left: string[] = [];
    try {
      await eventually(async () => (left = await walk(join(root, 'child-tmp'))).length === 0, 15_000, 'child temp files removed');
    } finally {
      figures.push(['child: temp files left after views ended', left.length]);
      await child?.stop();
    }
  });

  /** Samples the child's memory every 250 ms (after a collection) while `work` runs; resolves with the peaks. */
  async function peakRss(work: () => Promise<void>): Promise<{ base: number; peak: number; memory: number }> {
    const first = (await child.stats({ gc: true })) as { rss: number; heapUsed: number; arrayBuffers: number };
    const js = (st: { heapUsed: number; arrayBuffers: number }): number => st.heapUsed + st.arrayBuffers;
    const base = first.rss;
    let peak = base;
    let peakJs = js(first);
    let running = true;
    const sampler = (async () => {
      while (running) {
        // Collected first, so `memory` is what the server holds, not garbage.
        const st = (await child.stats({ gc: true })) as { rss: number; heapUsed: number; arrayBuffers: number };
        peak = Math.max(peak, st.rss);
        peakJs = Math.max(peakJs, js(st));
        await sleep(250);
      }
    })();
    try {
      await work();
    } finally {
      running = false;
      await sampler;
    }
    // `memory`: growth of the JavaScript memory in use (heap + array buffers).
    return { base, peak, memory: peakJs - js(first) };
  }

  /**
   * Sends every chunk of each file at once, never waiting for a reply, then
   * waits for all replies. Returns the reply statuses.
   */
  /** Largest client-side send backlog seen during the last flood: what the server did not read yet. */
  let backlog = 0;

  async function flood(c: LiveClient, files: { ref: string; token: string; content: Buffer; chunk: number }[]): Promise<Map<string, number>> {
    const statuses = new Map<string, number>();
    backlog = 0;
    const watch = setInterval(() => (backlog = Math.max(backlog, c.client.ws.bufferedAmount)), 20);
    const joins = await Promise.all(files.map((f) => c.joinEntry(f.ref, f.token)));
    for (const j of joins) expect(j.reply.status).toBe('ok');
    let expected = 0;
    const refs = new Set<string>();
    const topics = new Set(files.map((f) => `lvu:${f.ref}`));
    let got = 0;
    let allSent = false;
    let finish = (): void => undefined;
    const all = new Promise<void>((resolve) => {
      finish = () => {
        if (allSent && got === expected) {
          c.client.ws.off('message', onMessage);
          resolve();
        }
      };
      const onMessage = (data: Buffer, isBinary: boolean): void => {
        if (isBinary) return;
        const f = JSON.parse(data.toString()) as [string | null, string | null, string, string, { status: string; response: { reason?: string } }];
        if (f[3] !== 'phx_reply' || !topics.has(f[2]) || !refs.has(String(f[1]))) return;
        count(statuses, f[4].status === 'ok' ? 'ok' : String(f[4].response.reason));
        got++;
        finish();
      };
      c.client.ws.on('message', onMessage);
    });
    // Interleave the files' chunks, as parallel uploads would.
    const offsets = files.map(() => 0);
    let more = true;
    while (more) {
      more = false;
      for (let i = 0; i < files.length; i++) {
        const f = files[i]!;
        const off = offsets[i]!;
        if (off >= f.content.length) continue;
        more = true;
        const frame = c.chunkFrame(f.ref, joins[i]!.joinRef, f.content.subarray(off, off + f.chunk));
        refs.add(String(frame.toString('utf8', 5 + frame[1]!, 5 + frame[1]! + frame[2]!)));
        expected++;
        c.client.ws.send(frame);
        offsets[i] = off + f.chunk;
        // Let the socket drain now and then so the runner does not hold the whole flood at once.
        if (expected % 64 === 0) await new Promise((r) => setImmediate(r));
      }
    }
    allSent = true;
    finish();
    await all;
    clearInterval(watch);
    return statuses;
  }

  it(`stores a ${P.floodMiB} MiB flood byte-exact with bounded server memory`, async () => {
    const c = await open('/slow', child.url);
    const content = randomBytes(P.floodMiB * 1024 * 1024);
    const p = await preflight(c, [{ name: 'flood.bin', size: content.length }]);
    const ref = p.refs[0] as string;
    let statuses = new Map<string, number>();
    const started = Date.now();
    const { base, peak, memory } = await peakRss(async () => {
      statuses = await flood(c, [{ ref, token: p.tokens[ref] as string, content, chunk: p.chunkSize }]);
    });
    const secs = (Date.now() - started) / 1000;
    await c.progress(ref, 100);
    const saved = await c.submit();
    const text = JSON.stringify(saved.response);
    const ok = text.includes(sha(content));
    figures.push(['flood (1 entry, 1 MiB chunks, 10 ms/chunk writer)', `${P.floodMiB} MiB in ${secs.toFixed(1)} s, replies ${inline(statuses)}, byte-exact ${ok}`]);
    figures.push(['  server RSS base → peak', `${mib(base)} → ${mib(peak)} (+${mib(peak - base)}); JS memory +${mib(memory)}`]);
    figures.push(['  client send backlog, max (server not reading)', mib(backlog)]);
    expect(statuses.get('ok')).toBe(Math.ceil(content.length / p.chunkSize));
    expect(ok).toBe(true);
    expect(memory).toBeLessThan(FLOOD_MEMORY_BOUND);
    expect(peak - base).toBeLessThan(FLOOD_RSS_BOUND);
    c.close();
  }, T);

  it(`floods ${P.floodParallel} entries of one view at once`, async () => {
    const c = await open('/slow', child.url);
    const contents = Array.from({ length: P.floodParallel }, () => randomBytes(P.parallelMiB * 1024 * 1024));
    const p = await preflight(c, contents.map((content, i) => ({ name: `par-${i}.bin`, size: content.length })));
    let statuses = new Map<string, number>();
    const { base, peak, memory } = await peakRss(async () => {
      statuses = await flood(c, contents.map((content, i) => ({ ref: p.refs[i]!, token: p.tokens[p.refs[i]!]!, content, chunk: p.chunkSize })));
    });
    for (const ref of p.refs) await c.progress(ref, 100);
    const text = JSON.stringify((await c.submit()).response);
    const exact = contents.filter((content) => text.includes(sha(content))).length;
    figures.push([`flood (${P.floodParallel} entries × ${P.parallelMiB} MiB at once)`, `replies ${inline(statuses)}, byte-exact ${exact}/${contents.length}`]);
    figures.push(['  server RSS base → peak', `${mib(base)} → ${mib(peak)} (+${mib(peak - base)}); JS memory +${mib(memory)}`]);
    expect(exact).toBe(contents.length);
    expect(memory).toBeLessThan(FLOOD_MEMORY_BOUND);
    expect(peak - base).toBeLessThan(FLOOD_RSS_BOUND);
    c.close();
  }, T);

  // 50,000 (fast) or 100,000 (long) frames a round (see the regression below for why not more at once); rounds repeat it.
  it(`keeps memory bounded under ${P.tinyRounds} flood(s) of ${P.tinyChunks.toLocaleString('en')} one-byte chunks`, async () => {
    const c = await open('/slow', child.url);
    let worst = 0;
    let worstMemory = 0;
    let base0 = 0;
    const started = Date.now();
    const statuses = new Map<string, number>();
    let exact = 0;
    for (let round = 0; round < P.tinyRounds; round++) {
      const content = randomBytes(P.tinyChunks);
      const p = await preflight(c, [{ name: `x${round}.tiny.bin`, size: content.length }]);
      const ref = p.refs[0] as string;
      const { base, peak, memory } = await peakRss(async () => {
        for (const [k, v] of await flood(c, [{ ref, token: p.tokens[ref] as string, content, chunk: 1 }])) count(statuses, k, v);
      });
      if (round === 0) base0 = base;
      worst = Math.max(worst, peak - base0);
      worstMemory = Math.max(worstMemory, memory);
      await c.progress(ref, 100);
      if (JSON.stringify((await c.submit()).response).includes(sha(content))) exact++;
    }
    const secs = (Date.now() - started) / 1000;
    figures.push([`flood (${P.tinyRounds} × ${P.tinyChunks.toLocaleString('en')} one-byte chunks)`, `${secs.toFixed(1)} s, replies ${inline(statuses)}, byte-exact ${exact}/${P.tinyRounds}`]);
    figures.push(['  server RSS growth, worst', `+${mib(worst)} over ${mib(base0)}; JS memory +${mib(worstMemory)}`]);
    expect(exact).toBe(P.tinyRounds);
    expect(worstMemory).toBeLessThan(FLOOD_MEMORY_BOUND);
    expect(worst).toBeLessThan(FLOOD_RSS_BOUND);
    c.close();
  }, T);

  // Reported bug: the queue limit counts frame bytes only. Each queued frame
  // costs ~0.75 KB of heap (frame object, buffer view, closure, promise), so
  // 16 MiB of one-byte chunk frames (~600,000 frames of ~27 bytes) holds about
  // 450 MiB before the socket is paused. Repro: join an upload channel whose
  // writer is slow, send 400,000 one-byte chunks (~11 MB on the wire, under the
  // 16 MiB limit, so never paused) without waiting for replies, watch the
  // server's RSS: +~285 MiB (600,000 frames: +432 MiB).
  it('REGRESSION backpressure ignores per-frame overhead: a flood of tiny chunk frames grows server memory far past the 16 MiB queue', async () => {
    const c = await open('/slow', child.url);
    const frames = 400_000;
    const p = await preflight(c, [{ name: 'tiny-slow.bin', size: frames }]);
    const ref = p.refs[0] as string;
    const { joinRef, reply } = await c.joinEntry(ref, p.tokens[ref]);
    expect(reply.status).toBe('ok');
    const one = Buffer.from([7]);
    const { base, peak, memory } = await peakRss(async () => {
      for (let i = 0; i < frames; i++) {
        c.client.ws.send(c.chunkFrame(ref, joinRef, one));
        if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
      }
      // Until the server has read every frame (nothing left in the client's send buffer).
      await eventually(() => c.client.ws.bufferedAmount === 0, 20_000, 'flood read').catch(() => undefined);
      await sleep(500);
    });
    c.terminate();
    figures.push([`REGRESSION ${frames.toLocaleString('en')} one-byte chunks at a slow writer`, `server RSS ${mib(base)} → ${mib(peak)} (+${mib(peak - base)}); JS memory +${mib(memory)}`]);
    expect(memory).toBeLessThan(FLOOD_MEMORY_BOUND);
    expect(peak - base).toBeLessThan(FLOOD_RSS_BOUND);
  }, T);
});

// ----------------------------------------------------------------- channels

suite('upload channels beyond the limits', () => {
  /** A file for the fault view: its name carries its sha256. */
  const file = (): { content: Buffer; name: string } => {
    const content = randomBytes(int(1, 1000));
    return { content, name: `${sha(content)}.ok.bin` };
  };

  it('refuses the 51st upload channel of a view, one join at a time, and frees slots as uploads end', async () => {
    const c = await open('/many');
    const files = Array.from({ length: 60 }, file);
    const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
    const reasons: string[] = [];
    const joined: { ref: string; joinRef: string }[] = [];
    for (const ref of p.refs) {
      const j = await c.joinEntry(ref, p.tokens[ref]);
      reasons.push(j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
      if (j.reply.status === 'ok') joined.push({ ref, joinRef: j.joinRef });
    }
    const tally = new Map<string, number>();
    for (const r of reasons) count(tally, r);
    figures.push(['60 joins one by one', inline(tally)]);
    expect(tally.get('ok')).toBe(50);
    expect(tally.get('too_many_channels')).toBe(10);
    // Complete the 50 (the view consumes each at 100 %), then the 10 left may join.
    for (const { ref, joinRef } of joined) {
      const f = files[p.refs.indexOf(ref)]!;
      expect((await c.chunk(ref, joinRef, f.content)).status).toBe('ok');
      await c.progress(ref, 100);
    }
    for (const ref of p.refs.filter((r) => !joined.some((j) => j.ref === r))) {
      const f = files[p.refs.indexOf(ref)]!;
      expect(await c.sendFile(ref, p.tokens[ref], f.content, 1024)).toBeUndefined();
    }
    expect(records.filter((r) => r.ok).length).toBeGreaterThanOrEqual(60);
    c.close();
  }, T);

  // Reported bug: UploadManager.entryForChannel checks the channel count, then
  // the join awaits the writer's creation and init before attachChannel counts
  // it; joins on different topics run concurrently, so all of them pass the
  // check. Repro: preflight 60 entries on one view, send the 60 lvu joins
  // without waiting: 60 are accepted (maxUploadChannels is 50).
  it('REGRESSION maxUploadChannels is bypassed by lvu joins that arrive together', async () => {
    const c = await open('/many');
    const files = Array.from({ length: 60 }, file);
    const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
    const replies = await Promise.all(p.refs.map((ref) => c.joinEntry(ref, p.tokens[ref])));
    const tally = new Map<string, number>();
    for (const j of replies) count(tally, j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
    figures.push(['REGRESSION 60 joins at once (limit 50)', inline(tally)]);
    c.close();
    expect(tally.get('ok') ?? 0).toBeLessThanOrEqual(50);
  }, T);

  // Reported bug: two joins of the same lvu topic in flight at once (a
  // client replaying its join) both pass entryForChannel; the connection
  // supersedes the first (phx_close, no reply) but its writer init may finish
  // last, and attachChannel then overwrites the entry's runtime with the
  // superseded channel. Terminating that one clears runtime.channel, so: the
  // live second channel is unknown to the manager (cancel and consume do not
  // close it; it keeps accepting chunks for a cancelled entry, and its temp
  // file is never removed once complete), and the per-view channel count
  // keeps one slot forever. Repro (made deterministic with a writer whose
  // first init for an entry is slow): join the same entry twice without
  // waiting, cancel the entry, then 50 fresh joins: only 49 are accepted.
  it('REGRESSION concurrent duplicate lvu joins leak a channel slot and orphan the live channel', async () => {
    const c = await open('/dup');
    const f = file();
    const p = await preflight(c, [{ name: 'slowinit.bin', size: f.content.length }]);
    const ref = p.refs[0] as string;
    const [first, second] = await Promise.allSettled([c.joinEntry(ref, p.tokens[ref], 2000), c.joinEntry(ref, p.tokens[ref], 2000)]);
    expect(first.status).toBe('rejected'); // superseded: phx_close, no reply
    expect(second.status === 'fulfilled' && second.value.reply.status).toBe('ok');
    const closed = c.client.waitFor((fr) => fr[2] === `lvu:${ref}` && fr[3] === 'phx_close' && second.status === 'fulfilled' && fr[0] === second.value.joinRef, 2000).then(
      () => true,
      () => false,
    );
    await c.click('cancel', { ref });
    const orphanClosed = await closed;
    const files = Array.from({ length: 50 }, file);
    const q = await preflight(c, files.map((x) => ({ name: x.name, size: x.content.length })));
    const after = new Map<string, number>();
    for (const r of q.refs) count(after, (await c.joinEntry(r, q.tokens[r])).reply.status === 'ok' ? 'ok' : 'refused');
    figures.push(['REGRESSION duplicate join, cancel, then 50 joins', `${inline(after)}; live channel closed on cancel: ${orphanClosed}`]);
    c.close();
    expect(orphanClosed).toBe(true);
    expect(after.get('ok')).toBe(50);
  }, T);

  it('refuses the 101st channel of a socket (two views × 50 upload channels)', async () => {
    const a = await open('/many');
    const b = await LiveClient.onSameSocket(a, '/many');
    const filesA = Array.from({ length: 50 }, file);
    const filesB = Array.from({ length: 52 }, file);
    const pa = await preflight(a, filesA.map((f) => ({ name: f.name, size: f.content.length })));
    const pb = await preflight(b, filesB.map((f) => ({ name: f.name, size: f.content.length })));
    const tally = new Map<string, number>();
    for (const ref of pa.refs) count(tally, (await a.joinEntry(ref, pa.tokens[ref])).reply.status);
    for (const ref of pb.refs) {
      const j = await b.joinEntry(ref, pb.tokens[ref]);
      count(tally, j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
    }
    figures.push(['2 views on one socket, 50 + 52 upload joins', inline(tally)]);
    a.close();
    // 2 views + 98 upload channels = 100 per socket; the other 4 are refused.
    expect(tally.get('ok')).toBe(98);
    expect(tally.get('too many channels joined')).toBe(4);
  }, T);

  it(`keeps the per-view channel count exact through ${P.channelRounds} rounds of leave, cancel and rejoin`, async () => {
    const c = await open('/many');
    const tally = new Map<string, number>();
    for (let round = 0; round < P.channelRounds; round++) {
      const files = Array.from({ length: 40 }, file);
      const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
      for (const [i, ref] of p.refs.entries()) {
        const how = i % 3;
        if (how === 0) {
          // join, leave
          const j = await c.joinEntry(ref, p.tokens[ref]);
          await c.client.request(j.joinRef, `lvu:${ref}`, 'phx_leave', {});
          count(tally, 'leave');
        } else if (how === 1) {
          // join, then cancel from the view
          await c.joinEntry(ref, p.tokens[ref]);
          await c.click('cancel', { ref });
          count(tally, 'cancel');
        } else {
          // rejoin the same topic after the first join answered
          await c.joinEntry(ref, p.tokens[ref]);
          const again = await c.joinEntry(ref, p.tokens[ref]);
          count(tally, `rejoin ${again.reply.status}`);
          await c.click('cancel', { ref });
        }
      }
      for (const ref of p.refs) await c.click('cancel', { ref });
    }
    // Every slot is free again: 50 fresh joins succeed, the 51st is refused.
    const files = Array.from({ length: 51 }, file);
    const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
    const after = new Map<string, number>();
    for (const ref of p.refs) {
      const j = await c.joinEntry(ref, p.tokens[ref]);
      count(after, j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
    }
    figures.push(['channel churn', inline(tally)]);
    figures.push(['  51 joins after the churn', inline(after)]);
    c.close();
    expect(after.get('ok')).toBe(50);
    expect(after.get('too_many_channels')).toBe(1);
  }, T);
});

// ----------------------------------------------------------------- change events

suite('10,000-entry change events, repeated', () => {
  it(`bounds ${P.bigChanges} change events of 10,000 entries each and stays responsive`, async () => {
    const before = rss();
    const times: number[] = [];
    let c = await open('/uploads/large');
    for (let i = 0; i < P.bigChanges; i++) {
      if (i > 0 && i % 5 === 0) {
        c.close();
        c = await open('/uploads/large');
      }
      // Fresh refs every time; every third event reuses the previous refs; one in four carries 600-character names.
      const longNames = i % 4 === 3;
      const entries = Array.from({ length: 10_000 }, (_, k) => describe(`${longNames ? 'n'.repeat(600) : 'f'}${i}-${k}.bin`, int(1, 1e9)));
      const started = Date.now();
      const r = await c.change(entries);
      times.push(Date.now() - started);
      expect(r.status).toBe('ok');
      expect(c.html()).toContain('Too many files: choose at most 5.');
      expect((c.html().match(/class="entry"/g) ?? []).length).toBe(55);
      const click = await c.click('noop');
      expect(click.status).toBe('ok');
    }
    c.close();
    const after = rss();
    const sorted = [...times].sort((x, y) => x - y);
    figures.push([`${P.bigChanges} × 10,000-entry change events`, `median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`]);
    figures.push(['  runner RSS (client + server) before → after', `${mib(before)} → ${mib(after)}`]);
    expect(Math.max(...times)).toBeLessThan(10_000);
    expect(after - before).toBeLessThan(512 * 1024 * 1024);
  }, T);
});

// ----------------------------------------------------------------- file names

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

const HOSTILE_NAMES: string[] = [
  // traversal
  '../../escape.txt', '..\\..\\escape-win.txt', '/etc/passwd', 'C:\\Windows\\System32\\evil.dll', '....//....//dots.txt',
  '%2e%2e%2fpct.txt', 'sub/dir/../../../x.txt', '\\\\server\\share\\unc.txt', 'file:///etc/hosts',
  // NUL and controls
  'nul\u0000byte.txt', '\u0000', 'tab\tname.txt', 'new\nline.txt', 'cr\r\n.txt', '\u001b[31mansi.txt', 'del\u007f.txt',
  // very long
  `${'a'.repeat(300)}.txt`, `${'ü'.repeat(600)}.txt`, `${'😀'.repeat(300)}.png`, `x.${'e'.repeat(400)}`, 'b'.repeat(1024), `${'中'.repeat(2000)}.txt`,
  // Unicode tricks
  '..／..／fullwidth-solidus.txt', '..＼..＼fullwidth-reverse.txt', 'division∕slash.txt', 'caf\u00e9.txt', 'cafe\u0301.txt',
  '\u212bngstrom.txt', '\u00c5ngstrom.txt', `z${'\u0301'.repeat(300)}.txt`, 'evil\u202egnp.exe', 'zero\u200bwidth.txt', '\ufeffbom.txt',
  'lone\ud800surrogate.txt', '\u2066isolate\u2069.txt',
  // Windows reserved names
  'CON', 'CON.txt', 'CON .txt', 'CONIN$', 'con.tar.gz', 'PRN.log', 'AUX', 'aux.h', 'NUL.bin', 'nul', 'COM1.txt', 'com9', 'LPT1', 'lpt1.doc', 'COM¹.txt',
  'CON.txt.', 'nul.txt...', 'a:b*c?d"e<f>g|h.txt', 'stream.txt:hidden:$DATA',
  // trailing dots and spaces; only dots; empty
  'trailing.txt.', 'trailing-space.txt   ', 'both.txt. . .', '.', '..', '...', '.....', '. .', ' ', '', '.htaccess', '..hidden',
];

suite('hostile file names', () => {
  it(`stores ${HOSTILE_NAMES.length} hostile names${P.nameRounds > 1 ? ` (then ${P.nameRounds - 1} more rounds of the short ones)` : ''} inside the store only, sanitised, without overwriting`, async () => {
    const c = await open('/uploads/large');
    const dest = join(store, 'files');
    await rm(dest, { recursive: true, force: true });
    await mkdir(dest, { recursive: true });
    const sources: Buffer[] = [];
    for (let round = 0; round < P.nameRounds; round++) {
      // Later rounds store every name again (numbered copies), except the long ones: see the regression below.
      const names = round === 0 ? HOSTILE_NAMES : HOSTILE_NAMES.filter((n) => Buffer.byteLength(n) < 150);
      for (let i = 0; i < names.length; i += 5) {
        const batch = names.slice(i, i + 5).map((name) => ({ name, content: randomBytes(int(10, 5000)) }));
        const p = await preflight(c, batch.map((f) => ({ name: f.name, size: f.content.length })));
        expect(p.reply.response.error).toBeUndefined();
        for (const [k, f] of batch.entries()) {
          const ref = p.refs[k] as string;
          expect(await c.sendFile(ref, p.tokens[ref], f.content, p.chunkSize)).toBeUndefined();
          sources.push(f.content);
        }
        const saved = await c.submit();
        expect(saved.status).toBe('ok');
      }
    }
    // Everything but the fault view's own folder (earlier tests) must be this test's files.
    const stored = (await walk(store)).filter((p) => !p.startsWith(join(store, 'many') + '/'));
    const inDest = stored.filter((p) => dirname(p) === dest);
    const names = inDest.map((p) => basename(p));
    const problems: string[] = [];
    for (const name of names) {
      // eslint-disable-next-line no-control-regex
      if (/[/\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(name)) problems.push(`unsafe char: ${JSON.stringify(name)}`);
      if (Buffer.byteLength(name) > 200) problems.push(`longer than 200 bytes: ${Buffer.byteLength(name)}`);
      if (name.normalize('NFC') !== name) problems.push(`not NFC: ${JSON.stringify(name)}`);
      if (RESERVED.test(name)) problems.push(`Windows-reserved: ${name}`);
      if (/[. ]$/.test(name)) problems.push(`trailing dot or space: ${JSON.stringify(name)}`);
      if (name.startsWith('.')) problems.push(`hidden (leading dot): ${name}`);
    }
    const storedHashes = new Set(await Promise.all(inDest.map(async (p) => sha(await readFile(p)))));
    const missing = sources.filter((s) => !storedHashes.has(sha(s))).length;
    // Borderline Windows cases reported, not failed: a space before the extension, console devices.
    const borderline = names.filter((n) => /^(con|prn|aux|nul|com\d|lpt\d)\s+\./i.test(n) || /^(conin\$|conout\$)/i.test(n));
    figures.push(['hostile names uploaded → stored in the folder', `${sources.length} → ${inDest.length} (elsewhere in store: ${stored.length - inDest.length})`]);
    figures.push(['  name problems / contents missing', `${problems.length} / ${missing}`]);
    if (borderline.length) figures.push(['  borderline (not failed)', borderline.join(' | ')]);
    if (problems.length) console.log(problems.join('\n'));
    expect(stored.length - inDest.length).toBe(0);
    expect(inDest.length).toBe(sources.length);
    expect(missing).toBe(0);
    expect(problems).toEqual([]);
    c.close();
  }, T);

  // Reported bug: moveInto's free-name search builds `${stem} (n)${ext}`,
  // then safeJoin() sanitises it again, and a stem already at the 200-byte
  // limit is cut back to exactly the taken name: every candidate collides.
  // After 10,000 open() attempts (1.5–2.7 s of I/O) it throws
  // INLET_ERR_UPLOAD_DESTINATION ("escapes its directory"), so the save
  // fails (the example view crashes). Repro: fileSystem.moveInto(dir,
  // 'a'.repeat(300) + '.txt', src) twice; or upload two files with that name
  // to /uploads/large and save each.
  it('REGRESSION a second file with a long name cannot be stored (the " (1)" suffix is cut off)', async () => {
    const c = await open('/uploads/large');
    const name = `long-${'a'.repeat(300)}.txt`;
    const contents = [randomBytes(100), randomBytes(200)];
    const started = Date.now();
    const outcome: string[] = [];
    for (const content of contents) {
      const p = await preflight(c, [{ name, size: content.length }]);
      const ref = p.refs[0] as string;
      expect(await c.sendFile(ref, p.tokens[ref], content, p.chunkSize)).toBeUndefined();
      // A crashing view answers with phx_error, not a reply.
      const saved = await Promise.race([
        c.request('event', { type: 'form', event: 'save', value: '', meta: {} }, 20_000).catch((e: unknown) => ({ status: 'no reply', response: { error: String(e) } })),
        eventually(() => c.viewEvents.includes('phx_error'), 20_000).then(() => ({ status: 'crashed', response: {} })),
      ]);
      outcome.push(saved.status === 'ok' && JSON.stringify(saved.response).includes(sha(content)) ? 'stored' : `not stored (${c.viewEvents.includes('phx_error') ? 'view crashed' : saved.status})`);
    }
    figures.push(['REGRESSION two uploads named "long-" + "a"×300 + ".txt"', `${outcome.join(', ')} in ${Date.now() - started} ms`]);
    c.terminate();
    expect(outcome).toEqual(['stored', 'stored']);
  }, T);
});
