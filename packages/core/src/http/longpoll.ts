/**
 * The long-poll endpoint (`/live/longpoll`), which the official client falls
 * back to when WebSockets are blocked: a GET opens a session or waits for its
 * messages, a POST delivers a batch of frames. Behind each session is the
 * same {@link Connection} a WebSocket gets, so views, events and uploads
 * work alike on both transports. Phoenix's protocol; see protocol/longpoll.ts.
 *
 * Sessions live in this process: behind a load balancer, long polling needs
 * sticky sessions (see docs/long-polling.md).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveApp } from '../live/app.js';
import type { Logger } from '../logger.js';
import { Connection, DEFAULT_MAX_CHANNELS } from '../protocol/connection.js';
import { LONGPOLL_STATUS, LongPollSession, parseBatch } from '../protocol/longpoll.js';
import { readCookies, requestHost } from './cookies.js';
import { DEFAULT_MAX_FRAME_BYTES, originAllowed, type SocketOptions } from './upgrade.js';

/** The path the official client polls (`/live` + `/longpoll`). */
export const LONGPOLL_PATH = '/live/longpoll';
/** Default ms a poll waits for messages before answering 204 (Phoenix's `window_ms`). */
export const DEFAULT_LONGPOLL_WINDOW_MS = 10_000;
/** Default most sessions one process holds at once. */
export const DEFAULT_MAX_LONGPOLL_SESSIONS = 10_000;

/** The `longPoll` option: on (default), off, or tuned. */
export type LongPollOption = boolean | { readonly windowMs?: number; readonly maxSessions?: number };

interface Entry {
  readonly session: LongPollSession;
  readonly connection: Connection;
  /** Backpressure: the connection asked the transport to stop reading. */
  paused: boolean;
  resumed?: () => void;
}

