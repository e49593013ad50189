/**
 * Inlet's one logging path. Library code never writes to the console: it
 * calls a {@link Logger}, whose shape is pino's (`logger.error(obj, msg)`,
 * `child(bindings)`), so a pino or bunyan logger can be passed as is. The
 * default writes one line per record to stderr at `warn` and above.
 *
 * Records carry context as fields: `view` (view id), `route`, `event`,
 * `upload` (config name), `ref` (entry ref), `topic`, and `err` for the error.
 */

/**
 * Levels, most severe first, with pino's numeric values.
 *
 * @example
 * // is `debug` logged at the level the app chose?
 * const logsDebug = LOG_LEVELS.debug >= LOG_LEVELS[level]
 */
export const LOG_LEVELS = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 } as const;

/**
 * A level name.
 *
 * @example
 * const level: LogLevel = process.env.NODE_ENV === 'production' ? 'warn' : 'debug'
 * createServer({ routes, logger: level })
 */
export type LogLevel = keyof typeof LOG_LEVELS;

/**
 * The default level of the built-in logger.
 *
 * @example
 * createServer({ routes, logger: process.env.LOG_LEVEL === 'debug' ? 'debug' : DEFAULT_LOG_LEVEL })
 */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

/**
 * Context fields of a record (`err` holds the error, as pino's serializers expect).
 *
 * @example
 * const context: LogContext = { view: 'phx-F1', event: 'save', err: error }
 * logger.error(context, 'save failed')
 */
export interface LogContext {
  readonly err?: unknown;
  readonly view?: string;
  readonly route?: string;
  readonly event?: string;
  readonly upload?: string;
  readonly ref?: string;
  readonly topic?: string;
  readonly [field: string]: unknown;
}

/**
 * One level's method: pino's `(obj, msg)` form, which is the form Inlet calls.
 *
 * @example
 * const warn: LogMethod = (context, message) => console.warn(message, context.view ?? '', context.err ?? '')
 * createServer({ routes, logger: { error: warn, warn, info() {}, debug() {} } })
 */
export type LogMethod = (context: LogContext, message: string) => void;

/**
 * What Inlet logs through. A pino logger fits, as do bunyan's and most
 * structured loggers; so does a plain object of four functions.
 *
 * @example
 * import pino from 'pino'
 * createServer({ routes, logger: pino({ level: 'info' }) })
 * @example
 * createServer({ routes, logger: { error: (ctx, msg) => report(msg, ctx.err), warn() {}, info() {}, debug() {} } })
 */
export interface Logger {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  /** A logger that adds `bindings` to every record (pino's `child`). Optional. */
  child?(bindings: Record<string, unknown>): Logger;
}

/**
 * The `logger` option: a logger, a level for the built-in one, or `false` for silence.
 *
 * @example
 * const logger: LoggerOption = process.env.CI ? false : 'info'
 * createServer({ routes, logger })
 */
export type LoggerOption = Logger | LogLevel | false;

/**
 * The old `log(message, error)` callback, still accepted as `log`.
 *
 * @example
 * const log: LogFunction = (message, error) => console.error('[inlet]', message, error ?? '')
 * createServer({ routes, log })
 */
export type LogFunction = (message: string, error?: unknown) => void;

/** Where the built-in logger writes; default `process.stderr`. */
export interface LogSink {
  write(line: string): unknown;
}

/**
 * A logger that drops everything.
 *
 * @example
 * createServer({ routes, logger: silentLogger }) // the same as logger: false
 */
export const silentLogger: Logger = Object.freeze({ error() {}, warn() {}, info() {}, debug() {}, child: () => silentLogger });

function formatError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.stack ?? `${err.name}: ${err.message}`}${typeof code === 'string' && !String(err.stack).includes(code) ? ` (${code})` : ''}`;
  }
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w./:@-]+$/.test(value) ? value : JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `key=value` pairs of the fields that are set, space-separated. */
function formatFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
}

/**
 * The built-in logger: `[inlet] LEVEL message key=value …`, then the error's
 * stack, one record per write to `sink`.
 *
 * @example
 * const logger = createLogger('debug')
 * logger.warn({ view: 'phx-1' }, 'slow render') // [inlet] WARN slow render view=phx-1
 */
export function createLogger(level: LogLevel = DEFAULT_LOG_LEVEL, sink: LogSink = process.stderr, bindings: Record<string, unknown> = {}): Logger {
  const threshold = LOG_LEVELS[level];
  const method =
    (name: LogLevel): LogMethod =>
    (context, message) => {
      if (LOG_LEVELS[name] < threshold) return;
      const { err, ...fields } = { ...bindings, ...context };
      const pairs = formatFields(fields);
      sink.write(`[inlet] ${name.toUpperCase()} ${message}${pairs ? ` ${pairs}` : ''}${err !== undefined ? `\n${formatError(err)}` : ''}\n`);
    };
  return {
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    child: (more) => createLogger(level, sink, { ...bindings, ...more }),
  };
}

/**
 * Wraps an old-style `log(message, error)` callback: errors and warnings
 * reach it, with the record's fields after the message (`view crashed
 * view=phx-1 event=inc`); info and debug records do not.
 *
 * @example
 * const logger = fromLogFunction((m, e) => myLog(m, e))
 */
export function fromLogFunction(log: LogFunction): Logger {
  const call: LogMethod = (context, message) => {
    const { err, ...fields } = context;
    const pairs = formatFields(fields);
    const text = pairs ? `${message} ${pairs}` : message;
    if (err === undefined) log(text);
    else log(text, err);
  };
  const logger: Logger = { error: call, warn: call, info() {}, debug() {}, child: (bindings) => childLogger({ error: call, warn: call, info() {}, debug() {} }, bindings) };
  return logger;
}

/**
 * The logger for the `logger` and `log` options: `logger` wins; a level
 * gives the built-in logger at that level; `false` is silent; by default the
 * built-in logger at {@link DEFAULT_LOG_LEVEL}.
 *
 * @example
 * resolveLogger({ logger: 'debug' })
 */
export function resolveLogger(options: { readonly logger?: LoggerOption; readonly log?: LogFunction }): Logger {
  const { logger, log } = options;
  if (logger === false) return silentLogger;
  if (typeof logger === 'string') return createLogger(logger);
  if (logger) return logger;
  if (log) return fromLogFunction(log);
  return createLogger();
}

/**
 * A child of `logger` with `bindings`, through its own `child` when it has
 * one, else by merging the bindings into every record.
 *
 * @example
 * const viewLog = childLogger(logger, { view: 'phx-1' })
 */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (typeof logger.child === 'function') return logger.child(bindings);
  const wrap =
    (m: LogMethod): LogMethod =>
    (context, message) =>
      m.call(logger, { ...bindings, ...context }, message);
  return { error: wrap(logger.error), warn: wrap(logger.warn), info: wrap(logger.info), debug: wrap(logger.debug) };
}

/**
 * The `(message, error)` function some internal code takes, writing through
 * `logger.error` with the error as `err` and `context` as fields.
 *
 * @example
 * const log = logFunction(logger, { upload: 'avatar' }); log('abort failed', e)
 */
export function logFunction(logger: Logger, context: LogContext = {}): LogFunction {
  return (message, error) => logger.error(error === undefined ? context : { ...context, err: error }, message);
}
