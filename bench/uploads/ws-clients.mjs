// Concurrent uploads from protocol-level clients: each client is a `ws`
// socket speaking Phoenix V2 frames to the bench page exactly as the official
// client does for a non-auto upload (protocol.md §5.14 A):
//   GET /upload (cookie, csrf, session, static) → connect /live/websocket →
//   phx_join lv:<id> → form event with `uploads` → allow_upload → phx_join
//   lvu:<entry ref> {token} → binary "chunk" pushes, one in flight, each after
//   the previous ok → `progress` pushes whenever the floored percentage grows
//   (not awaited, like the client; the 100 push is awaited) → submit event.
//
// Run as a child process by run.mjs:
//   node ws-clients.mjs '<json: {url, files:[{path,name,size}]}>'
// It connects and joins every client, prints "JOINED", waits for "GO" on stdin
// (so the driver can take its memory baseline), uploads all files at once, and
// prints "RESULT <json>".
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const CONF_REF = /^phx-[A-Za-z0-9]{8,}$/;

/** Finds the upload config ref among the dynamic strings of a rendered tree. */
function findConfRef(node) {
  if (typeof node === 'string') return CONF_REF.test(node) ? node : undefined;
  if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 's' || k === 'p') continue;
      const found = findConfRef(v);
      if (found) return found;
    }
  }
  return undefined;
}

function attr(html, re, what) {
  const m = re.exec(html);
  if (!m) throw new Error(`page has no ${what}`);
  return m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Encodes a client→server binary push: kind 0, four lengths, the strings, then the payload space. */
function binaryPush(joinRef, ref, topic, event, payloadBytes) {
  const strs = [joinRef, ref, topic, event].map((s) => Buffer.from(s, 'utf8'));
  const headerLen = 5 + strs.reduce((n, s) => n + s.length, 0);
  const frame = Buffer.allocUnsafe(headerLen + payloadBytes);
  frame[0] = 0;
  let at = 5;
  strs.forEach((s, i) => {
    frame[1 + i] = s.length;
    s.copy(frame, at);
    at += s.length;
  });
  return { frame, headerLen };
}

class Client {
  #ref = 0;
  #pending = new Map();

  constructor(base, file) {
    this.base = base;
    this.file = file;
  }

  nextRef() {
    this.#ref += 1;
    return String(this.#ref);
  }

  /** GETs the page, opens the socket and joins the view; finds the upload config ref. */
  async join() {
    const res = await fetch(`${this.base}/upload`);
    const html = await res.text();
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
    this.csrf = attr(html, /<meta name="csrf-token" content="([^"]*)"/, 'csrf meta');
    const main = attr(html, /(<div[^>]*data-phx-main[^>]*>)/, 'main live container');
    this.id = attr(main, /\bid="([^"]+)"/, 'container id');
    const session = attr(main, /data-phx-session="([^"]*)"/, 'session');
    const stat = attr(main, /data-phx-static="([^"]*)"/, 'static');
    const wsUrl = `${this.base.replace(/^http/, 'ws')}/live/websocket?_csrf_token=${encodeURIComponent(this.csrf)}&vsn=2.0.0`;
    this.ws = new WebSocket(wsUrl, { headers: { cookie } });
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const [, ref, , event, payload] = JSON.parse(data.toString());
      if (event !== 'phx_reply') return;
      const p = this.#pending.get(ref);
      if (p) {
        this.#pending.delete(ref);
        p(payload);
      }
    });
    this.ws.on('close', () => {
      for (const p of this.#pending.values()) p({ status: 'closed', response: {} });
      this.#pending.clear();
    });
    await new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.topic = `lv:${this.id}`;
    this.joinRef = this.nextRef();
    const reply = await this.#send(this.joinRef, this.joinRef, this.topic, 'phx_join', {
      url: `${this.base}/upload`,
      params: { _csrf_token: this.csrf, _mounts: 0, _mount_attempts: 0 },
      session,
      static: stat,
      sticky: false,
    });
    if (reply.status !== 'ok') throw new Error(`join: ${JSON.stringify(reply.response)}`);
    this.confRef = findConfRef(reply.response.rendered);
    if (!this.confRef) throw new Error('no upload config ref in the join reply');
  }

  #send(joinRef, ref, topic, event, payload) {
    return new Promise((resolve) => {
      this.#pending.set(ref, resolve);
      this.ws.send(JSON.stringify([joinRef, ref, topic, event, payload]));
    });
  }

  push(event, payload) {
    return this.#send(this.joinRef, this.nextRef(), this.topic, event, payload);
  }

  /** One upload; resolves with timings. Throws on any error reply. */
  async upload() {
    const f = this.file;
    const entryRef = '0';
    const entry = { path: 'files', ref: entryRef, name: f.name, relative_path: '', type: 'application/octet-stream', size: f.size, last_modified: Date.now() };
    const must = (what, r) => {
      if (r.status !== 'ok') throw new Error(`${what}: ${r.status} ${JSON.stringify(r.response)}`);
      return r.response;
    };
    const t0 = performance.now();
    must('validate', await this.push('event', { type: 'form', event: 'validate', value: '', meta: { _target: 'files' }, uploads: { [this.confRef]: [entry] } }));
    const pre = must('allow_upload', await this.push('allow_upload', { ref: this.confRef, entries: [entry] }));
    const token = pre.entries?.[entryRef];
    const chunkSize = pre.config?.chunk_size;
    if (typeof token !== 'string' || !chunkSize) throw new Error(`preflight gave no token: ${JSON.stringify(pre)}`);
    const upTopic = `lvu:${entryRef}`;
    const upJoinRef = this.nextRef();
    must('lvu join', await this.#send(upJoinRef, upJoinRef, upTopic, 'phx_join', { token }));

    const fh = await open(f.path, 'r');
    let offset = 0;
    let lastSent = -1;
    let firstAckMs;
    let progressFailures = 0;
    let final;
    try {
      while (offset < f.size) {
        const n = Math.min(chunkSize, f.size - offset);
        const ref = this.nextRef();
        const { frame, headerLen } = binaryPush(upJoinRef, ref, upTopic, 'chunk', n);
        const { bytesRead } = await fh.read(frame, headerLen, n, offset);
        if (bytesRead !== n) throw new Error(`short read at ${offset}`);
        const reply = new Promise((resolve) => this.#pending.set(ref, resolve));
        this.ws.send(frame, { binary: true });
        must('chunk', await reply);
        offset += n;
        firstAckMs ??= performance.now() - t0;
        const pct = Math.floor((offset / f.size) * 100);
        if (pct > lastSent) {
          lastSent = pct;
          const p = this.push('progress', { event: null, ref: this.confRef, entry_ref: entryRef, progress: Math.min(pct, 100) });
          if (pct >= 100) final = p;
          else p.then((r) => r.status !== 'ok' && progressFailures++);
        }
      }
    } finally {
      await fh.close();
    }
    must('progress 100', await final);
    const tDone = performance.now();
    const saved = must('save', await this.push('event', { type: 'form', event: 'save', value: '', meta: {} }));
    const t1 = performance.now();
    if (!JSON.stringify(saved).includes(f.name)) throw new Error('save reply does not list the file');
    if (progressFailures) throw new Error(`${progressFailures} progress pushes failed`);
    return { name: f.name, totalMs: t1 - t0, firstAckMs, uploadMs: tDone - t0, chunkSize };
  }

  close() {
    this.ws?.close();
  }
}

async function main() {
  const { url, files } = JSON.parse(process.argv[2]);
  const clients = files.map((f) => new Client(url, f));
  await Promise.all(clients.map((c) => c.join()));
  console.log('JOINED');
  await new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (l) => {
      if (l.trim() === 'GO') {
        rl.close();
        resolve();
      }
    });
  });
  const t0 = performance.now();
  const results = await Promise.all(
    clients.map((c) =>
      c.upload().then(
        (r) => ({ ...r, doneAt: performance.now() - t0 }),
        (e) => ({ name: c.file.name, error: String(e?.message ?? e) }),
      ),
    ),
  );
  const wallMs = performance.now() - t0;
  for (const c of clients) c.close();
  process.stdout.write(`RESULT ${JSON.stringify({ wallMs, results })}\n`, () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stdout.write(`RESULT ${JSON.stringify({ fatal: String(e?.stack ?? e) })}\n`, () => process.exit(1));
  });
}