/** Every long-poll session of one Inlet app. */
export class LongPollHub {
  readonly #app: LiveApp;
  readonly #logger: Logger;
  readonly #options: SocketOptions;
  readonly #windowMs: number;
  readonly #maxSessions: number;
  readonly #sessions = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(app: LiveApp, logger: Logger, options: SocketOptions, longPoll: Exclude<LongPollOption, false> = true) {
    this.#app = app;
    this.#logger = logger;
    this.#options = options;
    const tuned = longPoll === true ? {} : longPoll;
    this.#windowMs = tuned.windowMs ?? DEFAULT_LONGPOLL_WINDOW_MS;
    this.#maxSessions = tuned.maxSessions ?? DEFAULT_MAX_LONGPOLL_SESSIONS;
    // A session whose client stopped polling (tab closed, network gone) ends
    // after one and a half windows without a request, as Phoenix's does.
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(50, Math.floor(this.#windowMs / 2)));
    this.#sweeper.unref();
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Answers a request for {@link LONGPOLL_PATH}. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    const forwarded = requestHost(req, this.#options.trustProxy);
    if (!originAllowed(req.headers.origin, req.headers.host, forwarded, this.#options.allowedOrigins)) {
      return this.#json(res, { status: LONGPOLL_STATUS.FORBIDDEN });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = headerValue(req.headers['x-phoenix-longpoll-token']) ?? url.searchParams.get('token') ?? undefined;
    const entry = token ? this.#sessions.get(token) : undefined;
    if (req.method === 'GET') {
      if (!token) return this.#open(req, res, url);
      if (!entry) return this.#json(res, { status: LONGPOLL_STATUS.GONE });
      return this.#listen(req, res, entry);
    }
    if (req.method === 'POST') {
      if (!entry) {
        req.resume();
        return this.#json(res, { status: LONGPOLL_STATUS.GONE });
      }
      return this.#publish(req, res, entry);
    }
    res.statusCode = 405;
    res.setHeader('allow', 'GET, POST');
    res.end();
  }

  #open(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (this.#sessions.size >= this.#maxSessions) {
      this.#logger.warn({ sessions: this.#sessions.size }, 'long-poll session refused: too many sessions');
      // 500 makes the client retry with backoff, as for a failed WebSocket.
      return this.#json(res, { status: 500 });
    }
    const params = Object.fromEntries(url.searchParams);
    delete params.token;
    const cookies = readCookies(req.headers.cookie);
    const csrfValid = this.#app.csrfValid(cookies[this.#options.csrfCookie], params._csrf_token);
    const token = randomBytes(24).toString('base64url');
    const session = new LongPollSession(token, () => {
      this.#sessions.delete(token);
    });
    const flow: Pick<Entry, 'paused' | 'resumed'> = { paused: false };
    const connection = new Connection(session, {
      router: this.#app.channelRouter,
      params,
      csrfValid,
      maxChannels: this.#options.maxChannels ?? DEFAULT_MAX_CHANNELS,
      ...(this.#options.maxWaitingJoins !== undefined ? { maxWaitingJoins: this.#options.maxWaitingJoins } : {}),
      ...(this.#options.maxQueuedBytes !== undefined ? { maxQueuedBytes: this.#options.maxQueuedBytes } : {}),
      onBackpressure: (paused) => {
        entry.paused = paused;
        if (!paused) {
          entry.resumed?.();
          entry.resumed = undefined;
        }
      },
      logger: this.#logger,
    });
    const entry: Entry = Object.assign(flow, { session, connection });
    this.#sessions.set(token, entry);
    this.#json(res, { status: LONGPOLL_STATUS.GONE, token, messages: [] });
  }

  async #listen(req: IncomingMessage, res: ServerResponse, entry: Entry): Promise<void> {
    const { session } = entry;
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    const messages = await session.poll(this.#windowMs, gone.signal);
    res.off('close', onClose);
    if (res.destroyed || res.writableEnded) {
      // The client went away before its answer: the next poll gets these.
      if (messages) session.unread(messages);
      return;
    }
    if (messages) return this.#json(res, { status: LONGPOLL_STATUS.OK, token: session.token, messages });
    if (session.closed) return this.#json(res, { status: LONGPOLL_STATUS.GONE });
    this.#json(res, { status: LONGPOLL_STATUS.NO_CONTENT, token: session.token, messages: [] });
  }

  async #publish(req: IncomingMessage, res: ServerResponse, entry: Entry): Promise<void> {
    entry.session.touch();
    const maxFrame = this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    // Binary frames travel in base64 (4/3 of their size), up to 100 of them, one a line.
    const limit = Math.ceil((maxFrame * 4) / 3) + 64 * 1024;
    const body = await readBody(req, limit);
    if (body === undefined) return this.#json(res, { status: LONGPOLL_STATUS.PAYLOAD_TOO_LARGE });
    const ndjson = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim() === 'application/x-ndjson';
    const frames = parseBatch(body, ndjson, maxFrame);
    if (typeof frames === 'string') {
      this.#logger.warn({ reason: frames }, 'long-poll batch refused');
      return this.#json(res, { status: LONGPOLL_STATUS.BAD_REQUEST });
    }
    for (const frame of frames) {
      if (entry.session.closed) break;
      entry.connection.receive(frame.data, frame.binary);
    }
    // A client sending faster than its channels are handled waits for its
    // answer (it sends no next batch before it), rather than being buffered.
    if (entry.paused) {
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.#windowMs);
        entry.resumed = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!waited) return this.#json(res, { status: LONGPOLL_STATUS.REQUEST_TIMEOUT });
    }
    this.#json(res, { status: LONGPOLL_STATUS.OK });
  }

  #sweep(): void {
    const cutoff = Date.now() - Math.floor(this.#windowMs * 1.5);
    for (const entry of this.#sessions.values()) {
      if (entry.session.lastSeen < cutoff) entry.connection.close();
    }
  }

  #json(res: ServerResponse, body: Record<string, unknown>): void {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  }

  /** Ends every session (their views are terminated) and stops the sweeper. */
  close(): void {
    clearInterval(this.#sweeper);
    for (const entry of [...this.#sessions.values()]) entry.connection.close();
    this.#sessions.clear();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The request body as UTF-8, or undefined when it is larger than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    // An aborted request has nobody to answer.
    req.on('error', () => resolve(undefined));
  });
}
