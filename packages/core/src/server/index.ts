/**
 * `inletjs/node`: serves an Inlet app with node:http and ws. This is the only
 * module that touches HTTP and WebSocket APIs.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { LiveApp, type Layout } from '../live/app.js';
import type { PubSub } from '../live/pubsub.js';
import { resolveSecret } from '../live/tokens.js';
import type { LiveView, Session } from '../live/view.js';
import { Connection, DEFAULT_MAX_CHANNELS } from '../protocol/connection.js';
import { CLOSE_CODES } from '../protocol/events.js';
import { createUploadDir, defaultUploadTmpBase, sweepStaleUploadDirs, uploadDirPath } from '../uploads/tmp-dir.js';
import { ReceiverLink } from '../uploads/chunked.js';
import { uploadChannelKind, uploadsExtension } from '../uploads/extension.js';
import { DiskChunkStore } from '../uploads/receiver/disk-store.js';
import { createReceiverHandler, type ReceiverHandlerOptions } from '../uploads/receiver/http.js';
import { SessionRegistry } from '../uploads/receiver/sessions.js';
import type { ChunkStore } from '../uploads/receiver/store.js';
import { join } from 'node:path';
import { logFunction, resolveLogger, type LogFunction, type LoggerOption } from '../logger.js';
import { cookieHeader, isSecureRequest, readCookies, requestHost, type TrustProxy } from './cookies.js';
import { checkServerOptions } from './options.js';
import { serveStatic, toStaticDir, type StaticDirOption } from './static.js';

/** Default largest WebSocket message, bytes. Upload chunks must fit (see `MAX_CHUNK_SIZE`). */
export const DEFAULT_MAX_FRAME_BYTES = 9 * 1024 * 1024;
/** Default ms without any client message (heartbeats come every 30 s) before the socket is closed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 75_000;
/** Where the browser bundle is served. */
export const CLIENT_PATH = '/inlet/inlet-client.js';
/** The CSRF cookie. */
export const CSRF_COOKIE = '_inlet_csrf';

export interface ServerOptions {
  /** Path patterns to views, e.g. `{ '/': Home, '/users/:id': User }`. */
  readonly routes: Record<string, LiveView<never, never>>;
  /** Signing secret (≥ 32 chars). Default `INLET_SECRET`; generated in development, required in production. */
  readonly secret?: string;
  readonly pubsub?: PubSub;
  readonly layout?: Layout;
  /** `<script>` tags replacing the default boot script, e.g. to pass hooks or uploaders. */
  readonly scripts?: string;
  /**
   * Folders served as static files (checked before routes), with MIME types,
   * Range requests, ETag revalidation and Cache-Control: a path (served at
   * `/`) or `{ root, path, maxAgeMs, immutable }`.
   */
  readonly staticDirs?: readonly StaticDirOption[];
  /** Session data for a request, signed into the page and given to `mount`. */
  readonly session?: (req: IncomingMessage) => Session | Promise<Session>;
  /** Extra HTTP handling before Inlet's own; return true when handled. */
  readonly handler?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Largest WebSocket message. Default {@link DEFAULT_MAX_FRAME_BYTES}. */
  readonly maxFrameBytes?: number;
  /** Channels per socket. Default 100. */
  readonly maxChannels?: number;
  /** Bytes of received frames waiting to be handled before the socket stops reading (1 KiB counted per frame). Default 16 MiB. */
  readonly maxQueuedBytes?: number;
  /** How long a rendered page's session and static tokens stay joinable. Default 24 h. */
  readonly sessionTtlMs?: number;
  /** How long an upload preflight token stays valid. Default 5 minutes. */
  readonly uploadTokenTtlMs?: number;
  /** Upload channels per view. Default 50. */
  readonly maxUploadChannels?: number;
  /** Base folder for upload temp files. Default `<tmp>/inlet-uploads`. */
  readonly uploadTmpDir?: string;
  /** Origins allowed to open the socket besides the server's own host. */
  readonly allowedOrigins?: readonly string[];
  readonly idleTimeoutMs?: number;
  /** The built-in resumable chunk receiver (`chunkedUpload()`). */
  readonly receiver?: {
    /** Default store. Default: local disk inside the upload temp folder. */
    readonly store?: ChunkStore;
    /** Path prefix. Default `/_inlet/uploads`. */
    readonly basePath?: string;
    /** Idle session lifetime in ms. Default 15 minutes. */
    readonly ttlMs?: number;
    /** Sweeper period in ms. Default 30 s. */
    readonly sweepIntervalMs?: number;
  } & Pick<ReceiverHandlerOptions, 'allowOrigin' | 'maxChunkBytes'>;
  /**
   * Where Inlet logs: a pino-compatible logger (`error`/`warn`/`info`/`debug`
   * taking `(context, message)`, optional `child`), a level for the built-in
   * stderr logger, or `false`. Default: the built-in logger at `warn`.
   */
  readonly logger?: LoggerOption;
  /** Older form of {@link logger}: one `(message, error)` callback for errors and warnings. */
  readonly log?: LogFunction;
  /**
   * Proxies whose `X-Forwarded-Proto`/`X-Forwarded-Host` are believed (for the
   * `Secure` cookie flag and the same-origin check): `true`, or their IP
   * addresses. Default false.
   */
  readonly trustProxy?: TrustProxy;
  /**
   * WebSocket `permessage-deflate`, like Phoenix's `compress`: `true`, or
   * `{ threshold, level }` (messages under `threshold` bytes, default 1024,
   * are sent as they are; zlib level 1-9, default 6). Default false.
   */
  readonly compress?: boolean | { readonly threshold?: number; readonly level?: number };
}

