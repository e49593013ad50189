/**
 * WebSocket upgrades for Inlet's socket path: the origin check, the CSRF
 * check, `ws` in `noServer` mode (so it never owns a server), and one
 * {@link Connection} per socket with an idle timer and backpressure.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveApp } from '../live/app.js';
import type { Logger } from '../logger.js';
import { Connection, DEFAULT_MAX_CHANNELS } from '../protocol/connection.js';
import { CLOSE_CODES } from '../protocol/events.js';
import { readCookies, requestHost, type TrustProxy } from './cookies.js';

/**
 * Default largest WebSocket message, bytes. Upload chunks must fit (see `MAX_CHUNK_SIZE`).
 *
 * @example
 * // an app without socket uploads can take smaller messages (1 MiB)
 * createServer({ routes, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES / 9 })
 */
export const DEFAULT_MAX_FRAME_BYTES = 9 * 1024 * 1024;
/**
 * Default ms without any client message (heartbeats come every 30 s) before the socket is closed.
 *
 * @example
 * // drop silent sockets after 45 s instead (heartbeats still come every 30 s)
 * createServer({ routes, idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS - 30_000 })
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 75_000;
/**
 * Default `threshold` of `compress`: smaller messages are sent uncompressed.
 *
 * @example
 * // compress more of the small diffs too
 * createServer({ routes, compress: { threshold: DEFAULT_COMPRESS_THRESHOLD / 4 } })
 */
export const DEFAULT_COMPRESS_THRESHOLD = 1024;

/**
 * The `compress` option: `permessage-deflate` on (`true`), off, or tuned.
 * @example
 * createServer({ routes, compress: { threshold: 512, level: 6 } })
 */
export type CompressOption = boolean | { readonly threshold?: number; readonly level?: number };

/** What the socket side needs from the options. */
export interface SocketOptions {
  readonly csrfCookie: string;
  readonly trustProxy: TrustProxy;
  readonly allowedOrigins: readonly string[];
  readonly maxFrameBytes?: number;
  readonly maxChannels?: number;
  readonly maxWaitingJoins?: number;
  readonly maxQueuedBytes?: number;
  readonly idleTimeoutMs?: number;
  readonly compress?: CompressOption;
}

/** `ws`'s `perMessageDeflate` for a `compress` option. */
export function deflateOptions(compress: CompressOption | undefined): false | Record<string, unknown> {
  if (!compress) return false;
  const { threshold = DEFAULT_COMPRESS_THRESHOLD, level } = compress === true ? {} : compress;
  return { threshold, ...(level !== undefined ? { zlibDeflateOptions: { level } } : {}) };
}

/**
 * Whether a browser on `Origin` may open the socket: no Origin (not a
 * browser), the host it asked for, or a listed origin.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, forwardedHost: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return true;
  try {
    const o = new URL(origin);
    if (o.host === host || o.host === forwardedHost) return true;
    return allowed.includes(o.origin);
  } catch {
    return false;
  }
}

/** Every open socket of one Inlet app. */
export class SocketHub {
  readonly #app: LiveApp;
  readonly #logger: Logger;
  readonly #options: SocketOptions;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();

  constructor(app: LiveApp, logger: Logger, options: SocketOptions) {
    this.#app = app;
    this.#logger = logger;
    this.#options = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      perMessageDeflate: deflateOptions(options.compress),
    });
  }

  /** Open sockets. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Completes (or refuses, 403) an upgrade already known to be for the socket path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const forwarded = requestHost(req, this.#options.trustProxy);
    if (!originAllowed(req.headers.origin, req.headers.host, forwarded, this.#options.allowedOrigins)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const params = Object.fromEntries(url.searchParams);
      const cookies = readCookies(req.headers.cookie);
      this.#accept(ws, params, this.#app.csrfValid(cookies[this.#options.csrfCookie], params._csrf_token));
    });
  }

  #accept(ws: WebSocket, params: Record<string, string>, csrfValid: boolean): void {
    this.#sockets.add(ws);
    const options = this.#options;
    const connection = new Connection(ws, {
      router: this.#app.channelRouter,
      params,
      csrfValid,
      maxChannels: options.maxChannels ?? DEFAULT_MAX_CHANNELS,
      ...(options.maxWaitingJoins !== undefined ? { maxWaitingJoins: options.maxWaitingJoins } : {}),
      ...(options.maxQueuedBytes !== undefined ? { maxQueuedBytes: options.maxQueuedBytes } : {}),
      // A client that sends faster than its channels are handled (e.g. chunks
      // without waiting for replies) is slowed down, not buffered without bound.
      onBackpressure: (paused) => (paused ? ws.pause() : ws.resume()),
      logger: this.#logger,
    });
    const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    let idle = setTimeout(() => connection.close(CLOSE_CODES.GOING_AWAY, 'idle'), idleMs);
    ws.on('message', (data, isBinary) => {
      clearTimeout(idle);
      idle = setTimeout(() => connection.close(CLOSE_CODES.GOING_AWAY, 'idle'), idleMs);
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      connection.receive(isBinary ? buf : buf.toString('utf8'), isBinary);
    });
    ws.on('close', () => {
      clearTimeout(idle);
      this.#sockets.delete(ws);
      connection.closed();
    });
    ws.on('error', (e) => this.#logger.warn({ err: e }, 'socket error'));
  }

  /** Terminates every socket and closes the WebSocket server. */
  close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }
}
