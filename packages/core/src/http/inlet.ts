/**
 * The framework-neutral core of an Inlet server: it composes the live app,
 * the uploads extension, the chunk receiver and the static folders, decides
 * which requests and upgrades are Inlet's, and answers them on Node's
 * `IncomingMessage`/`ServerResponse` (which Express, Fastify, Koa and Hono's
 * node server all expose). It never creates or listens on a server: `node/`
 * and the adapters do that.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LiveApp, type Layout } from '../live/app.js';
import { COLOCATED_CSS_PATH, COLOCATED_PATH } from '../live/colocated.js';
import type { Colocated } from '../render/colocated.js';
import { MemoryPubSub, type PubSub } from '../live/pubsub.js';
import { resolveSecret } from '../live/tokens.js';
import type { LiveView, Session } from '../live/view.js';
import { logFunction, resolveLogger, type Logger, type LogFunction, type LoggerOption } from '../logger.js';
import { ReceiverLink } from '../uploads/chunked.js';
import { uploadChannelKind, uploadsExtension } from '../uploads/extension.js';
import { DiskStore } from '../uploads/disk-store.js';
import { ResumeRegistry, type ResumeOptions } from '../uploads/resume/registry.js';
import { createReceiverHandler, type ReceiverHandlerOptions } from '../uploads/receiver/http.js';
import { SessionRegistry } from '../uploads/receiver/sessions.js';
import type { UploadStore } from '../uploads/store.js';
import type { QuotaCounter } from '../uploads/cluster/quota.js';
import type { UploadStateStore } from '../uploads/cluster/state-store.js';
import { InletOptionError } from '../options.js';
import { createUploadDir, defaultUploadTmpBase, sweepStaleUploadDirs, uploadDirPath } from '../uploads/tmp-dir.js';
import { isSecureRequest, requestHost, type TrustProxy } from './cookies.js';
import type { Schema } from '../options.js';
import { checkInletOptions } from './options.js';
import { renderPageResponse, type ErrorPage } from './page.js';
import type { RouteTarget } from '../live/router.js';
import { sendColocated } from './colocated.js';
import { findStatic, sendStatic, toStaticDir, type StaticDirOption } from './static.js';
import { SocketHub, type CompressOption } from './upgrade.js';
import { LONGPOLL_PATH, LongPollHub, type LongPollOption } from './longpoll.js';

/**
 * Where the browser bundle is served.
 *
 * @example
 * // boot scripts of your own load the bundle from where Inlet serves it
 * createServer({ routes, scripts: `<script type="module">import { connect } from '${CLIENT_PATH}'; window.liveSocket = connect()</script>` })
 */
export const CLIENT_PATH = '/inlet/inlet-client.js';
/**
 * The CSRF cookie.
 *
 * @example
 * // an app route that checks the same token as the socket
 * const token = cookie.parse(req.headers.cookie ?? '')[CSRF_COOKIE]
 */
export const CSRF_COOKIE = '_inlet_csrf';
/** The folder, inside the upload folder, of resumable uploads (kept across restarts). */
export const RESUME_DIR_NAME = 'sessions';
/**
 * The path the official client opens its WebSocket on (`/live` + `/websocket`).
 *
 * @example
 * // a proxy in front of Inlet passes WebSocket upgrades on this path
 * if (new URL(req.url ?? '/', 'http://x').pathname === SOCKET_PATH) proxy.ws(req, socket, head)
 */
export const SOCKET_PATH = '/live/websocket';

/**
 * What every way of serving Inlet accepts (`createServer`, `attach`, the adapters).
 * @example
 * const inlet = createInlet({ routes: { '/': Counter }, trustProxy: ['10.0.0.1'], compress: true })
 */
