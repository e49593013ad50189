/**
 * `inletjs/testing`: drive a live view in-process, through the real channel
 * code and serializer, with no network and no browser.
 *
 * @example
 * const view = await mountLive({ routes: { '/': Counter } }, '/')
 * await view.click('inc')
 * expect(view.html()).toContain('1')
 */
import { LiveApp } from '../live/app.js';
import type { Logger, LogMethod } from '../logger.js';
import type { LiveView } from '../live/view.js';
import type { RouteTarget } from '../live/router.js';
import { Connection, type WebSocketLike } from '../protocol/connection.js';
import { encodeBinaryPush } from '../protocol/frames.js';
import { DiskStore } from '../uploads/disk-store.js';
import { uploadChannelKind, uploadsExtension } from '../uploads/extension.js';
import { createUploadDir } from '../uploads/tmp-dir.js';
import { fill, mergeDiff, resolveTemplates, toHtml } from './merge.js';
import { StreamDom } from './streams.js';

export { mergeDiff, resolveTemplates, toHtml } from './merge.js';
export { StreamDom } from './streams.js';

type Tree = Record<string, unknown>;

/**
 * A message the server sent: `[joinRef, ref, topic, event, payload]`.
 *
 * @example
 * const frames: ServerFrame[] = []
 * const view = await mountLive({ routes }, '/', { onFrame: (frame) => frames.push(frame) })
 * const diffs = frames.filter(([, , , event]) => event === 'diff')
 */
export type ServerFrame = [string | null, string | null, string, string, Record<string, unknown>];

/**
 * Options of {@link mountLive}: the session, secret, upload folder, a frame observer, an app to share, a logger.
 * @example
 * const view = await mountLive({ routes }, '/', { session: { user: 'ada' }, logger: pino() })
 */
export interface MountOptions {
  readonly secret?: string;
  readonly session?: Record<string, unknown>;
  /** Upload temp folder base. */
  readonly uploadTmpDir?: string;
  /** Called with every frame the server sends (e.g. to check diffs against another client). */
  readonly onFrame?: (frame: ServerFrame) => void;
  /** Mount into an existing app (e.g. another view's `view.app`), sharing its pubsub and secret. */
  readonly app?: LiveApp;
  /** Also receives what the server logs (it is always kept in `view.serverErrors`). */
  readonly logger?: Logger;
}

/**
 * What the server logged as an error while a test view ran.
 *
 * @example
 * const errors: readonly ServerError[] = view.serverErrors
 * expect(errors.map((e) => e.message)).toEqual([])
 */
