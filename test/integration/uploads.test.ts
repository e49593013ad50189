/**
 * Uploads over real sockets, at protocol level: the happy path byte-exact,
 * and each bad input from the uploads issue. Nothing may be written outside
 * the store and temp folders, temp files must not outlive their views, and
 * the view must stay alive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createLiveView, html, live_file_input, uploadErrorMessages } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../packages/core/src/live/tokens.js';
import { exampleOptions } from '../../examples/app.js';
import { fetchPage, PhoenixClient } from '../support/phoenix-ws.js';
import { confRefOf, describeFile, UploadSession } from '../support/upload-client.js';

const SECRET = 'uploads-integration-secret-0123456789';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const Slow = createLiveView({
  mount: (s) => s.allowUpload('files', { accept: 'any', maxEntries: 3, maxFileSize: 1_000_000, chunkTimeout: 300 }),
  handleEvent: () => undefined,
  render: (_c, { uploads }) => html`<form phx-change="validate">${live_file_input(uploads.files!)}${uploads.files!.entries.map(
    (e) => html`<p class="entry">${e.clientName}: ${uploadErrorMessages(uploads.files!, e).join(' ')}</p>`,
  )}</form>`,
});

let root: string;
let store: string;
let tmp: string;
let server: InletServer;

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function tmpFiles(): Promise<string[]> {
  return (await walk(tmp).catch(() => [])).map((p) => relative(tmp, p));
}

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-upl-'));
  store = join(root, 'store');
  tmp = join(root, 'tmp');
  const options = exampleOptions({ storeRoot: store, uploadTmpDir: tmp, secret: SECRET, log: () => undefined });
  server = createServer({ ...options, routes: { ...options.routes, '/slow': Slow } });
  await server.listen(0);
});

afterAll(async () => {
  await server.close();
  const all = await walk(root);
  // Nothing anywhere but the store and the temp folder.
  expect(all.filter((p) => !p.startsWith(store + '/') && !p.startsWith(tmp + '/'))).toEqual([]);
  await rm(root, { recursive: true, force: true });
});

async function open(path = '/uploads/large') {
  const page = await fetchPage(server.url, path);
  const client = await PhoenixClient.connect(server.url, page);
  const j = await client.joinView(server.url, page, path);
  expect(j.reply.status).toBe('ok');
  const confRef = confRefOf(j.reply.response.rendered);
  return { page, client, session: new UploadSession(client, j.joinRef, j.topic), confRef, topic: j.topic };
}

async function preflighted(s: UploadSession, confRef: string, files: { name: string; size: number; type?: string }[]) {
  const entries = files.map((f) => describeFile(f));
  await s.change(confRef, entries);
  const pre = await s.preflight(confRef, entries);
  return { entries, pre: pre.response as { entries?: Record<string, string>; config?: { chunk_size: number }; error?: unknown } };
}

describe('upload happy path', () => {
  it('stores a multi-chunk file byte-exact and leaves no temp file after consume', async () => {
    const { client, session, confRef } = await open();
    const content = randomBytes(2.5 * 1024 * 1024);
    const { entries, pre } = await preflighted(session, confRef, [{ name: 'data.bin', size: content.length }]);
    const ref = entries[0]!.ref as string;
    expect(pre.config?.chunk_size).toBe(128 * 1024); // 'auto': about 25 chunks for 2.5 MiB
    expect(await session.send(confRef, ref, pre.entries![ref], content, pre.config!.chunk_size)).toBeUndefined();
    expect((await tmpFiles()).length).toBe(1);
    const saved = await session.submit();
    expect(JSON.stringify(saved.response.diff)).toContain(sha(content));
    expect(sha(await readFile(join(store, 'files', 'data.bin')))).toBe(sha(content));
    expect(await tmpFiles()).toEqual([]);
    client.close();
  });
});

describe('upload tokens', () => {
  it('refuses forged tokens and tokens signed with another secret', async () => {
    const { client, session, confRef } = await open();
    const { entries } = await preflighted(session, confRef, [{ name: 'a.bin', size: 10 }]);
    const ref = entries[0]!.ref as string;
    expect((await session.joinEntry(ref, 'forged.token')).reply.response).toEqual({ reason: 'invalid_token' });
    const foreign = new Signer('another-secret-another-secret-0000').sign('upload', { v: 'x', n: 'y', c: confRef, e: ref }, 60_000);
    expect((await session.joinEntry(ref, foreign)).reply.response).toEqual({ reason: 'invalid_token' });
    expect((await session.joinEntry(ref, 42)).reply.response).toEqual({ reason: 'invalid_token' });
    client.close();
  });

  it('refuses expired tokens', async () => {
    const { client, session, confRef } = await open();
    const { entries, pre } = await preflighted(session, confRef, [{ name: 'a.bin', size: 10 }]);
    const ref = entries[0]!.ref as string;
    const token = pre.entries![ref]!;
    const data = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).d;
    const expired = new Signer(SECRET).sign('upload', data, -1);
    expect((await session.joinEntry(ref, expired)).reply.response).toEqual({ reason: 'invalid_token' });
    // The same data, still valid, is accepted: the refusal was the expiry.
    expect((await session.joinEntry(ref, token)).reply.status).toBe('ok');
    client.close();
  });

  it('lets the server shorten the token lifetime (uploadTokenTtlMs)', async () => {
    const quick = createServer({ ...exampleOptions({ storeRoot: store, uploadTmpDir: tmp, log: () => undefined }), uploadTokenTtlMs: 50 });
    await quick.listen(0);
    try {
      const page = await fetchPage(quick.url, '/uploads/large');
      const client = await PhoenixClient.connect(quick.url, page);
      const j = await client.joinView(quick.url, page, '/uploads/large');
      const session = new UploadSession(client, j.joinRef, j.topic);
      const confRef = confRefOf(j.reply.response.rendered);
      const { entries, pre } = await preflighted(session, confRef, [{ name: 't.bin', size: 10 }]);
      await new Promise((r) => setTimeout(r, 120));
      const ref = entries[0]!.ref as string;
      expect((await session.joinEntry(ref, pre.entries![ref])).reply.response).toEqual({ reason: 'invalid_token' });
      client.close();
    } finally {
      await quick.close();
    }
  });

  it('refuses a replayed token, before and after consume', async () => {
    const { client, session, confRef } = await open();
    const content = randomBytes(1000);
    const { entries, pre } = await preflighted(session, confRef, [{ name: 'r.bin', size: content.length }]);
    const ref = entries[0]!.ref as string;
    const token = pre.entries![ref]!;
    expect(await session.send(confRef, ref, token, content, 64_000)).toBeUndefined();
    expect((await session.joinEntry(ref, token)).reply.response).toEqual({ reason: 'already_registered' });
    await session.submit();
    expect((await session.joinEntry(ref, token)).reply.response).toEqual({ reason: 'disallowed' });
    client.close();
  });

  it('refuses a token taken from another view, and from an earlier mount of the same view', async () => {
    const a = await open();
    const b = await open();
    const { entries, pre } = await preflighted(a.session, a.confRef, [{ name: 'x.bin', size: 10 }]);
    const ref = entries[0]!.ref as string;
    const token = pre.entries![ref]!;
    expect((await b.session.joinEntry(ref, token)).reply.response).toEqual({ reason: 'invalid_token' });
    // Rejoin A (a remount): the old token belongs to the previous instance.
    const again = await a.client.joinView(server.url, a.page, '/uploads/large');
    const s2 = new UploadSession(a.client, again.joinRef, again.topic);
    expect((await s2.joinEntry(ref, token)).reply.response).toEqual({ reason: 'invalid_token' });
    a.client.close();
    b.client.close();
  });
});

describe('upload bad input', () => {
  it('refuses chunks beyond the declared size, shows the error, and removes the temp file', async () => {
    const { client, session, confRef } = await open();
    const { entries, pre } = await preflighted(session, confRef, [{ name: 'liar.bin', size: 10 }]);
    const ref = entries[0]!.ref as string;
    const { joinRef } = await session.joinEntry(ref, pre.entries![ref]);
    expect((await session.chunk(ref, joinRef, Buffer.alloc(6))).status).toBe('ok');
    expect((await session.chunk(ref, joinRef, Buffer.alloc(6))).response).toEqual({ reason: 'file_size_limit_exceeded', limit: 10 });
    await eventually(async () => (await tmpFiles()).length === 0);
    const r = await session.change(confRef, []);
    expect(JSON.stringify(r.response)).not.toContain('Internal');
    const page = await session.client.request(session.joinRef, session.topic, 'event', { type: 'click', event: 'noop', value: {} });
    expect(page.status).toBe('ok');
    client.close();
  });

  it('answers a chunk on a channel that never joined with "unmatched topic"', async () => {
    const { client, session } = await open();
    expect(await session.chunk('77', '999', Buffer.from('hello'))).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
    client.close();
  }, 10_000);

  it('stores hostile file names inside the destination only', async () => {
    const { client, session, confRef } = await open();
    const names = ['../../escape.txt', 'nul\u0000byte.txt', `${'a'.repeat(300)}.txt`, 'evil\u202Etxt.exe', 'CON.txt', '..', '/etc/passwd'];
    const files = names.map((name) => ({ name, content: randomBytes(100 + name.length) }));
    for (const batch of [files.slice(0, 4), files.slice(4)]) {
      const { entries, pre } = await preflighted(
        session,
        confRef,
        batch.map((f) => ({ name: f.name, size: f.content.length })),
      );
      for (let i = 0; i < batch.length; i++) {
        const ref = entries[i]!.ref as string;
        expect(await session.send(confRef, ref, pre.entries![ref], batch[i]!.content, 64_000)).toBeUndefined();
      }
      await session.submit();
    }
    const stored = await readdir(join(store, 'files'));
    for (const name of stored) {
      expect(name).not.toMatch(/[/\\\0\u202e]/);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    }
    expect(stored).toContain('escape.txt');
    expect(stored).toContain('passwd');
    expect(stored).toContain('_CON.txt');
    const hashes = new Set(await Promise.all(stored.map(async (n) => sha(await readFile(join(store, 'files', n))))));
    for (const f of files) expect(hashes.has(sha(f.content))).toBe(true);
    client.close();
  });

  it.each([
    ['zero', 0],
    ['negative', -5],
    ['fractional', 1.5],
    ['a string', '12'],
  ])('refuses a declared size that is %s', async (_label, size) => {
    const { client, session, confRef } = await open();
    const entry: Record<string, unknown> = { ...describeFile({ name: 'x.bin', size: 1 }), size };
    const change = await session.change(confRef, [entry]);
    expect(JSON.stringify(change.response.diff)).toContain('The file is empty or its size is not valid.');
    const pre = await session.preflight(confRef, [entry]);
    expect(pre.response.error).toEqual([[entry.ref, 'invalid_size']]);
    expect(pre.response.entries).toBeUndefined();
    client.close();
  });

  it('bounds a change event with 10,000 entries and stays responsive', async () => {
    const { client, session, confRef } = await open();
    const entries = Array.from({ length: 10_000 }, (_, i) => describeFile({ name: `f${i}.bin`, size: 10 }));
    const started = Date.now();
    const r = await session.change(confRef, entries);
    expect(r.status).toBe('ok');
    const diff = JSON.stringify(r.response.diff);
    expect(diff).toContain('Too many files: choose at most 5.');
    expect(new Set(diff.match(/f\d+\.bin/g)).size).toBe(5 + 50);
    expect(Date.now() - started).toBeLessThan(5000);
    const pre = await session.preflight(confRef, entries.slice(0, 3));
    expect(pre.response.error).toEqual([[confRef, 'too_many_files']]);
    client.close();
  });

  it('closes a stalled upload after the chunk timeout, shows the error, removes the temp file', async () => {
    const { client, session, confRef } = await open('/slow');
    const { entries, pre } = await preflighted(session, confRef, [{ name: 'half.bin', size: 1000 }]);
    const ref = entries[0]!.ref as string;
    const { joinRef } = await session.joinEntry(ref, pre.entries![ref]);
    const closed = client.waitFor((f) => f[2] === `lvu:${ref}` && f[3] === 'phx_close', 3000);
    const diff = client.waitFor((f) => f[3] === 'diff' && JSON.stringify(f[4]).includes('stalled'), 3000);
    expect((await session.chunk(ref, joinRef, Buffer.alloc(500))).status).toBe('ok');
    await closed;
    await diff;
    await eventually(async () => (await tmpFiles()).length === 0);
    client.close();
  });

  it('removes temp files when the socket drops mid-upload, and when an entry is cancelled', async () => {
    const a = await open();
    const { entries, pre } = await preflighted(a.session, a.confRef, [{ name: 'drop.bin', size: 100_000 }, { name: 'cancel.bin', size: 100_000 }]);
    const [e0, e1] = entries.map((e) => e.ref as string) as [string, string];
    const j0 = await a.session.joinEntry(e0, pre.entries![e0]);
    const j1 = await a.session.joinEntry(e1, pre.entries![e1]);
    await a.session.chunk(e0, j0.joinRef, Buffer.alloc(1000));
    await a.session.chunk(e1, j1.joinRef, Buffer.alloc(1000));
    expect((await tmpFiles()).length).toBe(2);
    const closed = a.client.waitFor((f) => f[2] === `lvu:${e1}` && f[3] === 'phx_close');
    await a.client.request(a.session.joinRef, a.session.topic, 'event', { type: 'click', event: 'cancel', value: { ref: e1 } });
    await closed;
    expect((await tmpFiles()).length).toBe(1);
    a.client.ws.terminate();
    await eventually(async () => (await tmpFiles()).length === 0);
  });

  /** A server allowing 2 upload channels per view; the view at /uploads/large with 3 preflighted entries. */
  async function threeEntries(extra: Record<string, unknown>) {
    const limited = createServer({ ...exampleOptions({ storeRoot: store, uploadTmpDir: tmp, log: () => undefined }), maxUploadChannels: 2, ...extra });
    await limited.listen(0);
    const page = await fetchPage(limited.url, '/uploads/large');
    const client = await PhoenixClient.connect(limited.url, page);
    const j = await client.joinView(limited.url, page, '/uploads/large');
    const session = new UploadSession(client, j.joinRef, j.topic);
    const { entries, pre } = await preflighted(session, confRefOf(j.reply.response.rendered), [1, 2, 3].map((n) => ({ name: `${n}.bin`, size: 10 })));
    const join = (i: number) => session.joinEntry(entries[i]!.ref as string, pre.entries![entries[i]!.ref as string]);
    const cancel = (i: number) => client.request(j.joinRef, j.topic, 'event', { type: 'click', event: 'cancel', value: { ref: entries[i]!.ref } });
    return { limited, client, join, cancel };
  }

  it('limits upload channels per view: by default the join past the limit is refused', async () => {
    const { limited, client, join } = await threeEntries({});
    try {
      const reasons = [];
      for (const i of [0, 1, 2]) reasons.push((await join(i)).reply.response.reason);
      expect(reasons).toEqual([undefined, undefined, 'too_many_channels']);
      client.close();
    } finally {
      await limited.close();
    }
  });

  it('with maxWaitingJoins, the upload join past the limit waits for a free channel', async () => {
    const { limited, client, join, cancel } = await threeEntries({ maxWaitingJoins: 10 });
    try {
      const reasons = [];
      for (const i of [0, 1]) reasons.push((await join(i)).reply.response.reason);
      expect(reasons).toEqual([undefined, undefined]);
      // The third join waits for a free channel (the official client joins every file of a batch at once) ...
      let third: string | undefined = 'pending';
      const joined = join(2).then((r) => (third = r.reply.response.reason as string | undefined));
      await new Promise((r) => setTimeout(r, 300));
      expect(third).toBe('pending');
      // ... and gets one when a file is cancelled.
      await cancel(0);
      await joined;
      expect(third).toBeUndefined();
      client.close();
    } finally {
      await limited.close();
    }
  });
});
