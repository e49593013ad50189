/**
 * Shared helpers of the abuse, fault and soak suites: a protocol-level view
 * client that keeps the page's HTML up to date from diffs (so tests read what
 * a user would see), file-tree walks, polling, raw partial WebSocket frames,
 * and the compact tables the suites print.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { mergeDiff, resolveTemplates, toHtml } from 'inletjs/testing';
import { encodeBinaryPush } from '../../packages/core/src/protocol/frames.js';
import { fetchPage, PhoenixClient, type Frame, type PageInfo } from '../support/phoenix-ws.js';
import { confRefOf, UploadSession } from '../support/upload-client.js';

export const LONG = process.env.INLET_LONG === '1';

export const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const rss = (): number => process.memoryUsage().rss;

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every file under `dir` (recursively); a missing folder is empty. Tolerates files vanishing mid-walk. */
export async function walk(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** Files under `root` that are not inside one of `allowed` (folders). */
export async function filesOutside(root: string, allowed: readonly string[]): Promise<string[]> {
  return (await walk(root)).filter((p) => !allowed.some((a) => p.startsWith(a.endsWith('/') ? a : `${a}/`)));
}

/** Polls `check` until it holds; throws with `what` after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not met within ${ms} ms`);
    await sleep(25);
  }
}

export async function sha256File(path: string): Promise<string> {
  return sha(await readFile(path));
}

/** Two aligned columns, as the fuzz suite prints them. */
export function table(title: string, rows: readonly (readonly [string, string | number])[]): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return [`── ${title} ${'─'.repeat(Math.max(0, 64 - title.length))}`, ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)].join('\n');
}

/** `a=1 b=2`, largest first. */
export function inline(map: Map<string, number> | Record<string, number>): string {
  const entries = map instanceof Map ? [...map] : Object.entries(map);
  return entries.length === 0 ? '-' : entries.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join('  ');
}

