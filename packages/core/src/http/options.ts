/**
 * The checks behind `createServer`, `attach` and the adapters: every option,
 * nested ones included, is validated when Inlet is created, and a bad one
 * throws `INLET_ERR_CONFIG_OPTION` naming it.
 */
import { LOG_LEVELS } from '../logger.js';
import { isLiveRoute } from '../live/router.js';
import { ColocatedHook, ColocatedScript, ColocatedStyle } from '../render/colocated.js';
import { uploadStoreCheck } from '../uploads/store.js';
import {
  boolean,
  checkOptions,
  either,
  func,
  implementing,
  InletOptionError,
  integer,
  list,
  object,
  oneOf,
  record,
  string,
  anyString,
  type Check,
  type Schema,
} from '../options.js';

/** Largest value a timer takes (about 24.8 days); longer ms options are refused. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const ms = integer(1, MAX_TIMER_MS);

const view: Check = (value, path) => {
  const target = isLiveRoute<unknown>(value) ? value.view : value;
  if (typeof target !== 'object' || target === null || typeof (target as { render?: unknown }).render !== 'function') {
    throw new InletOptionError(path, 'must be a view made with createLiveView(), or a liveRoute() of one.');
  }
};

const origin: Check = (value, path) => {
  string()(value, path);
  let parsed: URL;
  try {
    parsed = new URL(value as string);
  } catch {
    throw new InletOptionError(path, `must be an origin such as "https://example.com", got ${JSON.stringify(value)}.`);
  }
  if (parsed.origin !== value) throw new InletOptionError(path, `must be an origin such as "https://example.com" (scheme and host, no path), got ${JSON.stringify(value)}.`);
};

const logger: Check = either(
  `a level (${Object.keys(LOG_LEVELS).join(', ')}), false, or a logger with error, warn, info and debug methods`,
  oneOf(...Object.keys(LOG_LEVELS), false),
  implementing('a logger', 'error', 'warn', 'info', 'debug'),
);

const staticDir: Check = either(
  'a folder path, or { root, path?, maxAgeMs?, immutable? }',
  string(),
  object({ root: string(), path: string(/^\/[^?#]*$/, 'a URL path starting with "/"'), maxAgeMs: integer(0), immutable: boolean }),
);

/**
 * Each option's check, for every way of serving Inlet.
 *
 * @example
 * Object.keys(INLET_OPTIONS_SCHEMA) // ['routes', 'secret', 'pubsub', …]: the options every way of serving Inlet knows
 * INLET_OPTIONS_SCHEMA.maxChannels?.(-5, 'maxChannels') // throws: maxChannels must be an integer from 1 to 100000, got -5.
 */
export const INLET_OPTIONS_SCHEMA: Schema = {
  routes: (value, path) => {
    record(view, 'an object of path patterns to views, e.g. { "/": Home }')(value, path);
    if (Object.keys(value as object).length === 0) throw new InletOptionError(path, 'must name at least one route.');
  },
  secret: string(),
  pubsub: implementing('a PubSub', 'subscribe', 'broadcast'),
  layout: func,
  errorPage: func,
  scripts: anyString,
  hooks: list((value, path) => {
    if (!(value instanceof ColocatedHook) && !(value instanceof ColocatedScript) && !(value instanceof ColocatedStyle)) {
      throw new InletOptionError(path, 'must be made with hook(), clientScript() or clientStyle().');
    }
  }, 'a list of hooks'),
  staticDirs: list(staticDir, 'a list of folders (a single folder goes in a list: ["public"])'),
  session: func,
  maxFrameBytes: integer(1024, 2 ** 31 - 1),
  maxChannels: integer(1, 100_000),
  maxQueuedBytes: integer(1024),
  sessionTtlMs: ms,
  uploadTokenTtlMs: ms,
  maxUploadChannels: integer(1, 100_000),
  maxWaitingJoins: integer(0, 100_000),
  uploadTmpDir: string(),
  uploadResume: either(
    'false or { ttlMs?, maxPerBrowser?, maxTotal?, sweepIntervalMs?, sessions? }',
    (value, path) => {
      if (value !== false) throw new InletOptionError(path, 'must be false or an object.');
    },
    object({
      ttlMs: ms,
      maxPerBrowser: integer(1, 1_000_000),
      maxTotal: integer(1, 100_000_000),
      sweepIntervalMs: integer(0, MAX_TIMER_MS),
      sessions: implementing('a ResumeSessionStore', 'add', 'claim', 'park', 'get', 'remove', 'expire'),
    }),
  ),
  allowedOrigins: list(origin, 'a list of origins'),
  idleTimeoutMs: ms,
  trustProxy: either('true, false, or a list of proxy IP addresses', boolean, list(string())),
  compress: either('true, false, or { threshold?, level? }', boolean, object({ threshold: integer(0), level: integer(0, 9) })),
  longPoll: either('true, false, or { windowMs?, maxSessions? }', boolean, object({ windowMs: integer(100, MAX_TIMER_MS), maxSessions: integer(1) })),
  receiver: object({
    store: uploadStoreCheck,
    basePath: string(/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/, 'a path like "/_inlet/uploads" (no trailing "/")'),
    ttlMs: ms,
    sweepIntervalMs: integer(0, MAX_TIMER_MS),
    allowOrigin: either('"*", an origin, or a list of origins', oneOf('*'), origin, list(origin)),
    maxChunkBytes: integer(1),
    states: implementing('an UploadStateStore', 'create', 'get', 'claim', 'renew', 'commit', 'release', 'end', 'expired'),
    quota: implementing('a QuotaCounter', 'reserve', 'release', 'usage'),
    leaseMs: ms,
  }),
  logger,
  log: func,
};

/**
 * Validates Inlet's options (plus the `extra` ones of the caller, such as
 * `createServer`'s `handler`); throws `InletOptionError`
 * (`INLET_ERR_CONFIG_OPTION`) naming the first bad one.
 *
 * @example
 * checkInletOptions({ routes, maxChannels: -5 }) // throws: maxChannels must be an integer from 1 to 100000, got -5.
 */
export function checkInletOptions(options: unknown, extra: Schema = {}): void {
  if (typeof options !== 'object' || options === null) throw new InletOptionError('options', 'must be an object with at least `routes`.');
  if ((options as { routes?: unknown }).routes === undefined) throw new InletOptionError('routes', 'is required, e.g. { "/": Home }.');
  checkOptions(options, { ...INLET_OPTIONS_SCHEMA, ...extra });
}