export interface InletOptions {
  /**
   * Path patterns to views, e.g. `{ '/': Home, '/users/:id': User }`; a value
   * may also be a `liveRoute(View, { action, container })`, and
   * `...liveSession(name, routes)` groups routes for live navigation.
   */
  readonly routes: Record<string, RouteTarget<LiveView<never, never>>>;
  /**
   * The body of error pages (a view threw during the HTTP render, or a
   * connected mount failed with a 4xx): `(status, error) => html`. Default:
   * the status's reason phrase, e.g. "Internal Server Error".
   */
  readonly errorPage?: ErrorPage;
  /** Signing secret (≥ 32 chars). Default `INLET_SECRET`; generated in development, required in production. */
  readonly secret?: string;
  /** Pub/sub between views. Default: in-process ({@link MemoryPubSub}). */
  readonly pubsub?: PubSub;
  /** Renders the page around a view. Default: a minimal page. */
  readonly layout?: Layout;
  /** `<script>` tags replacing the default boot script, e.g. to pass hooks or uploaders. */
  readonly scripts?: string;
  /**
   * Colocated hooks and scripts ({@link hook}, {@link clientScript}) every page
   * loads, besides those listed by the routed views' `hooks`.
   */
  readonly hooks?: readonly Colocated[];
  /**
   * Folders served as static files (checked before routes), with MIME types,
   * Range requests, ETag revalidation and Cache-Control: a path (served at
   * `/`) or `{ root, path, maxAgeMs, immutable }`.
   */
  readonly staticDirs?: readonly StaticDirOption[];
  /** Session data for a request, signed into the page and given to `mount`. Default `{}`. */
  readonly session?: (req: IncomingMessage) => Session | Promise<Session>;
  /** Largest WebSocket message. Default 9 MiB ({@link DEFAULT_MAX_FRAME_BYTES}). */
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
  /**
   * Joins that may wait, in arrival order, for a free channel once a socket
   * holds `maxChannels` (or a view `maxUploadChannels`), instead of being
   * refused with `too_many_channels`. The official client joins one upload
   * channel per file of a batch at once, so pages that take batches of more
   * than 50 files need it (e.g. 10,000). Default 0: refused at once.
   */
  readonly maxWaitingJoins?: number;
  /** Base folder for upload temp files. Default `<os tmp>/inlet-uploads`, read when the server is created. */
  readonly uploadTmpDir?: string;
  /**
   * Resumable Inlet-uploader uploads (docs/uploads.md, "Resume"): an
   * unfinished upload outlives its view, for the same browser session, config
   * and file. `{ ttlMs, maxPerBrowser, maxTotal, sweepIntervalMs, sessions }`
   * (defaults 1 hour, 32, 1,024, 1 minute, in process), or `false`. Their
   * bytes are kept in `<uploadTmpDir>/sessions`, which survives restarts.
   */
  readonly uploadResume?: false | ResumeOptions;
  /** Origins allowed to open the socket besides the server's own host. Default none. */
  readonly allowedOrigins?: readonly string[];
  /** Ms without any client message (heartbeats come every 30 s) before a socket is closed. Default 75 s. */
  readonly idleTimeoutMs?: number;
  /**
   * The long-poll transport at `/live/longpoll`, which the official client
   * falls back to when WebSockets fail: on (default), `false`, or
   * `{ windowMs, maxSessions }` (how long a poll waits for messages, default
   * 10 s; sessions at once, default 10,000). See docs/long-polling.md.
   */
  readonly longPoll?: LongPollOption;
  /** The built-in resumable chunk receiver (`chunkedUpload()`). */
  readonly receiver?: {
    /** Default store. Default: local disk inside the upload temp folder. */
    readonly store?: UploadStore;
    /** Path prefix. Default `/_inlet/uploads`. */
    readonly basePath?: string;
    /** Idle session lifetime in ms. Default 15 minutes. */
    readonly ttlMs?: number;
    /** Sweeper period in ms. Default 30 s. */
    readonly sweepIntervalMs?: number;
    /**
     * Where sessions live. Default: this process. A shared store
     * (`RedisUploadStateStore` from `@inletjs/redis`) lets every node take
     * any chunk of any upload; it needs a shared `store` (S3) and a shared
     * `pubsub` (docs/deployment.md).
     */
    readonly states?: UploadStateStore;
    /** Counter for bytes past a session's quota reservation; the same on every node (`RedisQuotaCounter`). */
    readonly quota?: QuotaCounter;
    /** Lease per chunk in ms. Default 5 s on shared states. */
    readonly leaseMs?: number;
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
  readonly compress?: CompressOption;
}

/**
 * Per-request input an adapter may give, e.g. a session it read from its framework's request.
 *
 * @example
 * // an adapter hands Inlet the session its framework already read
 * await inlet.handleRequest(req, res, { session: () => ({ userId: req.user.id }) })
 */
export interface RequestContext {
  /** Returns the session for this request instead of the `session` option. */
  readonly session?: () => Session | Promise<Session>;
}

/**
 * Answers one request that {@link Inlet.route} claimed.
 *
 * @example
 * const respond: Responder | undefined = await inlet.route(req)
 * if (respond) await respond(res); else next()
 */
export type Responder = (res: ServerResponse) => Promise<void>;

/**
 * One Inlet app, ready to be mounted: `createServer`, `attach` and every
 * framework adapter are thin layers over this.
 *
 * @example
 * const inlet = createInlet({ routes: { '/': Counter } })
 * http.createServer(async (req, res) => { if (!(await inlet.handleRequest(req, res))) res.writeHead(404).end() })
 *   .on('upgrade', (req, socket, head) => inlet.handleUpgrade(req, socket, head))
 */
export interface Inlet {
  readonly app: LiveApp;
  /** The built-in resumable receiver's sessions. */
  readonly receiver: SessionRegistry;
  /** The base folder of upload temp files (as it was when Inlet was created). */
  readonly uploadTmpDir: string;
  readonly logger: Logger;
  /**
   * Decides whether `req` is Inlet's (receiver, client bundle, static file,
   * live route) and returns what answers it, or undefined to pass it on.
   * Nothing is written before the responder runs.
   */
  route(req: IncomingMessage, context?: RequestContext): Promise<Responder | undefined>;
  /** {@link route}, then answers: resolves true when Inlet answered, false to pass the request on. */
  handleRequest(req: IncomingMessage, res: ServerResponse, context?: RequestContext): Promise<boolean>;
  /** Whether an upgrade request is for Inlet's socket path. */
  isUpgrade(req: IncomingMessage): boolean;
  /**
   * Takes an `upgrade` for Inlet's socket path (refusing a foreign origin
   * with 403) and returns true; returns false for other paths, untouched.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Removes upload leftovers of dead processes. Call before serving (listen does). */
  start(): Promise<void>;
  /** Ends every socket, the receiver's sweeper and the WebSocket server. */
  close(): Promise<void>;
}

/**
 * Something that emits `upgrade` (an `http.Server`, Fastify's `server`…).
 *
 * @example
 * const source: UpgradeSource = fastify.server
 * const stop = listenForUpgrades(source, inlet)
 */
export interface UpgradeSource {
  on(event: 'upgrade', listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  off(event: 'upgrade', listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  listenerCount(event: 'upgrade'): number;
}

/**
 * Listens for upgrades on `server`: Inlet's socket path is Inlet's; any other
 * path is left to the server's other upgrade listeners, or refused with 404
 * when there are none (so the socket does not hang). Returns the function
 * that stops listening.
 *
 * @example
 * const stop = listenForUpgrades(server, inlet)
 */
export function listenForUpgrades(server: UpgradeSource, inlet: Pick<Inlet, 'handleUpgrade'>): () => void {
  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (inlet.handleUpgrade(req, socket, head)) return;
    if (server.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };
  server.on('upgrade', listener);
  return () => void server.off('upgrade', listener);
}

function clientBundleDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@inletjs/client/package.json')), 'dist');
}

/**
 * The request's URL as the browser saw it (scheme and host from a trusted proxy).
 * @example
 * requestUrl(req, ['10.0.0.1']).origin // 'https://app.example.com' behind a TLS proxy at 10.0.0.1
 */
export function requestUrl(req: IncomingMessage, trustProxy: TrustProxy): URL {
  const secure = isSecureRequest(req, trustProxy);
  return new URL(req.url ?? '/', `${secure ? 'https' : 'http'}://${requestHost(req, trustProxy) ?? 'localhost'}`);
}

function whenAnswered(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', () => resolve());
    res.once('close', () => resolve());
  });
}

