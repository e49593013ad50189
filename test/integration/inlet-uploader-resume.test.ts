/**
 * Resumable Inlet-uploader uploads at protocol level, over real sockets: an
 * unfinished upload outlives its view (socket drop, a new page of the same
 * browser session, a server restart with the same folder), and only the same
 * browser session can claim it, for the same config, fingerprint and size.
 * Bad claims (forged, replayed, wrong file) start afresh and leave the other
 * session untouched; caps and the TTL hold. Every stored file is checked by sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLiveView, html, live_file_input, type LiveView } from 'inletjs';
import { createServer, type InletServer, type ServerOptions } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchPage, PhoenixClient, type Frame } from '../support/phoenix-ws.js';
import { confRefOf, describeFile, InletSession, UploadSession, type ReplyPayload } from '../support/upload-client.js';

const SECRET = 'inlet-resume-integration-secret-0123456';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FP_A = 'a'.repeat(64);
const FP_B = 'b'.repeat(64);

let root: string;
let store: string;
let tmp: string;
let server: InletServer;
const clients: PhoenixClient[] = [];

function view(name = 'files', extra: Record<string, unknown> = {}): LiveView<never, never> {
  return createLiveView({
    mount: (s) => {
      s.allowUpload(name, { accept: 'any', maxEntries: 4, maxFileSize: 64 * 1024 * 1024, ...extra });
      s.assign({ saved: [] as string[] });
    },
    handleEvent: async (event, s) => {
      if (event.type !== 'save') return;
      const saved = await s.consumeUploadedEntries(name, async (meta, entry) => {
        const dest = await meta.fileSystem.moveInto(store, entry.clientName, meta.path);
        return `${entry.clientName}|${String(meta.sha256)}|${String(meta.sha256Verified)}|${dest}`;
      });
      s.assign({ saved });
    },
    render: (a, { uploads }) =>
      html`<form phx-change="validate" phx-submit="save">${live_file_input(uploads[name]!)}</form>${uploads[name]!.entries.map(
        (e) => html`<p class="entry">${e.clientName}: ${e.progress} ${e.errors.join(' ')}</p>`,
      )}${(a.saved as string[]).map((x) => html`<p class="saved">${x}</p>`)}`,
  }) as unknown as LiveView<never, never>;
}

function options(extra: Partial<ServerOptions> = {}): ServerOptions {
  return {
    secret: SECRET,
    uploadTmpDir: tmp,
    log: () => undefined,
    routes: { '/a': view(), '/b': view('other'), '/plain': view('files', { resume: false }), '/stall': view('files', { chunkTimeout: 1000 }) },
    ...extra,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-resume-'));
  store = join(root, 'store');
  tmp = join(root, 'tmp');
  server = createServer(options());
  await server.listen(0);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

/** A browser session: the cookie of its first page. */
interface Browser {
  cookie?: string;
}

/** Opens a page as `browser`, connects with the Inlet uploader, joins and preflights one file. */
async function open(browser: Browser, file: { name: string; size: number }, path = '/a', at: InletServer = server) {
  const page = await fetchPage(at.url, path, browser.cookie);
  browser.cookie = page.cookie;
  const client = await PhoenixClient.connect(at.url, page, '&_inlet_uploader=1');
  clients.push(client);
  const j = await client.joinView(at.url, page, path);
  expect(j.reply.status).toBe('ok');
  const confRef = confRefOf(j.reply.response.rendered);
  const session = new UploadSession(client, j.joinRef, j.topic);
  const entry = describeFile(file, path === '/b' ? 'other' : 'files');
  await session.change(confRef, [entry]);
  const pre = (await session.preflight(confRef, [entry])).response as { entries: Record<string, { token: string; chunk_size: number; window: number }> };
  const ref = entry.ref as string;
  const meta = pre.entries[ref]!;
  return { client, session, confRef, ref, meta, inlet: new InletSession(client, ref) };
}

type Opened = Awaited<ReturnType<typeof open>>;

async function joinUpload(o: Opened, fp: string, rid?: unknown): Promise<ReplyPayload> {
  return o.inlet.join(o.meta.token, { fp, ...(rid !== undefined ? { rid } : {}) });
}

/** Sends `[from, to)` of `content`, one chunk after the other, each acknowledged. */
async function sendRange(o: Opened, content: Buffer, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += o.meta.chunk_size) {
    const r = await o.inlet.chunk(at, content.subarray(at, Math.min(to, at + o.meta.chunk_size)));
    expect(r).toEqual({ status: 'ok', response: { offset: Math.min(to, at + o.meta.chunk_size) } });
  }
}

