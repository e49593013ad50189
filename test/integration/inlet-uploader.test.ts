/**
 * The Inlet uploader's protocol over real sockets: the server names it only
 * for pages that connected with it; chunks are pipelined, each checked
 * (offset, CRC-32) before it is written; the whole file's SHA-256 is compared
 * at the end; the first bytes are sniffed against `accept`. Every stored file
 * is checked by sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkedUpload, createLiveView, html, live_file_input, uploadErrorMessages, type LiveView, type UploadConfigOptions } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPage, PhoenixClient } from '../support/phoenix-ws.js';
import { confRefOf, describeFile, InletSession, UploadSession } from '../support/upload-client.js';

const SECRET = 'inlet-uploader-integration-secret-0123';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** PNG signature, an IHDR chunk and the start of an IDAT chunk: what file-type reads. */
const PNG_HEAD = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000ffff49444154', 'hex');

let root: string;
let store: string;
let tmp: string;
let server: InletServer;

function uploadView(accept: readonly string[] | 'any', chunked = false, extra: UploadConfigOptions = {}): LiveView<never, never> {
  return createLiveView({
    mount: (s) => {
      s.allowUpload('files', { accept, maxEntries: 4, maxFileSize: 64 * 1024 * 1024, ...(chunked ? { external: chunkedUpload({ chunkSizeKiB: 256 }) } : {}), ...extra });
      s.assign({ saved: [] as string[] });
    },
    handleEvent: async (event, s) => {
      if (event.type !== 'save') return;
      const saved = await s.consumeUploadedEntries('files', async (meta, entry) => {
        const dest = await meta.fileSystem.moveInto(store, entry.clientName, meta.path);
        return `${entry.clientName}|${String(meta.sha256)}|${String(meta.sha256Verified)}|${dest}`;
      });
      s.assign({ saved });
    },
    render: (a, { uploads }) =>
      html`<form phx-change="validate" phx-submit="save">${live_file_input(uploads.files!)}</form>${uploads.files!.entries.map(
        (e) => html`<p class="entry">${e.clientName}: ${e.progress} ${uploadErrorMessages(uploads.files!, e).join(' ')}</p>`,
      )}${(a.saved as string[]).map((x) => html`<p class="saved">${x}</p>`)}`,
  }) as unknown as LiveView<never, never>;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-iu-'));
  store = join(root, 'store');
  tmp = join(root, 'tmp');
  server = createServer({
    secret: SECRET,
    uploadTmpDir: tmp,
    log: () => undefined,
    routes: { '/any': uploadView('any'), '/png': uploadView(['.png']), '/jpg': uploadView(['.jpg', '.jpeg']), '/chunked-png': uploadView(['.png'], true),
      '/png-nosniff': uploadView(['.png'], false, { sniff: false }),
      '/channel': uploadView('any', false, { uploader: 'channel' }),
      '/small-window': uploadView('any', false, { window: 1024 * 1024 }),
    },
  });
  await server.listen(0);
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

/** Files in the upload folder outside the resumable sessions' folder (tests that stop mid-upload leave parked sessions there). */
async function tmpFileCount(): Promise<number> {
  const walk = async (dir: string): Promise<number> => {
    let n = 0;
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (dir === tmp && e.name === 'sessions') continue;
      n += e.isDirectory() ? await walk(join(dir, e.name)) : 1;
    }
    return n;
  };
  return walk(tmp);
}

/** The files a resumable session keeps (`<rid>.part`, `<rid>.json`) with their sizes. */
async function sessionFiles(rid: unknown): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = join(tmp, 'sessions');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (typeof rid === 'string' && name.startsWith(rid)) out[name.slice(rid.length)] = (await stat(join(dir, name))).size;
  }
  return out;
}