export interface InletServer {
  readonly app: LiveApp;
  /** The built-in resumable receiver's sessions. */
  readonly receiver: SessionRegistry;
  /** The base folder of upload temp files (`uploadTmpDir`, or `<os tmp>/inlet-uploads` as it was when the server was created). */
  readonly uploadTmpDir: string;
  readonly http: Server;
  /** Starts listening; resolves with the bound address. Port 0 picks a free port. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** The base URL once listening, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** Closes sockets and the server. */
  close(): Promise<void>;
}

function clientBundlePath(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@inletjs/client/package.json'));
}

/**
 * Creates a server for the given routes.
 *
 * @example
 * const server = createServer({ routes: { '/': Counter } })
 * await server.listen(4000)
 */
export function createServer(options: ServerOptions): InletServer {
  checkServerOptions(options);
  const logger = resolveLogger(options);
  const log = logFunction(logger);
  const trustProxy = options.trustProxy ?? false;
  const staticDirs = (options.staticDirs ?? []).map(toStaticDir);
  const uploadBase = options.uploadTmpDir ?? defaultUploadTmpBase();
  const uploadDirName = uploadDirPath(uploadBase);
  let uploadDir: Promise<string> | undefined;
  const ensureUploadDir = () => (uploadDir ??= createUploadDir(uploadBase, uploadDirName));
  const registry = new SessionRegistry({
    store: options.receiver?.store ?? new DiskChunkStore({ dir: join(uploadDirName, 'receiver') }),
    ...(options.receiver?.basePath ? { basePath: options.receiver.basePath } : {}),
    ...(options.receiver?.ttlMs !== undefined ? { ttlMs: options.receiver.ttlMs } : {}),
    ...(options.receiver?.sweepIntervalMs !== undefined ? { sweepIntervalMs: options.receiver.sweepIntervalMs } : {}),
    logger,
  });
  const receive = createReceiverHandler(registry, {
    ...(options.receiver?.allowOrigin ? { allowOrigin: options.receiver.allowOrigin } : {}),
    ...(options.receiver?.maxChunkBytes ? { maxChunkBytes: options.receiver.maxChunkBytes } : {}),
    logger,
  });
  const app = new LiveApp({
    routes: options.routes,
    secret: resolveSecret(options.secret),
    pubsub: options.pubsub,
    layout: options.layout,
    scripts: options.scripts,
    clientPath: CLIENT_PATH,
    ...(options.sessionTtlMs !== undefined ? { sessionTtlMs: options.sessionTtlMs } : {}),
    log,
    extensions: [
      uploadsExtension({
        tmpDir: ensureUploadDir,
        maxUploadChannels: options.maxUploadChannels,
        ...(options.uploadTokenTtlMs !== undefined ? { tokenTtlMs: options.uploadTokenTtlMs } : {}),
        receiver: new ReceiverLink(registry),
      }),
    ],
    channels: [uploadChannelKind],
  });
  const clientDir = toStaticDir({ root: `${clientBundlePath()}/dist`, path: '/inlet' });
  const sockets = new Set<WebSocket>();

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      logger.error({ err: e, method: req.method, route: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (receive(req, res)) return;
    if (options.handler && (await options.handler(req, res))) return;
    const secure = isSecureRequest(req, trustProxy);
    const url = new URL(req.url ?? '/', `${secure ? 'https' : 'http'}://${requestHost(req, trustProxy) ?? 'localhost'}`);
    if (await serveStatic(clientDir, url.pathname, req, res, logger)) return;
    for (const dir of staticDirs) if (await serveStatic(dir, url.pathname, req, res, logger)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('Method Not Allowed');
      return;
    }
    const cookies = readCookies(req.headers.cookie);
    let secret = cookies[CSRF_COOKIE];
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'x-content-type-options': 'nosniff' };
    if (!secret || !/^[A-Za-z0-9_-]{16,64}$/.test(secret)) {
      secret = randomBytes(18).toString('base64url');
      headers['set-cookie'] = cookieHeader(CSRF_COOKIE, secret, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    }
    const session = (await options.session?.(req)) ?? {};
    const page = await app.renderPage(url, session, app.csrfToken(secret));
    if (page.status === 404) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    if (page.status === 302) {
      res.writeHead(302, { ...headers, location: page.location }).end();
      return;
    }
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : page.html);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    perMessageDeflate: deflateOptions(options.compress),
  });
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (url.pathname !== '/live/websocket' || !originAllowed(req, options.allowedOrigins, requestHost(req, trustProxy))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const params = Object.fromEntries(url.searchParams);
      const cookies = readCookies(req.headers.cookie);
      accept(ws, params, app.csrfValid(cookies[CSRF_COOKIE], params._csrf_token));
    });
  });

  function accept(ws: WebSocket, params: Record<string, string>, csrfValid: boolean): void {
    sockets.add(ws);
    const connection = new Connection(ws, {
      router: app.channelRouter,
      params,
      csrfValid,
      maxChannels: options.maxChannels ?? DEFAULT_MAX_CHANNELS,
      ...(options.maxQueuedBytes !== undefined ? { maxQueuedBytes: options.maxQueuedBytes } : {}),
      // A client that sends faster than its channels are handled (e.g. chunks
      // without waiting for replies) is slowed down, not buffered without bound.
      onBackpressure: (paused) => (paused ? ws.pause() : ws.resume()),
      log,
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
      sockets.delete(ws);
      connection.closed();
    });
    ws.on('error', (e) => logger.warn({ err: e }, 'socket error'));
  }

  let base = '';
  return {
    app,
    http,
    receiver: registry,
    uploadTmpDir: uploadBase,
    get url() {
      return base;
    },
    async listen(port = 0, host = '127.0.0.1') {
      // Leftovers of killed processes (socket uploads and receiver parts) go before we serve.
      await sweepStaleUploadDirs(uploadBase);
      return new Promise<AddressInfo>((resolvePromise, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          const address = http.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          base = `http://${shownHost}:${address.port}`;
          resolvePromise(address);
        });
      });
    },
    close() {
      for (const ws of sockets) ws.terminate();
      void registry.close();
      wss.close();
      return new Promise((resolvePromise) => {
        http.closeAllConnections?.();
        http.close(() => resolvePromise());
      });
    },
  };
}

/** Default `threshold` of `compress`: smaller messages are sent uncompressed. */
export const DEFAULT_COMPRESS_THRESHOLD = 1024;

function deflateOptions(compress: ServerOptions['compress']): false | Record<string, unknown> {
  if (!compress) return false;
  const { threshold = DEFAULT_COMPRESS_THRESHOLD, level } = compress === true ? {} : compress;
  return { threshold, ...(level !== undefined ? { zlibDeflateOptions: { level } } : {}) };
}

function originAllowed(req: IncomingMessage, allowed: readonly string[] | undefined, host: string | undefined): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    const o = new URL(origin);
    if (o.host === req.headers.host || o.host === host) return true;
    return (allowed ?? []).includes(o.origin);
  } catch {
    return false;
  }
}

export type { Layout, LayoutContext } from '../live/app.js';
export type { StaticDir, StaticDirOption } from './static.js';
export type { TrustProxy } from './cookies.js';