/** The rest of the upload, the finish, the progress and the save; returns what the view saved. */
async function finishAndSave(o: Opened, content: Buffer, from: number): Promise<string> {
  const { finish } = await o.inlet.sendAll(content, o.meta.chunk_size, o.meta.window, from);
  expect(finish).toEqual({ status: 'ok', response: { sha256: sha(content) } });
  await o.session.progress(o.confRef, o.ref, 100);
  return JSON.stringify((await o.session.submit()).response);
}

async function sessionFiles(): Promise<string[]> {
  return (await readdir(join(tmp, 'sessions')).catch(() => [] as string[])).sort();
}

/** Waits until the client has received a frame matching `match`. */
async function seen(client: PhoenixClient, match: (f: Frame) => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!client.frames.some(match)) {
    if (Date.now() > end) throw new Error('never saw the frame');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the server has parked what a closed socket left (its release runs after the close). */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
}

describe('a resumable upload outlives its view', () => {
  it('continues after a socket drop, on a new page of the same browser session, from the verified offset', async () => {
    const content = randomBytes(3 * 512 * 1024 + 4321);
    const me: Browser = {};
    const first = await open(me, { name: 'drop.bin', size: content.length });
    const joined = await joinUpload(first, FP_A);
    expect(joined.response).toMatchObject({ offset: 0, resumed: false });
    const rid = joined.response.rid;
    expect(typeof rid).toBe('string');
    await sendRange(first, content, 0, 2 * first.meta.chunk_size);
    first.client.close(); // the socket drops mid-upload
    await settle();

    const again = await open(me, { name: 'drop.bin', size: content.length });
    const claimed = await joinUpload(again, FP_A, rid);
    expect(claimed).toMatchObject({ status: 'ok', response: { offset: 2 * again.meta.chunk_size, resumed: true, rid } });
    const saved = await finishAndSave(again, content, 2 * again.meta.chunk_size);
    expect(saved).toContain(`drop.bin|${sha(content)}|true|`);
    expect(sha(await readFile(join(store, 'drop.bin')))).toBe(sha(content));
    expect(await sessionFiles()).toEqual([]);
  });

  it('is claimed by its key alone when the client lost its resume id (a reload without storage)', async () => {
    const content = randomBytes(2 * 512 * 1024 + 1);
    const me: Browser = {};
    const first = await open(me, { name: 'key.bin', size: content.length });
    await joinUpload(first, FP_A);
    await sendRange(first, content, 0, first.meta.chunk_size);
    first.client.close();
    await settle();
    const again = await open(me, { name: 'key.bin', size: content.length });
    expect((await joinUpload(again, FP_A)).response).toMatchObject({ offset: again.meta.chunk_size, resumed: true });
    expect(await finishAndSave(again, content, again.meta.chunk_size)).toContain(`key.bin|${sha(content)}|true|`);
  });

  it('a same-view rejoin of the entry (its channel crashed) claims the session its channel parked', async () => {
    const content = randomBytes(2 * 512 * 1024 + 99);
    const me: Browser = {};
    const o = await open(me, { name: 'rejoin.bin', size: content.length });
    const { rid } = (await joinUpload(o, FP_A)).response;
    await sendRange(o, content, 0, o.meta.chunk_size);
    // The client joins the same topic again: the server supersedes the old channel (terminate 'rejoin').
    const rejoined = await joinUpload(o, FP_A, rid);
    expect(rejoined.response).toMatchObject({ offset: o.meta.chunk_size, resumed: true, rid });
    expect(await finishAndSave(o, content, o.meta.chunk_size)).toContain(`rejoin.bin|${sha(content)}|true|`);
  });

  it('a stall past the chunk timeout (a lost network the socket survives) parks the upload and crashes the channel; the rejoin continues', async () => {
    const content = randomBytes(2 * 512 * 1024 + 77);
    const me: Browser = {};
    const o = await open(me, { name: 'stall.bin', size: content.length }, '/stall');
    const { rid } = (await joinUpload(o, FP_A)).response;
    await sendRange(o, content, 0, o.meta.chunk_size);
    // Nothing more arrives: the server gives the channel up as crashed (the client rejoins), not the entry.
    await seen(o.client, (f) => f[2] === o.inlet.topic && f[3] === 'phx_error', 6000);
    const rejoined = await joinUpload(o, FP_A, rid);
    expect(rejoined).toMatchObject({ status: 'ok', response: { offset: o.meta.chunk_size, resumed: true, rid } });
    // The entry never failed: it is consumed.
    expect(await finishAndSave(o, content, o.meta.chunk_size)).toContain(`stall.bin|${sha(content)}|true|`);
  });

  it('a cancel (the client leaves while the view lives) ends the session: it is not resumable', async () => {
    const content = randomBytes(2 * 512 * 1024);
    const me: Browser = {};
    const o = await open(me, { name: 'cancel.bin', size: content.length });
    const { rid } = (await joinUpload(o, FP_A)).response;
    await sendRange(o, content, 0, o.meta.chunk_size);
    await o.client.request(o.inlet.joinRef, o.inlet.topic, 'phx_leave', {});
    await settle();
    expect((await sessionFiles()).filter((n) => n.startsWith(String(rid)))).toEqual([]);
    o.client.close();
    const again = await open(me, { name: 'cancel.bin', size: content.length });
    expect((await joinUpload(again, FP_A, rid)).response).toMatchObject({ offset: 0, resumed: false, claim: 'refused' });
  });

  it('continues after a server restart with the same folder: the checksum is rebuilt from the stored bytes', async () => {
    const content = randomBytes(3 * 512 * 1024 + 7);
    const me: Browser = {};
    const a = createServer(options());
    await a.listen(0);
    const first = await open(me, { name: 'restart.bin', size: content.length }, '/a', a);
    const { rid } = (await joinUpload(first, FP_A)).response;
    await sendRange(first, content, 0, 2 * first.meta.chunk_size);
    await a.close();
    const b = createServer(options());
    await b.listen(0);
    try {
      const again = await open(me, { name: 'restart.bin', size: content.length }, '/a', b);
      expect((await joinUpload(again, FP_A, rid)).response).toMatchObject({ offset: 2 * again.meta.chunk_size, resumed: true, rid });
      expect(await finishAndSave(again, content, 2 * again.meta.chunk_size)).toContain(`restart.bin|${sha(content)}|true|`);
      expect(sha(await readFile(join(store, 'restart.bin')))).toBe(sha(content));
    } finally {
      await b.close();
    }
  });

  it('a prefix that does not match the file (another file, same fingerprint) ends as checksum_mismatch, never as a wrong file', async () => {
    const content = randomBytes(2 * 512 * 1024 + 5);
    const other = Buffer.from(content);
    other[10] = (other[10] ?? 0) ^ 0xff; // what the server holds differs from what the client hashes
    const me: Browser = {};
    const first = await open(me, { name: 'twin.bin', size: content.length });
    const { rid } = (await joinUpload(first, FP_B)).response;
    await sendRange(first, other, 0, first.meta.chunk_size);
    first.client.close();
    await settle();
    const again = await open(me, { name: 'twin.bin', size: content.length });
    expect((await joinUpload(again, FP_B, rid)).response).toMatchObject({ resumed: true });
    const { finish } = await again.inlet.sendAll(content, again.meta.chunk_size, again.meta.window, again.meta.chunk_size);
    expect(finish).toEqual({ status: 'error', response: { reason: 'checksum_mismatch' } });
  });
});

