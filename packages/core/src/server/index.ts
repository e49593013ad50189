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
import { createUploadDir, DEFAULT_UPLOAD_TMP_BASE, sweepStaleUploadDirs, uploadDirPath } from '../uploads/tmp-dir.js';
import { ReceiverLink } from '../uploads/chunked.js';
import { uploadChannelKind, uploadsExtension } from '../uploads/extension.js';
import { DiskChunkStore } from '../uploads/receiver/disk-store.js';
import { createReceiverHandler, type ReceiverHandlerOptions } from '../uploads/receiver/http.js';
import { SessionRegistry } from '../uploads/receiver/sessions.js';
import type { ChunkStore } from '../uploads/receiver/store.js';
import { join } from 'node:path';
import { parseCookies, serveStatic } from './http-util.js';

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
  /** Folders served as static files at `/` (checked before routes). */
  readonly staticDirs?: readonly string[];
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
  readonly log?: (message: string, error?: unknown) => void;
}

export interface InletServer {
  readonly app: LiveApp;
  /** The built-in resumable receiver's sessions. */
  readonly receiver: SessionRegistry;
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
  const log = options.log ?? ((m: string, e?: unknown) => console.error(`[inlet] ${m}`, e ?? ''));
  const uploadBase = options.uploadTmpDir ?? DEFAULT_UPLOAD_TMP_BASE;
  const uploadDirName = uploadDirPath(uploadBase);
  let uploadDir: Promise<string> | undefined;
  const ensureUploadDir = () => (uploadDir ??= createUploadDir(uploadBase, uploadDirName));
  const registry = new SessionRegistry({
    store: options.receiver?.store ?? new DiskChunkStore({ dir: join(uploadDirName, 'receiver') }),
    ...(options.receiver?.basePath ? { basePath: options.receiver.basePath } : {}),
    ...(options.receiver?.ttlMs !== undefined ? { ttlMs: options.receiver.ttlMs } : {}),
    ...(options.receiver?.sweepIntervalMs !== undefined ? { sweepIntervalMs: options.receiver.sweepIntervalMs } : {}),
  });
  const receive = createReceiverHandler(registry, {
    ...(options.receiver?.allowOrigin ? { allowOrigin: options.receiver.allowOrigin } : {}),
    ...(options.receiver?.maxChunkBytes ? { maxChunkBytes: options.receiver.maxChunkBytes } : {}),
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
  const clientRoot = `${clientBundlePath()}/dist`;
  const sockets = new Set<WebSocket>();

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`request ${req.method} ${req.url} failed`, e);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (receive(req, res)) return;
    if (options.handler && (await options.handler(req, res))) return;
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (url.pathname.startsWith('/inlet/') && (await serveStatic(clientRoot, url.pathname.slice('/inlet'.length), req, res))) return;
    for (const dir of options.staticDirs ?? []) if (await serveStatic(dir, url.pathname, req, res)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('Method Not Allowed');
      return;
    }
    const cookies = parseCookies(req.headers.cookie);
    let secret = cookies[CSRF_COOKIE];
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'x-content-type-options': 'nosniff' };
    if (!secret || !/^[A-Za-z0-9_-]{16,64}$/.test(secret)) {
      secret = randomBytes(18).toString('base64url');
      headers['set-cookie'] = `${CSRF_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Lax`;
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

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES });
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (url.pathname !== '/live/websocket' || !originAllowed(req, options.allowedOrigins)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const params = Object.fromEntries(url.searchParams);
      const cookies = parseCookies(req.headers.cookie);
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
    ws.on('error', (e) => log('socket error', e));
  }

  let base = '';
  return {
    app,
    http,
    receiver: registry,
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

function originAllowed(req: IncomingMessage, allowed: readonly string[] | undefined): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    const o = new URL(origin);
    if (o.host === req.headers.host) return true;
    return (allowed ?? []).includes(o.origin);
  } catch {
    return false;
  }
}

export type { Layout, LayoutContext } from '../live/app.js';