export interface ServerError {
  readonly message: string;
  readonly error: unknown;
  /** The record's other fields (`view`, `event`, `topic`…). */
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * A view crashed on the server while a test drove it: `cause` is the error
 * the view threw (from the server's log), `topic` the view's channel.
 *
 * @example
 * await expect(view.click('boom')).rejects.toThrow(ViewCrashError)
 */
export class ViewCrashError extends Error {
  readonly topic: string;

  constructor(topic: string, crash: ServerError | undefined) {
    const error = crash?.error;
    const why = error instanceof Error ? error.message : error !== undefined ? JSON.stringify(error) ?? typeof error : 'no error was logged';
    super(`the view on ${topic} crashed: ${why}${crash ? ` (${crash.message})` : ''}`, { cause: crash?.error });
    this.name = 'ViewCrashError';
    this.topic = topic;
  }
}

/** A logger that keeps every error and warning in `into` and passes every record on to `logger`. */
function capture(into: ServerError[], logger: Logger | undefined): Logger {
  const keep =
    (level: 'error' | 'warn'): LogMethod =>
    (context, message) => {
      const { err, ...fields } = context;
      into.push({ message, error: err, context: fields });
      logger?.[level](context, message);
    };
  return {
    error: keep('error'),
    warn: keep('warn'),
    info: (context, message) => logger?.info(context, message),
    debug: (context, message) => logger?.debug(context, message),
  };
}

/**
 * Frames sent and received over one in-process connection.
 * @example
 * const socket = new TestSocket(); socket.onFrame((f) => frames.push(f))
 */
export class TestSocket implements WebSocketLike {
  readonly sent: ServerFrame[] = [];
  readonly #waiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  readonly #listeners: ((f: ServerFrame) => void)[] = [];
  closedWith?: { code?: number; reason?: string };

  send(data: string | Buffer): void {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    this.sent.push(frame);
    for (const l of this.#listeners) l(frame);
    for (let i = 0; i < this.#waiters.length; i++) {
      const w = this.#waiters[i];
      if (w && w.match(frame)) {
        this.#waiters.splice(i, 1);
        w.resolve(frame);
        return;
      }
    }
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }

  onFrame(listener: (f: ServerFrame) => void): void {
    this.#listeners.push(listener);
  }

  /** Resolves with the next frame matching `match` (already-sent frames are not considered). */
  next(match: (f: ServerFrame) => boolean, timeoutMs = 5000): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a server frame')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }
}

/**
 * A file to upload in tests.
 *
 * @example
 * const file: TestFile = { name: 'cat.png', type: 'image/png', content: await readFile('test/fixtures/cat.png') }
 * await view.upload(confRef, 'avatar', [file])
 */
export interface TestFile {
  readonly name: string;
  readonly type?: string;
  readonly content: Buffer;
  readonly lastModified?: number;
}

/**
 * A mounted view driven in-process.
 * @example
 * const view: LiveTestView = await mountLive({ routes }, '/')
 * await view.submit('save', { title: 'Hi' })
 * expect(view.html()).toContain('Hi')
 */
export class LiveTestView {
  readonly socket: TestSocket;
  readonly connection: Connection;
  readonly app: LiveApp;
  readonly topic: string;
  readonly joinRef: string;
  #ref: number;
  #rendered: Tree;
  #components: Record<string, Tree> = {};
  readonly #streams = new StreamDom();
  #nextEntryRef = 0;
  /** Reply payloads of every event (for assertions). */
  readonly events: unknown[][] = [];
  /** Everything the server logged as an error since the view mounted, oldest first. */
  readonly serverErrors: ServerError[];
  /** Set once the view's channel crashed (`phx_error`): every later push rejects with it. */
  crash?: ViewCrashError;

  constructor(
    app: LiveApp,
    socket: TestSocket,
    connection: Connection,
    topic: string,
    joinRef: string,
    rendered: Tree,
    nextRef: number,
    serverErrors: ServerError[] = [],
  ) {
    this.app = app;
    this.serverErrors = serverErrors;
    this.socket = socket;
    this.connection = connection;
    this.topic = topic;
    this.joinRef = joinRef;
    this.#ref = nextRef;
    this.#rendered = {};
    this.#apply(rendered);
    socket.onFrame((f) => {
      if (f[2] === this.topic && f[3] === 'diff') this.#apply(f[4]);
      if (f[2] === this.topic && f[3] === 'phx_error') this.crash ??= new ViewCrashError(this.topic, this.#lastCrash());
    });
  }

  #apply(diff: Tree): void {
    const d = structuredClone(diff);
    resolveTemplates(d);
    const components = d.c as Record<string, Tree> | undefined;
    delete d.c;
    if (Array.isArray(d.e)) this.events.push(...(d.e as unknown[][]));
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
    this.#streams.apply([this.#rendered, ...Object.values(this.#components)], (s, e) => fill(s, e, this.#components));
  }

  /** The view's HTML as the client has it now, stream items included. */
  html(): string {
    return toHtml(this.#rendered, this.#components, this.#streams);
  }

  /**
   * The DOM ids of the items the client shows for the view's stream `name`,
   * in order; `{ ref }` names any stream by its wire ref (`<cid>-<n>` in a component).
   */
  streamIds(name: string | { readonly ref: string }): string[] {
    if (typeof name !== 'string') return this.#streams.ids(name.ref);
    const channel = this.connection.channels.get(this.topic) as unknown as { instance?: { socket: { assigns: { streams: Record<string, { ref: string }> } } } } | undefined;
    const ref = channel?.instance?.socket.assigns.streams[name]?.ref;
    return ref === undefined ? [] : this.#streams.ids(ref);
  }

  #lastCrash(): ServerError | undefined {
    return this.serverErrors.findLast((e) => e.error !== undefined) ?? this.serverErrors.at(-1);
  }

  /**
   * Sends a raw push on any topic and resolves with the reply payload
   * `{status, response}`. Rejects with {@link ViewCrashError} as soon as the
   * view's channel crashes (instead of waiting for a reply that never comes).
   */
  async push(topic: string, event: string, payload: Record<string, unknown>, joinRef: string | null = this.joinRef): Promise<{ status: string; response: Record<string, unknown> }> {
    if (this.crash && topic === this.topic) throw this.crash;
    const ref = String(this.#ref++);
    const reply = this.socket.next((f) => (f[1] === ref && f[3] === 'phx_reply') || (f[2] === topic && f[3] === 'phx_error'));
    this.connection.receive(JSON.stringify([joinRef, ref, topic, event, payload]), false);
    const frame = await reply;
    if (frame[3] === 'phx_error') throw topic === this.topic ? (this.crash ??= new ViewCrashError(topic, this.#lastCrash())) : new ViewCrashError(topic, this.#lastCrash());
    return frame[4] as { status: string; response: Record<string, unknown> };
  }

  /** Sends a binary push (upload chunk) and resolves with the reply. */
  async pushBinary(topic: string, joinRef: string, data: Uint8Array): Promise<{ status: string; response: Record<string, unknown> }> {
    const ref = String(this.#ref++);
    const reply = this.socket.next((f) => f[1] === ref && f[3] === 'phx_reply');
    this.connection.receive(encodeBinaryPush(joinRef, ref, topic, 'chunk', data), true);
    const frame = await reply;
    return frame[4] as { status: string; response: Record<string, unknown> };
  }

  /** Pushes an `event` on the view and applies the reply's diff. */
  async event(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.push(this.topic, 'event', payload);
    if (reply.status !== 'ok') throw new Error(`event failed: ${JSON.stringify(reply.response)}`);
    if (reply.response.diff) this.#apply(reply.response.diff as Tree);
    return reply.response;
  }

  /** `phx-click`. */
  click(event: string, value: Record<string, unknown> = {}, cid?: number): Promise<Record<string, unknown>> {
    return this.event({ type: 'click', event, value, ...(cid !== undefined ? { cid } : {}) });
  }

  /** `phx-change` with a URL-encoded form and optional uploads. */
  change(event: string, form: string | Record<string, string>, options: { target?: string; uploads?: Record<string, unknown[]>; cid?: number } = {}): Promise<Record<string, unknown>> {
    const value = typeof form === 'string' ? form : new URLSearchParams(form).toString();
    return this.event({ type: 'form', event, value, meta: { _target: options.target ?? 'undefined' }, uploads: options.uploads ?? {}, ...(options.cid !== undefined ? { cid: options.cid } : {}) });
  }

  /** `phx-submit`. */
  submit(event: string, form: string | Record<string, string> = ''): Promise<Record<string, unknown>> {
    const value = typeof form === 'string' ? form : new URLSearchParams(form).toString();
    return this.event({ type: 'form', event, value, meta: {} });
  }

  /** A hook's `pushEvent`. */
  hook(event: string, value: unknown): Promise<Record<string, unknown>> {
    return this.event({ type: 'hook', event, value });
  }

  /** Describes files as the official client does in `uploads` payloads. */
  describeFiles(inputName: string, files: readonly TestFile[]): Record<string, unknown>[] {
    return files.map((f) => ({
      path: inputName,
      ref: String(this.#nextEntryRef++),
      name: f.name,
      relative_path: '',
      type: f.type ?? 'application/octet-stream',
      size: f.content.length,
      last_modified: f.lastModified ?? 1_700_000_000_000,
    }));
  }

  /** Applies a diff from another reply (preflight, progress). */
  applyReply(response: Record<string, unknown>): void {
    if (response.diff) this.#apply(response.diff as Tree);
  }

  /**
   * Uploads files the way the official client does: change event, preflight,
   * one `lvu:` channel per entry, chunks one at a time, progress events.
   * Returns the preflight reply and per-entry chunk outcomes.
   */
  async upload(
    confRef: string,
    inputName: string,
    files: readonly TestFile[],
    options: { changeEvent?: string; form?: string; cid?: number } = {},
  ): Promise<{ preflight: Record<string, unknown>; entries: { ref: string; ok: boolean; reason?: string }[] }> {
    const described = this.describeFiles(inputName, files);
    const cid = options.cid !== undefined ? { cid: options.cid } : {};
    await this.change(options.changeEvent ?? 'validate', options.form ?? '', { target: inputName, uploads: { [confRef]: described }, ...cid });
    const pre = await this.push(this.topic, 'allow_upload', { ref: confRef, entries: described, ...cid });
    this.applyReply(pre.response);
    const tokens = (pre.response.entries ?? {}) as Record<string, string>;
    const chunkSize = ((pre.response.config as Record<string, number> | undefined)?.chunk_size) ?? 64_000;
    const results: { ref: string; ok: boolean; reason?: string }[] = [];
    await Promise.all(
      described.map(async (d, i) => {
        const ref = d.ref as string;
        const token = tokens[ref];
        const file = files[i] as TestFile;
        if (typeof token !== 'string') {
          results.push({ ref, ok: false, reason: 'not preflighted' });
          return;
        }
        results.push(await this.sendEntry(confRef, ref, token, file.content, chunkSize, options.cid));
      }),
    );
    return { preflight: pre.response, entries: results };
  }

  /** Joins `lvu:<ref>` with `token` and sends `content` in chunks, reporting progress like the official client. */
  async sendEntry(confRef: string, ref: string, token: string, content: Buffer, chunkSize: number, cid?: number): Promise<{ ref: string; ok: boolean; reason?: string }> {
    const topic = `lvu:${ref}`;
    const joinRef = String(this.#ref);
    const join = await this.push(topic, 'phx_join', { token }, joinRef);
    if (join.status !== 'ok') return { ref, ok: false, reason: String(join.response.reason) };
    let offset = 0;
    let sentPct = 0;
    while (offset < content.length) {
      const chunk = content.subarray(offset, offset + chunkSize);
      const r = await this.pushBinary(topic, joinRef, chunk);
      if (r.status !== 'ok') return { ref, ok: false, reason: String(r.response.reason) };
      offset += chunk.length;
      const pct = Math.floor((offset / content.length) * 100);
      if (pct > sentPct) {
        sentPct = pct;
        const p = await this.push(this.topic, 'progress', { event: null, ref: confRef, entry_ref: ref, progress: pct, ...(cid !== undefined ? { cid } : {}) });
        this.applyReply(p.response);
      }
    }
    return { ref, ok: true };
  }

  /** Leaves the view's channel. */
  async leave(): Promise<void> {
    await this.push(this.topic, 'phx_leave', {});
  }

  /**
   * Joins the child view (`liveRender`) with DOM id `id` that this view
   * renders now, as the official client does after the parent's render
   * (Phoenix's `find_live_child`). Sticky children join the same way.
   *
   * @example
   * const chat = await view.liveChild('chat')
   * await chat.click('send', { text: 'hi' })
   */
  async liveChild(id: string): Promise<LiveTestView> {
    const tag = new RegExp(`<[a-zA-Z][a-zA-Z0-9-]* id="${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"([^>]*)>`).exec(this.html());
    const session = tag ? /data-phx-session="([^"]*)"/.exec(tag[1] as string)?.[1] : undefined;
    if (!tag || !session) throw new Error(`no child view with id "${id}" in the render`);
    const topic = `lv:${id}`;
    const joinRef = String(this.#ref);
    const reply = await this.push(topic, 'phx_join', { params: { _mounts: 0, _mount_attempts: 0 }, session: decodeAttr(session), static: null, sticky: / data-phx-sticky/.test(tag[1] as string) }, joinRef);
    if (reply.status !== 'ok') {
      if (reply.response.reason === 'join crashed') throw new ViewCrashError(topic, this.#lastCrash());
      throw new Error(`join of ${topic} failed: ${JSON.stringify(reply.response)}`);
    }
    return new LiveTestView(this.app, this.socket, this.connection, topic, joinRef, reply.response.rendered as Tree, this.#ref, this.serverErrors);
  }
}

function decodeAttr(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Mounts the view at `path` in-process: HTTP render, then a join over an
 * in-memory connection.
 * @example
 * const view = await mountLive({ routes: { '/': Counter } }, '/')
 * await view.click('inc')
 * expect(view.html()).toContain('1')
 */
export async function mountLive(
  config: { routes: Record<string, RouteTarget<LiveView<never, never>>> },
  path: string,
  options: MountOptions = {},
): Promise<LiveTestView> {
  let store: Promise<DiskStore> | undefined;
  const serverErrors: ServerError[] = [];
  const logger = capture(serverErrors, options.logger);
  const app =
    options.app ??
    new LiveApp({
    routes: config.routes,
    secret: options.secret ?? 'inlet-testing-secret-0123456789abcdef',
    clientPath: '/inlet/inlet-client.js',
    extensions: [uploadsExtension({ defaultStore: () => (store ??= createUploadDir(options.uploadTmpDir).then((dir) => new DiskStore({ dir }))) })],
    channels: [uploadChannelKind],
    logger,
  });
  const url = new URL(path, 'http://localhost');
  const csrfSecret = 'testing-csrf-secret-0001';
  const page = await app.renderPage(url, options.session ?? {}, app.csrfToken(csrfSecret));
  if (page.status !== 200) throw new Error(`HTTP render of ${path} answered ${page.status}`);
  const id = /<[a-zA-Z][a-zA-Z0-9-]* id="([^"]+)" data-phx-main/.exec(page.html)?.[1];
  const session = /data-phx-session="([^"]+)"/.exec(page.html)?.[1];
  const stat = /data-phx-static="([^"]+)"/.exec(page.html)?.[1];
  if (!id || !session) throw new Error('no live container in the page');
  const socket = new TestSocket();
  if (options.onFrame) socket.onFrame(options.onFrame);
  const connection = new Connection(socket, {
    router: app.channelRouter,
    params: { _csrf_token: app.csrfToken(csrfSecret) },
    csrfValid: true,
    logger,
  });
  const topic = `lv:${id}`;
  const reply = socket.next((f) => f[1] === '1' && f[3] === 'phx_reply');
  connection.receive(JSON.stringify(['1', '1', topic, 'phx_join', { url: url.href, params: { _csrf_token: app.csrfToken(csrfSecret), _mounts: 0 }, session, static: stat ?? null, sticky: false }]), false);
  const frame = await reply;
  const payload = frame[4] as { status: string; response: Record<string, unknown> };
  if (payload.status !== 'ok') {
    const crash = serverErrors.findLast((e) => e.error !== undefined);
    if (payload.response.reason === 'join crashed') throw new ViewCrashError(topic, crash);
    throw new Error(`join failed: ${JSON.stringify(payload.response)}`);
  }
  return new LiveTestView(app, socket, connection, topic, '1', payload.response.rendered as Tree, 2, serverErrors);
}

export { writerConformanceCases, type WriterUnderTest, type ConformanceCase } from './writer-conformance.js';
export { storeConformanceCases, type StoreUnderTest } from './store-conformance.js';
export { resumeSessionConformanceCases, type ResumeSessionsUnderTest } from './resume-conformance.js';