describe('bad claims start afresh and leave the other session untouched', () => {
  async function parked(me: Browser, name: string, size: number, fp = FP_A) {
    const content = randomBytes(size);
    const o = await open(me, { name, size });
    const { rid } = (await joinUpload(o, fp)).response;
    await sendRange(o, content, 0, o.meta.chunk_size);
    o.client.close();
    await settle();
    return { content, rid };
  }

  it('a claim from another browser session (a forged resume id) is refused; the owner still resumes', async () => {
    const owner: Browser = {};
    const { content, rid } = await parked(owner, 'mine.bin', 2 * 512 * 1024 + 3);
    const thief = await open({}, { name: 'mine.bin', size: content.length });
    const stolen = await joinUpload(thief, FP_A, rid);
    expect(stolen.status).toBe('ok');
    expect(stolen.response).toMatchObject({ offset: 0, resumed: false, claim: 'refused' });
    expect(stolen.response.rid).not.toBe(rid);
    // Its bytes cannot be appended to the owner's session either: it writes to its own.
    expect((await thief.inlet.chunk(512 * 1024, content.subarray(512 * 1024, 1024 * 1024))).response).toEqual({ reason: 'offset_mismatch', offset: 0 });
    const back = await open(owner, { name: 'mine.bin', size: content.length });
    expect((await joinUpload(back, FP_A, rid)).response).toMatchObject({ offset: back.meta.chunk_size, resumed: true, rid });
    expect(await finishAndSave(back, content, back.meta.chunk_size)).toContain(`mine.bin|${sha(content)}|true|`);
  });

  it('a replayed claim of a session already attached is refused', async () => {
    const me: Browser = {};
    const { content, rid } = await parked(me, 'twice.bin', 2 * 512 * 1024 + 11);
    const one = await open(me, { name: 'twice.bin', size: content.length });
    expect((await joinUpload(one, FP_A, rid)).response).toMatchObject({ resumed: true });
    const two = await open(me, { name: 'twice.bin', size: content.length });
    expect((await joinUpload(two, FP_A, rid)).response).toMatchObject({ offset: 0, resumed: false, claim: 'refused' });
    expect(await finishAndSave(one, content, one.meta.chunk_size)).toContain(`twice.bin|${sha(content)}|true|`);
  });

  it('a claim by id of a session whose channel went quiet (its socket died unnoticed) takes it over; the old channel is closed', async () => {
    const content = randomBytes(3 * 512 * 1024 + 9);
    const me: Browser = {};
    const first = await open(me, { name: 'silent.bin', size: content.length });
    const { rid } = (await joinUpload(first, FP_A)).response;
    await sendRange(first, content, 0, first.meta.chunk_size);
    // The first socket stays open but sends nothing (a network that went away without a FIN).
    await new Promise((r) => setTimeout(r, 2100));
    const again = await open(me, { name: 'silent.bin', size: content.length });
    expect((await joinUpload(again, FP_A, rid)).response).toMatchObject({ offset: again.meta.chunk_size, resumed: true, rid });
    await seen(first.client, (f) => f[2] === first.inlet.topic && f[3] === 'phx_close');
    expect(await finishAndSave(again, content, again.meta.chunk_size)).toContain(`silent.bin|${sha(content)}|true|`);
  });

  it('a claim by key alone never takes over an attached session', async () => {
    const me: Browser = {};
    const first = await open(me, { name: 'tab.bin', size: 2 * 512 * 1024 });
    await joinUpload(first, FP_A);
    await new Promise((r) => setTimeout(r, 2100));
    const second = await open(me, { name: 'tab.bin', size: 2 * 512 * 1024 });
    expect((await joinUpload(second, FP_A)).response).toMatchObject({ offset: 0, resumed: false });
    expect(first.client.frames.some((f) => f[2] === first.inlet.topic && f[3] === 'phx_close')).toBe(false);
  });

  it('a claim for another fingerprint, size or config is refused', async () => {
    const me: Browser = {};
    const { content, rid } = await parked(me, 'exact.bin', 2 * 512 * 1024 + 17);
    const otherFp = await open(me, { name: 'exact.bin', size: content.length });
    expect((await joinUpload(otherFp, FP_B, rid)).response).toMatchObject({ offset: 0, resumed: false, claim: 'refused' });
    const otherSize = await open(me, { name: 'exact.bin', size: content.length + 1 });
    expect((await joinUpload(otherSize, FP_A, rid)).response).toMatchObject({ offset: 0, resumed: false, claim: 'refused' });
    const otherConfig = await open(me, { name: 'exact.bin', size: content.length }, '/b');
    expect((await joinUpload(otherConfig, FP_A, rid)).response).toMatchObject({ offset: 0, resumed: false, claim: 'refused' });
    const right = await open(me, { name: 'exact.bin', size: content.length });
    expect((await joinUpload(right, FP_A, rid)).response).toMatchObject({ resumed: true, rid });
  });

  it('after a resume, an offset beyond what was received is refused with the verified offset', async () => {
    const me: Browser = {};
    const { content, rid } = await parked(me, 'gap.bin', 3 * 512 * 1024);
    const o = await open(me, { name: 'gap.bin', size: content.length });
    expect((await joinUpload(o, FP_A, rid)).response).toMatchObject({ offset: o.meta.chunk_size, resumed: true });
    const c = o.meta.chunk_size;
    expect(await o.inlet.chunk(2 * c, content.subarray(2 * c, 3 * c))).toEqual({ status: 'error', response: { reason: 'offset_mismatch', offset: c } });
    expect(await o.inlet.chunk(0, content.subarray(0, c))).toEqual({ status: 'error', response: { reason: 'offset_mismatch', offset: c } });
    expect(await finishAndSave(o, content, c)).toContain(`gap.bin|${sha(content)}|true|`);
  });

  it('a config with resume: false keeps no session: the join names none', async () => {
    const o = await open({}, { name: 'plain.bin', size: 1000 }, '/plain');
    const joined = await joinUpload(o, FP_A);
    expect(joined.status).toBe('ok');
    expect(joined.response.rid).toBeUndefined();
  });
});