/**
 * Driver side (used by run.mjs): runs the clients in a child process against
 * `server`, samples the server's RSS from the moment every client has joined
 * until the last save reply, then verifies every stored file.
 */
export async function concurrentUploads(server, files, { sampleRss, verifyStored, timeoutMs = 900000 }) {
  const { spawn } = await import('node:child_process');
  const arg = JSON.stringify({ url: server.url, files: files.map(({ path, name, size }) => ({ path, name, size })) });
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), arg], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let sampler;
  let mem;
  let heap;
  const out = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`concurrent uploads: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    lines.on('line', (line) => {
      if (line === 'JOINED') {
        heap = server.memStart();
        sampler = sampleRss(server.pid);
        child.stdin.end('GO\n');
      } else if (line.startsWith('RESULT ')) {
        mem = sampler?.stop();
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(7)));
      }
    });
    child.once('exit', (c) => {
      clearTimeout(timer);
      if (!mem) reject(new Error(`ws clients exited ${c}`));
    });
  });
  const heapPeak = await heap?.stop().catch(() => undefined);
  if (out.fatal) throw new Error(out.fatal);
  const byName = new Map(server.saved.map((s) => [s.name, s]));
  let shaOk = 0;
  for (const f of files) {
    const s = byName.get(f.name);
    const v = s ? await verifyStored(f, [s]) : { shaOk: false };
    if (v.shaOk) shaOk++;
  }
  return { ...out, mem, heap: heapPeak, shaOk, files: files.length };
}