export function count(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

type Tree = Record<string, unknown>;
export type Reply = { status: string; response: Record<string, unknown> };

/**
 * One browser tab at protocol level: the page fetched over HTTP, its socket,
 * its joined view, and the HTML the client would show, kept current from the
 * join reply, reply diffs and pushed diffs in arrival order.
 */
export class LiveClient {
  readonly client: PhoenixClient;
  readonly page: PageInfo;
  readonly path: string;
  readonly base: string;
  joinRef = '';
  topic = '';
  confRef = '';
  upload!: UploadSession;
  /** Frames this client saw on its view topic: phx_error, phx_close. */
  readonly viewEvents: string[] = [];
  #rendered: Tree = {};
  #components: Record<string, Tree> = {};

  private constructor(base: string, path: string, page: PageInfo, client: PhoenixClient) {
    this.base = base;
    this.path = path;
    this.page = page;
    this.client = client;
    client.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const f = JSON.parse(data.toString()) as Frame;
      if (f[2] !== this.topic) return;
      if (f[3] === 'diff') this.#apply(f[4]);
      else if (f[3] === 'phx_reply' && f[0] === this.joinRef) {
        const response = (f[4] as { response?: Tree }).response;
        if (response && typeof response === 'object') {
          if (response.rendered) {
            this.#rendered = {};
            this.#components = {};
            this.#apply(response.rendered as Tree);
          } else if (response.diff) this.#apply(response.diff as Tree);
        }
      } else if (f[3] === 'phx_error' || f[3] === 'phx_close') this.viewEvents.push(f[3]);
      // The support client keeps every frame; long runs must not.
      if (client.frames.length > 64) client.frames.splice(0, client.frames.length - 16);
    });
  }

  /** Fetches `path`, connects and joins its view. */
  static async open(base: string, path: string): Promise<LiveClient> {
    const page = await fetchPage(base, path);
    const client = await PhoenixClient.connect(base, page);
    const c = new LiveClient(base, path, page, client);
    await c.join();
    return c;
  }

  /** A new socket for the same page, rejoining its view (what the client does after a drop). */
  static async reconnect(old: LiveClient, base = old.base): Promise<LiveClient> {
    const client = await PhoenixClient.connect(base, old.page);
    const c = new LiveClient(base, old.path, old.page, client);
    await c.join();
    return c;
  }

  /** Fetches another page and joins its view on `other`'s socket (several views, one socket). */
  static async onSameSocket(other: LiveClient, path: string): Promise<LiveClient> {
    const page = await fetchPage(other.base, path);
    const c = new LiveClient(other.base, path, { ...page, csrf: other.page.csrf, cookie: other.page.cookie }, other.client);
    await c.join();
    return c;
  }

  /** Joins (or rejoins: a remount on the same socket) the page's view. */
  async join(): Promise<Reply> {
    this.topic = `lv:${this.page.id}`;
    this.joinRef = String(this.client.nextRef());
    const reply = this.client.waitFor((f) => f[1] === this.joinRef && f[3] === 'phx_reply', 30_000);
    this.client.ws.send(
      JSON.stringify([this.joinRef, this.joinRef, this.topic, 'phx_join', {
        url: this.base + this.path,
        params: { _csrf_token: this.page.csrf, _mounts: 0 },
        session: this.page.session,
        static: this.page.static,
        sticky: false,
      }]),
    );
    const r = (await reply)[4] as Reply;
    if (r.status !== 'ok') throw new Error(`join of ${this.path} failed: ${JSON.stringify(r.response)}`);
    try {
      this.confRef = confRefOf(r.response.rendered);
    } catch {
      this.confRef = '';
    }
    this.upload = new UploadSession(this.client, this.joinRef, this.topic);
    return r;
  }

  #apply(diff: Tree): void {
    const d = structuredClone(diff);
    resolveTemplates(d);
    const components = d.c as Record<string, Tree> | undefined;
    delete d.c;
    delete d.e;
    delete d.t;
    delete d.r;
    this.#rendered = mergeDiff(this.#rendered, d);
    if (components) {
      for (const [cid, cdiff] of Object.entries(components)) {
        const old = this.#components[cid];
        this.#components[cid] = old && cdiff.s === undefined ? mergeDiff(old, cdiff) : structuredClone(cdiff);
      }
    }
  }

  /** The view's HTML as the client shows it now. */
  html(): string {
    return toHtml(this.#rendered, this.#components);
  }

  /** The `<div class="entry" id="entry-REF">…</div>` block of an entry, if rendered. */
  entryHtml(ref: string): string | undefined {
    const html = this.html();
    const at = html.indexOf(`id="entry-${ref}"`);
    if (at < 0) return undefined;
    const end = html.indexOf('</div>', at);
    return html.slice(at, end < 0 ? undefined : end);
  }

  /** A live_file_input attribute (`data-phx-done-refs`…) as currently rendered. */
  inputAttr(name: string): string | undefined {
    return new RegExp(`${name}="([^"]*)"`).exec(this.html())?.[1];
  }

  request(event: string, payload: unknown, timeoutMs = 30_000): Promise<Reply> {
    const ref = this.client.nextRef();
    const reply = this.client.waitFor((f) => f[1] === ref && f[3] === 'phx_reply', timeoutMs);
    this.client.ws.send(JSON.stringify([this.joinRef, ref, this.topic, event, payload]));
    return reply.then((f) => f[4] as Reply);
  }

  click(event: string, value: Record<string, unknown> = {}): Promise<Reply> {
    return this.request('event', { type: 'click', event, value });
  }

  change(entries: Record<string, unknown>[], confRef = this.confRef): Promise<Reply> {
    return this.request('event', { type: 'form', event: 'validate', value: '', meta: { _target: 'files' }, uploads: { [confRef]: entries } });
  }

  preflight(entries: Record<string, unknown>[], confRef = this.confRef): Promise<Reply> {
    return this.request('allow_upload', { ref: confRef, entries });
  }

  progress(entryRef: string, progress: number | { error: string }, confRef = this.confRef): Promise<Reply> {
    return this.request('progress', { event: null, ref: confRef, entry_ref: entryRef, progress });
  }

  submit(event = 'save'): Promise<Reply> {
    return this.request('event', { type: 'form', event, value: '', meta: {} });
  }

  /** Joins `lvu:<ref>`; resolves with the join ref and the reply. */
  async joinEntry(entryRef: string, token: unknown, timeoutMs = 30_000): Promise<{ joinRef: string; reply: Reply }> {
    const joinRef = this.client.nextRef();
    const reply = this.client.waitFor((f) => f[1] === joinRef && f[3] === 'phx_reply', timeoutMs);
    this.client.ws.send(JSON.stringify([joinRef, joinRef, `lvu:${entryRef}`, 'phx_join', { token }]));
    return { joinRef, reply: (await reply)[4] as Reply };
  }

  /** Sends one chunk and waits for its reply. */
  async chunk(entryRef: string, joinRef: string, data: Uint8Array, timeoutMs = 30_000): Promise<Reply> {
    const ref = this.client.nextRef();
    const reply = this.client.waitFor((f) => f[1] === ref && f[3] === 'phx_reply', timeoutMs);
    this.client.ws.send(encodeBinaryPush(joinRef, ref, `lvu:${entryRef}`, 'chunk', data));
    return (await reply)[4] as Reply;
  }

  /** The binary frame bytes of a chunk push (for raw partial sends). */
  chunkFrame(entryRef: string, joinRef: string, data: Uint8Array): Buffer {
    return encodeBinaryPush(joinRef, this.client.nextRef(), `lvu:${entryRef}`, 'chunk', data);
  }

  /**
   * Sends a whole file as the official client does: join, chunks one at a
   * time, a progress push whenever the integer percentage grows. Returns
   * undefined on success or the first error reason.
   */
  async sendFile(entryRef: string, token: unknown, content: Buffer, chunkSize: number, options: { onChunk?: (index: number, joinRef: string) => Promise<boolean | void> } = {}): Promise<string | undefined> {
    const { joinRef, reply } = await this.joinEntry(entryRef, token);
    if (reply.status !== 'ok') return String(reply.response.reason);
    let offset = 0;
    let pct = 0;
    let index = 0;
    while (offset < content.length) {
      if (options.onChunk && (await options.onChunk(index, joinRef)) === true) return 'stopped';
      const part = content.subarray(offset, offset + chunkSize);
      const r = await this.chunk(entryRef, joinRef, part);
      if (r.status !== 'ok') return String(r.response.reason);
      offset += part.length;
      index++;
      const now = Math.floor((offset / content.length) * 100);
      if (now > pct) {
        pct = now;
        await this.progress(entryRef, now);
      }
    }
    return undefined;
  }

  get closed(): boolean {
    return this.client.closed !== undefined;
  }

  /** Closes the socket the way a tab does. */
  close(): void {
    this.client.ws.close();
  }

  /** Drops the TCP connection without a close frame. */
  terminate(): void {
    this.client.ws.terminate();
  }

  /**
   * Writes the first `cut` bytes of a masked WebSocket binary frame carrying
   * `payload` straight to the TCP socket, then destroys the socket: the
   * server sees a frame that stops part-way.
   */
  sendPartialFrameAndDrop(payload: Buffer, cut: number): void {
    const frame = maskedFrame(payload);
    const socket = (this.client.ws as unknown as { _socket: Socket })._socket;
    socket.write(frame.subarray(0, Math.max(1, Math.min(cut, frame.length - 1))), () => socket.destroy());
  }
}

let entryCounter = 0;

/** An entry description as the official client sends it (refs unique per test process). */
export function describe(name: string, size: number, type = 'application/octet-stream'): Record<string, unknown> {
  return { path: 'files', ref: String(entryCounter++), name, relative_path: '', type, size, last_modified: 1_700_000_000_000 };
}

/** A client→server WebSocket frame (FIN, binary, masked) as RFC 6455 §5.2 lays it out. */
export function maskedFrame(payload: Buffer, opcode = 2): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) header = Buffer.from([0x80 | opcode, 0x80 | len]);
  else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([header, mask, body]);
}

/** Percentile of a sorted copy. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