describe('limits', () => {
  it('caps sessions per browser session (the least recently active parked one makes room) and refuses when all are attached', async () => {
    const capped = createServer(options({ uploadResume: { maxPerBrowser: 2 } }));
    await capped.listen(0);
    try {
      const me: Browser = {};
      const size = 2 * 512 * 1024;
      const first = await open(me, { name: 'one.bin', size }, '/a', capped);
      const r1 = (await joinUpload(first, 'c'.repeat(64))).response.rid;
      first.client.close();
      await settle();
      const second = await open(me, { name: 'two.bin', size }, '/a', capped);
      const r2 = (await joinUpload(second, 'd'.repeat(64))).response.rid;
      const third = await open(me, { name: 'three.bin', size }, '/a', capped);
      const r3 = (await joinUpload(third, 'e'.repeat(64))).response.rid;
      expect(typeof r3).toBe('string'); // one.bin's parked session made room
      const fourth = await open(me, { name: 'four.bin', size }, '/a', capped);
      expect(await joinUpload(fourth, 'f'.repeat(64))).toEqual({ status: 'error', response: { reason: 'too_many_sessions' } });
      // Another browser session has its own cap.
      const other = await open({}, { name: 'x.bin', size }, '/a', capped);
      expect((await joinUpload(other, 'f'.repeat(64))).status).toBe('ok');
      second.client.close();
      third.client.close();
      await settle();
      const back = await open(me, { name: 'one.bin', size }, '/a', capped);
      expect((await joinUpload(back, 'c'.repeat(64), r1)).response).toMatchObject({ resumed: false, claim: 'refused' });
      expect(r2).not.toBe(r1);
    } finally {
      await capped.close();
    }
  });

  it('caps sessions in total', async () => {
    const capped = createServer(options({ uploadResume: { maxTotal: 1 } }));
    await capped.listen(0);
    try {
      const a = await open({}, { name: 'a.bin', size: 1000 }, '/a', capped);
      expect((await joinUpload(a, FP_A)).status).toBe('ok');
      const b = await open({}, { name: 'b.bin', size: 1000 }, '/a', capped);
      expect(await joinUpload(b, FP_B)).toEqual({ status: 'error', response: { reason: 'too_many_sessions' } });
    } finally {
      await capped.close();
    }
  });

  it('parked sessions expire after the TTL, and a restarted server sweeps expired ones at start', async () => {
    const dir = join(root, 'ttl');
    const opts = options({ uploadTmpDir: dir, uploadResume: { ttlMs: 60_000, sweepIntervalMs: 0 } });
    const a = createServer(opts);
    await a.listen(0);
    const me: Browser = {};
    const content = randomBytes(2 * 512 * 1024);
    const o = await open(me, { name: 'old.bin', size: content.length }, '/a', a);
    const { rid } = (await joinUpload(o, FP_A)).response;
    await sendRange(o, content, 0, o.meta.chunk_size);
    o.client.close();
    // A chunk is acknowledged while it is written: wait for the bytes (a late write would freshen the file's time).
    const part = join(dir, 'sessions', `${String(rid)}.part`);
    for (let end = Date.now() + 5000; (await stat(part)).size < o.meta.chunk_size && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    await settle();
    await a.close();
    const files = await readdir(join(dir, 'sessions'));
    expect(files.sort()).toEqual([`${String(rid)}.json`, `${String(rid)}.part`]);
    // Make the parked upload look two minutes old, then start again.
    const old = new Date(Date.now() - 120_000);
    for (const f of files) await utimes(join(dir, 'sessions', f), old, old);
    const b = createServer(opts);
    await b.listen(0);
    try {
      expect(await readdir(join(dir, 'sessions'))).toEqual([]);
      const again = await open(me, { name: 'old.bin', size: content.length }, '/a', b);
      expect((await joinUpload(again, FP_A, rid)).response).toMatchObject({ offset: 0, resumed: false, claim: 'refused' });
    } finally {
      await b.close();
    }
  });

  it('the sweep removes a session parked longer than the TTL, with its bytes', async () => {
    const dir = join(root, 'sweep');
    const s = createServer(options({ uploadTmpDir: dir, uploadResume: { ttlMs: 300, sweepIntervalMs: 100 } }));
    await s.listen(0);
    try {
      const o = await open({}, { name: 's.bin', size: 2 * 512 * 1024 }, '/a', s);
      await joinUpload(o, FP_A);
      await sendRange(o, randomBytes(2 * 512 * 1024), 0, 512 * 1024);
      o.client.close();
      await settle();
      expect((await readdir(join(dir, 'sessions'))).length).toBe(2);
      const end = Date.now() + 5000;
      while ((await readdir(join(dir, 'sessions'))).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(await readdir(join(dir, 'sessions'))).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