/** Opens a page, connects (with the Inlet connect param unless `plain`), joins, registers and preflights `files`. */
async function preflight(path: string, files: { name: string; size: number; type?: string }[], plain = false) {
  const page = await fetchPage(server.url, path);
  const client = await PhoenixClient.connect(server.url, page, plain ? '' : '&_inlet_uploader=1');
  const j = await client.joinView(server.url, page, path);
  const confRef = confRefOf(j.reply.response.rendered);
  const session = new UploadSession(client, j.joinRef, j.topic);
  const entries = files.map((f) => describeFile(f));
  await session.change(confRef, entries);
  const pre = (await session.preflight(confRef, entries)).response as { entries: Record<string, unknown>; config: { chunk_size: number } };
  return { client, session, confRef, entries, pre, refs: entries.map((e) => e.ref as string) };
}

/** Waits until a frame the server sent (reply or push) contains `text`. */
async function seen(client: PhoenixClient, text: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!client.frames.some((f) => JSON.stringify(f).includes(text))) {
    if (Date.now() > end) throw new Error(`never saw ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const metaOf = (pre: { entries: Record<string, unknown> }, ref: string) =>
  pre.entries[ref] as { uploader: string; token: string; chunk_size: number; window: number };

describe('which uploader the server names', () => {
  it('names the Inlet uploader only when the socket sent the connect param', async () => {
    const inlet = await preflight('/any', [{ name: 'a.bin', size: 1000 }]);
    const meta = metaOf(inlet.pre, inlet.refs[0]!);
    expect(meta).toMatchObject({ uploader: 'Inlet', v: 1, chunk_size: 512 * 1024, window: 4 * 1024 * 1024 });
    expect(typeof meta.token).toBe('string');
    inlet.client.close();
    const plain = await preflight('/any', [{ name: 'a.bin', size: 1000 }], true);
    expect(typeof plain.pre.entries[plain.refs[0]!]).toBe('string');
    plain.client.close();
  });

  it("names the official uploader for a config with uploader: 'channel', and takes a config's window", async () => {
    const opted = await preflight('/channel', [{ name: 'a.bin', size: 1000 }]);
    expect(typeof opted.pre.entries[opted.refs[0]!]).toBe('string');
    opted.client.close();
    const small = await preflight('/small-window', [{ name: 'a.bin', size: 1000 }]);
    expect(metaOf(small.pre, small.refs[0]!).window).toBe(1024 * 1024);
    small.client.close();
  });
});

describe('pipelined, verified upload', () => {
  it('keeps several chunks in flight, stores the file byte-exact and marks its digest verified', async () => {
    const { client, session, pre, refs, confRef } = await preflight('/any', [{ name: 'big.bin', size: 5 * 1024 * 1024 + 123 }]);
    const content = randomBytes(5 * 1024 * 1024 + 123);
    const meta = metaOf(pre, refs[0]!);
    const inlet = new InletSession(client, refs[0]!);
    const joined = await inlet.join(meta.token);
    expect(joined).toMatchObject({ status: 'ok', response: { offset: 0, chunk_size: meta.chunk_size, window: meta.window } });
    const { replies, finish, maxInFlight } = await inlet.sendAll(content, meta.chunk_size, meta.window);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(replies.every((r) => r.status === 'ok')).toBe(true);
    expect(replies.at(-1)!.response.offset).toBe(content.length);
    expect(finish).toEqual({ status: 'ok', response: { sha256: sha(content) } });
    await session.progress(confRef, refs[0]!, 100);
    const saved = JSON.stringify((await session.submit()).response.diff);
    expect(saved).toContain(`big.bin|${sha(content)}|true|`);
    expect(sha(await readFile(join(store, 'big.bin')))).toBe(sha(content));
    expect(await tmpFileCount()).toBe(0);
    client.close();
  });

  it('several entries upload at once', async () => {
    const sizes = [700_000, 1_300_000, 2_100_000];
    const { client, session, pre, refs, confRef } = await preflight('/any', sizes.map((size, i) => ({ name: `m${i}.bin`, size })));
    const contents = sizes.map((n) => randomBytes(n));
    const results = await Promise.all(
      refs.map(async (ref, i) => {
        const meta = metaOf(pre, ref);
        const s = new InletSession(client, ref);
        await s.join(meta.token);
        return s.sendAll(contents[i]!, meta.chunk_size, meta.window);
      }),
    );
    expect(results.map((r) => r.finish.status)).toEqual(['ok', 'ok', 'ok']);
    for (const ref of refs) await session.progress(confRef, ref, 100);
    await session.submit();
    for (let i = 0; i < sizes.length; i++) expect(sha(await readFile(join(store, `m${i}.bin`)))).toBe(sha(contents[i]!));
    client.close();
  });
});

describe('bad input at protocol level', () => {
  async function started(size: number, path = '/any', name = 'x.bin') {
    const p = await preflight(path, [{ name, size }]);
    const meta = metaOf(p.pre, p.refs[0]!);
    const inlet = new InletSession(p.client, p.refs[0]!);
    const joined = await inlet.join(meta.token);
    expect(joined.status).toBe('ok');
    return { ...p, meta, inlet, rid: joined.response.rid };
  }

  it('refuses a chunk with a wrong checksum, writes nothing of it, and takes it again', async () => {
    const content = randomBytes(1_500_000);
    const { client, session, inlet, meta, refs, confRef, rid } = await started(content.length);
    const first = content.subarray(0, meta.chunk_size);
    expect(await inlet.chunk(0, first, 12345)).toEqual({ status: 'error', response: { reason: 'chunk_checksum', offset: 0 } });
    expect((await sessionFiles(rid))['.part']).toBe(0); // nothing written
    const { finish } = await inlet.sendAll(content, meta.chunk_size, meta.window);
    expect(finish.status).toBe('ok');
    await session.progress(confRef, refs[0]!, 100);
    await session.submit();
    expect(sha(await readFile(join(store, 'x.bin')))).toBe(sha(content));
    client.close();
  });

  it('refuses an offset beyond what was received, and a repeated one', async () => {
    const content = randomBytes(1_200_000);
    const { client, inlet, meta } = await started(content.length, '/any', 'gap.bin');
    const c = meta.chunk_size;
    expect(await inlet.chunk(c, content.subarray(c, 2 * c))).toEqual({ status: 'error', response: { reason: 'offset_mismatch', offset: 0 } });
    expect((await inlet.chunk(0, content.subarray(0, c))).response).toEqual({ offset: c });
    expect(await inlet.chunk(0, content.subarray(0, c))).toEqual({ status: 'error', response: { reason: 'offset_mismatch', offset: c } });
    client.close();
  });

  it('fails the entry when the window overruns the declared size', async () => {
    const content = randomBytes(600_000);
    const { client, inlet, meta } = await started(content.length, '/any', 'over.bin');
    expect((await inlet.chunk(0, content.subarray(0, meta.chunk_size))).status).toBe('ok');
    const beyond = randomBytes(meta.chunk_size);
    expect(await inlet.chunk(meta.chunk_size, beyond)).toEqual({ status: 'error', response: { reason: 'file_size_limit_exceeded', limit: content.length } });
    client.close();
  });

  it('a finish before the last byte is answered with the offset to continue from', async () => {
    const content = randomBytes(800_000);
    const { client, inlet, meta } = await started(content.length, '/any', 'early.bin');
    await inlet.chunk(0, content.subarray(0, meta.chunk_size));
    expect(await inlet.finish(sha(content))).toEqual({ status: 'error', response: { reason: 'incomplete', offset: meta.chunk_size } });
    client.close();
  });

  it('a wrong whole-file digest is checksum_mismatch: the entry errs, is never consumed, and its temp file goes', async () => {
    const content = randomBytes(900_000);
    const { client, session, inlet, meta, refs, confRef, rid } = await started(content.length, '/any', 'bad.bin');
    for (let o = 0; o < content.length; o += meta.chunk_size) expect((await inlet.chunk(o, content.subarray(o, o + meta.chunk_size))).status).toBe('ok');
    expect(await inlet.finish('0'.repeat(64))).toEqual({ status: 'error', response: { reason: 'checksum_mismatch' } });
    await seen(client, 'arrived damaged');
    await session.progress(confRef, refs[0]!, 100);
    const saved = JSON.stringify((await session.submit()).response);
    expect(saved).not.toContain('bad.bin|');
    expect(await sessionFiles(rid)).toEqual({});
    client.close();
  });
});

describe('sniffing on the first chunk', () => {
  it('refuses a .png that is really a Windows program, before writing anything', async () => {
    const exe = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), randomBytes(200_000)]);
    const p = await preflight('/png', [{ name: 'photo.png', size: exe.length, type: 'image/png' }]);
    const meta = metaOf(p.pre, p.refs[0]!);
    const inlet = new InletSession(p.client, p.refs[0]!);
    const { rid } = (await inlet.join(meta.token)).response;
    expect(await inlet.chunk(0, exe.subarray(0, meta.chunk_size))).toEqual({ status: 'error', response: { reason: 'not_accepted' } });
    expect(await sessionFiles(rid)).toEqual({});
    expect(await tmpFileCount()).toBe(0);
    await seen(p.client, 'looks like a Windows program (.exe)');
    p.client.close();
  });

  it('refuses a .jpg that is really a PNG when only jpg is accepted, also from the official uploader', async () => {
    const png = Buffer.concat([PNG_HEAD, randomBytes(100_000)]);
    const p = await preflight('/jpg', [{ name: 'pic.jpg', size: png.length, type: 'image/jpeg' }], true);
    const token = p.pre.entries[p.refs[0]!];
    expect(await p.session.send(p.confRef, p.refs[0]!, token, png, p.pre.config.chunk_size)).toBe('not_accepted');
    expect(await tmpFileCount()).toBe(0);
    p.client.close();
  });

  it('is off with sniff: false', async () => {
    const exe = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), randomBytes(20_000)]);
    const p = await preflight('/png-nosniff', [{ name: 'photo.png', size: exe.length, type: 'image/png' }]);
    const meta = metaOf(p.pre, p.refs[0]!);
    const inlet = new InletSession(p.client, p.refs[0]!);
    await inlet.join(meta.token);
    expect((await inlet.sendAll(exe, meta.chunk_size, meta.window)).finish.status).toBe('ok');
    p.client.close();
  });

  it('lets a real PNG through and skips types without magic bytes', async () => {
    const png = Buffer.concat([PNG_HEAD, randomBytes(50_000)]);
    const p = await preflight('/png', [{ name: 'ok.png', size: png.length, type: 'image/png' }]);
    const meta = metaOf(p.pre, p.refs[0]!);
    const inlet = new InletSession(p.client, p.refs[0]!);
    await inlet.join(meta.token);
    expect((await inlet.sendAll(png, meta.chunk_size, meta.window)).finish.status).toBe('ok');
    p.client.close();
  });

  it('refuses it in the chunked HTTP receiver too: 415 on the first write, the entry says why', async () => {
    const exe = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), randomBytes(100_000)]);
    const p = await preflight('/chunked-png', [{ name: 'scan.png', size: exe.length, type: 'image/png' }]);
    const meta = p.pre.entries[p.refs[0]!] as { uploader: string; endpoint: string };
    expect(meta.uploader).toBe('UpChunk');
    const url = meta.endpoint.startsWith('http') ? meta.endpoint : server.url + meta.endpoint;
    const res = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes 0-${exe.length - 1}/${exe.length}` }, body: exe });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: 'not_accepted', message: expect.stringContaining('looks like a Windows program') });
    await seen(p.client, 'scan.png&quot; looks like a Windows program (.exe)');
    p.client.close();
  });
});
