/**
 * `inletjs/http`: the framework-neutral core that `inletjs/node` and the
 * framework adapters (`@inletjs/express`, `@inletjs/fastify`,
 * `@inletjs/hono`, `@inletjs/koa`) are built on. It decides which requests
 * and upgrades are Inlet's and answers them; it never creates a server.
 *
 * @example
 * import { createInlet } from 'inletjs/http'
 * const inlet = createInlet({ routes })
 * app.use(async (req, res, next) => ((await inlet.handleRequest(req, res)) ? undefined : next()))
 * server.on('upgrade', (req, socket, head) => inlet.handleUpgrade(req, socket, head))
 */
export {
  createInlet,
  requestUrl,
  listenForUpgrades,
  type UpgradeSource,
  CLIENT_PATH,
  CSRF_COOKIE,
  SOCKET_PATH,
  type Inlet,
  type InletOptions,
  type RequestContext,
  type Responder,
} from './inlet.js';
export { checkInletOptions, INLET_OPTIONS_SCHEMA } from './options.js';
export { DEFAULT_MAX_FRAME_BYTES, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_COMPRESS_THRESHOLD, type CompressOption } from './upgrade.js';
export { DEFAULT_STATIC_MAX_AGE_MS, type StaticDir, type StaticDirOption } from './static.js';
export type { TrustProxy } from './cookies.js';
export { InletOptionError, func, string, integer, boolean, object, type Check, type Schema } from '../options.js';