/**
 * Creates the framework-neutral core from options (all checked now: a bad
 * one throws `INLET_ERR_CONFIG_OPTION` naming it).
 *
 * @example
 * const inlet = createInlet({ routes: { '/': Counter }, logger: pino() })
 *
 * `extraOptions` lets a caller accept its own options next to Inlet's (they
 * are checked, and not refused as unknown).
 */
export function createInlet(options: InletOptions, extraOptions: Schema = {}): Inlet {
  checkInletOptions(options, extraOptions);
  const logger = resolveLogger(options);
  const trustProxy = options.trustProxy ?? false;
  const staticDirs = (options.staticDirs ?? []).map(toStaticDir);
  const clientDir = toStaticDir({ root: clientBundleDir(), path: '/inlet' });
  const uploadBase = options.uploadTmpDir ?? defaultUploadTmpBase();
  const uploadDirName = uploadDirPath(uploadBase);
  let uploadDir: Promise<string> | undefined;
  const ensureUploadDir = () => (uploadDir ??= createUploadDir(uploadBase, uploadDirName));
  let socketStore: Promise<DiskStore> | undefined;
  const states = options.receiver?.states;
  if (states?.shared === true && !options.receiver?.store) {
    throw new InletOptionError('receiver.store', 'is needed when receiver.states is shared: the default store is this node\'s disk, which other nodes cannot read. Use a shared store such as S3MultipartStore from @inletjs/s3.');
  }
  if (states?.shared === true && !options.pubsub) {
    throw new InletOptionError('pubsub', 'is needed when receiver.states is shared: upload events must reach the node holding the view. Use a shared one such as RedisPubSub from @inletjs/redis.');
  }
  let resumeStore: DiskStore | undefined;
  const resume =
    options.uploadResume === false
      ? undefined
      : new ResumeRegistry({
          ...options.uploadResume,
          defaultStore: async () => (resumeStore ??= new DiskStore({ dir: join(uploadBase, RESUME_DIR_NAME) })),
          log: logFunction(logger),
        });
  const registry = new SessionRegistry({
    store: options.receiver?.store ?? new DiskStore({ dir: join(uploadDirName, 'receiver'), fsync: true }),
    ...(states ? { states } : {}),
    ...(options.pubsub ? { pubsub: options.pubsub } : {}),
    ...(options.receiver?.quota ? { quota: options.receiver.quota } : {}),
    ...(options.receiver?.leaseMs !== undefined ? { leaseMs: options.receiver.leaseMs } : {}),
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
  const receiverPrefix = `${registry.basePath}/`;
  const app = new LiveApp({
    routes: options.routes,
    secret: resolveSecret(options.secret),
    pubsub: options.pubsub ?? new MemoryPubSub({ logger }),
    layout: options.layout,
    scripts: options.scripts,
    ...(options.hooks ? { hooks: options.hooks } : {}),
    clientPath: CLIENT_PATH,
    ...(options.sessionTtlMs !== undefined ? { sessionTtlMs: options.sessionTtlMs } : {}),
    logger,
    extensions: [
      uploadsExtension({
        defaultStore: () => (socketStore ??= ensureUploadDir().then((dir) => new DiskStore({ dir }))),
        maxUploadChannels: options.maxUploadChannels,
        waitForChannels: (options.maxWaitingJoins ?? 0) > 0,
        ...(options.uploadTokenTtlMs !== undefined ? { tokenTtlMs: options.uploadTokenTtlMs } : {}),
        receiver: new ReceiverLink(registry),
        ...(resume ? { resume } : {}),
      }),
    ],
    channels: [uploadChannelKind],
  });
  const socketOptions = {
    csrfCookie: CSRF_COOKIE,
    trustProxy,
    allowedOrigins: options.allowedOrigins ?? [],
    maxFrameBytes: options.maxFrameBytes,
    maxChannels: options.maxChannels,
    maxWaitingJoins: options.maxWaitingJoins,
    maxQueuedBytes: options.maxQueuedBytes,
    idleTimeoutMs: options.idleTimeoutMs,
    compress: options.compress,
  };
  const sockets = new SocketHub(app, logger, socketOptions);
  const longPoll = options.longPoll === false ? undefined : new LongPollHub(app, logger, socketOptions, options.longPoll);

  async function route(req: IncomingMessage, context: RequestContext = {}): Promise<Responder | undefined> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (path.startsWith(receiverPrefix)) {
      return async (res) => {
        receive(req, res);
        await whenAnswered(res);
      };
    }
    if (path === LONGPOLL_PATH && longPoll) return (res) => longPoll.handle(req, res);
    if ((path === COLOCATED_PATH || path === COLOCATED_CSS_PATH) && (req.method === 'GET' || req.method === 'HEAD')) {
      return (res) => sendColocated(app.colocated, req, res, path === COLOCATED_CSS_PATH);
    }
    const url = requestUrl(req, trustProxy);
    const hit = await findStatic([clientDir, ...staticDirs], url.pathname, req.method);
    if (hit) return (res) => sendStatic(hit, req, res, logger);
    if (!app.router.match(url.pathname)) return undefined;
    return (res) =>
      renderPageResponse(app, req, res, {
        url,
        secure: url.protocol === 'https:',
        csrfCookie: CSRF_COOKIE,
        session: context.session ?? (() => options.session?.(req) ?? {}),
        ...(options.errorPage ? { errorPage: options.errorPage } : {}),
      });
  }

  return {
    app,
    receiver: registry,
    uploadTmpDir: uploadBase,
    logger,
    route,
    async handleRequest(req, res, context) {
      const responder = await route(req, context);
      if (!responder) return false;
      await responder(res);
      return true;
    },
    isUpgrade: (req) => (req.url ?? '').split('?', 1)[0] === SOCKET_PATH,
    handleUpgrade(req, socket, head) {
      if ((req.url ?? '').split('?', 1)[0] !== SOCKET_PATH) return false;
      sockets.upgrade(req, socket, head);
      return true;
    },
    async start() {
      // Leftovers of killed processes (socket uploads and receiver parts) go before we serve;
      // resumable sessions are kept (those not expired) for their claims.
      await sweepStaleUploadDirs(uploadBase);
      await registry.start();
      await resume?.start();
    },
    async close() {
      longPoll?.close();
      await sockets.close();
      await registry.close();
      resume?.close();
    },
  };
}
