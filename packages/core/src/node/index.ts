/**
 * `inletjs/node`: Inlet on node:http. `createServer` makes a server of its
 * own; `attach` mounts Inlet on an `http.Server` (or `https.Server`) the app
 * already has. This is the only module that creates servers.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveApp } from '../live/app.js';
import { func } from '../options.js';
import type { SessionRegistry } from '../uploads/receiver/sessions.js';
import { createInlet, listenForUpgrades, type Inlet, type InletOptions } from '../http/inlet.js';

/**
 * Options of {@link createServer}: Inlet's, plus `handler` for the app's own routes.
 * @example
 * const options: ServerOptions = { routes: { '/': Counter }, secret: process.env.SECRET, staticDirs: ['public'], logger: pino() }
 * createServer(options).listen(3000)
 */
export interface ServerOptions extends InletOptions {
  /**
   * The app's own HTTP handling: tried after the upload receiver and before
   * the client bundle, static files and views. Return true when handled.
   */
  readonly handler?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

/**
 * A running (or ready to run) Inlet server.
 *
 * @example
 * const server = createServer({ routes })
 * await server.listen(4000)
 * console.log(server.url)
 */
export interface InletServer {
  readonly app: LiveApp;
  /** The framework-neutral core, for mounting the same app elsewhere too. */
  readonly inlet: Inlet;
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

function answer500(inlet: Inlet, req: IncomingMessage, res: ServerResponse, e: unknown): void {
  inlet.logger.error({ err: e, method: req.method, route: req.url }, 'request failed');
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('Internal Server Error');
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
}

/**
 * Creates a server for the given routes. Every option is checked now; a bad
 * one throws `INLET_ERR_CONFIG_OPTION` naming it.
 *
 * @example
 * const server = createServer({ routes: { '/': Counter } })
 * await server.listen(4000)
 */
export function createServer(options: ServerOptions): InletServer {
  const inlet = createInlet(options, { handler: func });
  const handler = options.handler;
  const receiverPrefix = `${inlet.receiver.basePath}/`;
  const http = createHttpServer((req, res) => {
    const handle = async (): Promise<void> => {
      if (handler && !(req.url ?? '').startsWith(receiverPrefix) && (await handler(req, res))) return;
      if (!(await inlet.handleRequest(req, res))) notFound(res);
    };
    handle().catch((e: unknown) => answer500(inlet, req, res, e));
  });
  listenForUpgrades(http, inlet);
  let base = '';
  return {
    app: inlet.app,
    inlet,
    http,
    receiver: inlet.receiver,
    uploadTmpDir: inlet.uploadTmpDir,
    get url() {
      return base;
    },
    async listen(port = 0, host = '127.0.0.1') {
      await inlet.start();
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
    async close() {
      await inlet.close();
      await new Promise<void>((resolvePromise) => {
        http.closeAllConnections?.();
        http.close(() => resolvePromise());
      });
    },
  };
}

/**
 * What {@link attach} returns: the core, and a way to take Inlet off the server again.
 *
 * @example
 * const attached: AttachedInlet = attach(server, { routes: { '/live/counter': Counter } })
 * // later: Inlet's sockets end and the server's own listeners come back
 * await attached.detach()
 */
export interface AttachedInlet {
  readonly inlet: Inlet;
  readonly app: LiveApp;
  readonly receiver: SessionRegistry;
  /** Ends Inlet's sockets and gives the server back its own listeners. The server keeps running. */
  detach(): Promise<void>;
}

/**
 * Mounts Inlet on a server the app already has: Inlet answers its own
 * requests (receiver, client bundle, static folders, live routes) and the
 * socket upgrade; everything else reaches the server's own `request`
 * listeners as before (or a 404 when there are none). Other upgrade
 * listeners keep their paths.
 *
 * @example
 * const server = http.createServer(myApp)
 * const inlet = attach(server, { routes: { '/live/counter': Counter } })
 * server.listen(3000)
 */
export function attach(server: Server, options: InletOptions): AttachedInlet {
  const inlet = createInlet(options);
  const own = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const request = (req: IncomingMessage, res: ServerResponse): void => {
    inlet
      .handleRequest(req, res)
      .then((handled) => {
        if (handled) return;
        if (own.length === 0) notFound(res);
        for (const listener of own) listener.call(server, req, res);
      })
      .catch((e: unknown) => answer500(inlet, req, res, e));
  };
  server.on('request', request);
  const stopUpgrades = listenForUpgrades(server, inlet);
  const started = inlet.start().catch((err: unknown) => inlet.logger.error({ err }, 'could not sweep old upload folders'));
  return {
    inlet,
    app: inlet.app,
    receiver: inlet.receiver,
    async detach() {
      await started;
      server.off('request', request);
      stopUpgrades();
      for (const listener of own) server.on('request', listener);
      await inlet.close();
    },
  };
}

export { createInlet, type Inlet, type InletOptions, type RequestContext, type Responder } from '../http/inlet.js';
export { CLIENT_PATH, CSRF_COOKIE, SOCKET_PATH } from '../http/inlet.js';
export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_COMPRESS_THRESHOLD, type CompressOption } from '../http/upgrade.js';
export type { Layout, LayoutContext } from '../live/app.js';
export type { StaticDir, StaticDirOption } from '../http/static.js';
export type { TrustProxy } from '../http/cookies.js';
