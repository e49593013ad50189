/**
 * The HTTP face of the chunk receiver, for `node:http` servers. It speaks the
 * "one request per chunk, `Content-Range: bytes s-e/T`" protocol UpChunk and
 * other GCS-style resumable clients use: 308 with `Range` while incomplete
 * (never with `Location`, which a browser would follow), 201 when complete,
 * 503 for a retryable storage failure, and a precise 4xx for every mistake.
 */
import { TRACING, type ReceiverRequestContext } from '../../telemetry/channels.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InletError } from '../../errors.js';
import { createLogger, type Logger } from '../../logger.js';
import { declaredLength, parseContentLength, parseContentRange, rangeHeader } from './content-range.js';
import type { ChunkOutcome, SessionRegistry } from './sessions.js';
import type { ChunkBody } from '../store.js';

/** Largest chunk accepted by default: UpChunk's own maximum (512000 KiB). */
export const DEFAULT_MAX_CHUNK_BYTES = 512_000 * 1024;
/** How long browsers may cache a preflight answer, in seconds. */
export const DEFAULT_CORS_MAX_AGE_S = 600;
/** Seconds a client is asked to wait after a 503. */
export const RETRY_AFTER_S = 1;
/** Longest `Access-Control-Request-Headers` value echoed in a preflight. */
const MAX_REQUEST_HEADERS_ECHO = 1024;
const TOKEN_RE = /^[A-Za-z0-9_-]{1,128}$/;
const HEADER_LIST_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
const UPLOAD_METHODS = new Set(['PUT', 'PATCH', 'POST']);
const ALLOW = 'OPTIONS, PATCH, POST, PUT';
const DEFAULT_ALLOWED_HEADERS = 'Content-Range, Content-Type';

/**
 * The `error` values of the receiver's JSON error bodies (its wire vocabulary).
 *
 * @example
 * if (body.error === RECEIVER_ERRORS.tooLarge) showTooLarge(body.maxSize);
 */
export const RECEIVER_ERRORS = {
  notFound: 'not_found',
  gone: 'gone',
  methodNotAllowed: 'method_not_allowed',
  rangeInvalid: 'range_invalid',
  lengthMismatch: 'length_mismatch',
  bodyTooLong: 'body_too_long',
  totalMismatch: 'total_mismatch',
  tooLarge: 'too_large',
  chunkTooLarge: 'chunk_too_large',
  gap: 'gap',
  rejected: 'rejected',
  notAccepted: 'not_accepted',
  unavailable: 'unavailable',
  busy: 'busy',
  quotaExceeded: 'quota_exceeded',
  writerError: 'writer_error',
} as const;

/** Options of {@link createReceiverHandler}. */
export interface ReceiverHandlerOptions {
  /** Path prefix served; default: the registry's `basePath` (`/_inlet/uploads`). */
  basePath?: string;
  /**
   * Origins allowed to upload cross-origin: `'*'`, one origin, or a list.
   * Default: none (same-origin only; preflights get no CORS headers).
   */
  allowOrigin?: string | readonly string[];
  /** Largest `e - s + 1` accepted; larger chunks answer 413. Default {@link DEFAULT_MAX_CHUNK_BYTES}. */
  maxChunkBytes?: number;
  /** Preflight cache lifetime; default {@link DEFAULT_CORS_MAX_AGE_S}. */
  corsMaxAgeS?: number;
  /** Where failures are reported; default: the built-in stderr logger. */
  logger?: Logger;
}

/** A response decided without I/O: status, headers, optional JSON body. */
export interface ReceiverAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Readonly<Record<string, unknown>>;
}

/**
 * Creates a request handler for the chunk receiver. It returns `true` when it
 * took the request (the path is under `basePath`), `false` to let the caller
 * route it elsewhere.
 *
 * @example
 * const sessions = new SessionRegistry({ store: new DiskStore({ dir }) });
 * const receive = createReceiverHandler(sessions);
 * http.createServer((req, res) => { if (!receive(req, res)) app(req, res); });
 */
export function createReceiverHandler(
  registry: SessionRegistry,
  options: ReceiverHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const basePath = options.basePath ?? registry.basePath;
  if (!basePath.startsWith('/') || basePath.endsWith('/')) {
    throw new InletError('INLET_ERR_UPLOAD_OPTION', `basePath must start with "/" and not end with one (got ${basePath}).`);
  }
  const maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  if (!Number.isSafeInteger(maxChunkBytes) || maxChunkBytes <= 0) {
    throw new InletError('INLET_ERR_UPLOAD_OPTION', `maxChunkBytes must be a positive integer (got ${maxChunkBytes}).`);
  }
  const cors = corsPolicy(options.allowOrigin, options.corsMaxAgeS ?? DEFAULT_CORS_MAX_AGE_S);
  const prefix = `${basePath}/`;
  const logger = options.logger ?? createLogger();

  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (!path.startsWith(prefix)) return false;
    const token = path.slice(prefix.length);
    const context: ReceiverRequestContext = { method: req.method ?? '', route: path, template: `${basePath}/:token` };
    const traced = TRACING.receiverRequest.tracePromise(
      () => handle(registry, req, res, token, maxChunkBytes, cors, logger).then((handled) => {
          context.status = res.statusCode;
          return handled;
        }),
      context,
    );
    traced.catch((err: unknown) => {
      logger.error({ err, method: req.method, route: path }, 'upload receiver request failed');
      if (!res.headersSent) send(res, { status: 500, headers: {}, body: { error: RECEIVER_ERRORS.writerError } });
      else res.destroy();
    });
    return true;
  };
}

async function handle(
  registry: SessionRegistry,
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  maxChunkBytes: number,
  cors: CorsPolicy,
  logger: Logger,
): Promise<void> {
  cors.apply(req, res);
  const method = req.method ?? '';
  if (method === 'OPTIONS') return send(res, cors.preflight(req));
  if (!UPLOAD_METHODS.has(method)) {
    return send(res, { status: 405, headers: { allow: ALLOW }, body: { error: RECEIVER_ERRORS.methodNotAllowed } });
  }
  if (!TOKEN_RE.test(token)) return send(res, answerFor({ kind: 'unknown' }, 'data'));

  const head = readHead(req, maxChunkBytes);
  if ('status' in head) return send(res, head);
  const { range, length } = head;

  const body = new RequestBody(req, length, logger);
  const outcome =
    range.kind === 'status' ? await registry.status(token, range.total) : await registry.receive(token, range, body);
  const overflow = await body.settle();
  if (overflow) {
    res.setHeader('connection', 'close');
    send(res, { status: 400, headers: {}, body: { error: RECEIVER_ERRORS.bodyTooLong } });
    res.once('finish', () => req.destroy());
    return;
  }
  send(res, answerFor(outcome, range.kind === 'status' ? 'status' : 'data'));
}

type Head = { range: NonNullable<ReturnType<typeof parseContentRange>>; length: number } | ReceiverAnswer;

/** Validates the headers of an upload request; no byte of the body is read. */
function readHead(req: IncomingMessage, maxChunkBytes: number): Head {
  const range = parseContentRange(req.headers['content-range']);
  if (!range) return error(400, RECEIVER_ERRORS.rangeInvalid, 'expected Content-Range: bytes <start>-<end>/<total> or bytes */<total>');
  const length = declaredLength(range);
  const contentLength = parseContentLength(req.headers['content-length']);
  const chunked = /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? '');
  if (contentLength === null) return error(400, RECEIVER_ERRORS.lengthMismatch, 'malformed Content-Length');
  if (contentLength !== undefined ? contentLength !== length : !chunked && length > 0) {
    return error(400, RECEIVER_ERRORS.lengthMismatch, `Content-Length must equal the range length (${length})`);
  }
  if (length > maxChunkBytes) {
    return { status: 413, headers: { connection: 'close' }, body: { error: RECEIVER_ERRORS.chunkTooLarge, maxChunkBytes } };
  }
  return { range, length };
}

/**
 * Maps a session outcome to an HTTP answer. `kind` tells a data write (201
 * on completion) from a status query (200 once complete). Pure; exported for
 * adapters that serve the receiver from another HTTP stack.
 *
 * @example
 * answerFor({ kind: 'incomplete', offset: 1024, total: 4096 }, 'data');
 * // { status: 308, headers: { range: 'bytes=0-1023' } }
 */
export function answerFor(outcome: ChunkOutcome, kind: 'data' | 'status'): ReceiverAnswer {
  switch (outcome.kind) {
    case 'unknown':
      return error(404, RECEIVER_ERRORS.notFound);
    case 'gone':
      return { status: 410, headers: {}, body: { error: RECEIVER_ERRORS.gone, state: outcome.state } };
    case 'too_large':
      return { status: 413, headers: {}, body: { error: RECEIVER_ERRORS.tooLarge, maxSize: outcome.maxSize } };
    case 'total_mismatch':
      return { status: 400, headers: {}, body: { error: RECEIVER_ERRORS.totalMismatch, total: outcome.total } };
    case 'gap':
      return { status: 416, headers: withRange({}, outcome.offset), body: { error: RECEIVER_ERRORS.gap, offset: outcome.offset } };
    case 'rejected':
      return error(400, RECEIVER_ERRORS.rejected, outcome.message);
    case 'not_accepted':
      return error(415, RECEIVER_ERRORS.notAccepted, outcome.message);
    case 'quota_exceeded':
      return error(413, RECEIVER_ERRORS.quotaExceeded, outcome.message);
    case 'incomplete':
      return { status: 308, headers: withRange({}, outcome.offset) };
    case 'complete':
      return { status: kind === 'data' ? 201 : 200, headers: {}, body: { status: 'complete', size: outcome.total } };
    case 'unavailable':
      return {
        status: 503,
        headers: withRange({ 'retry-after': String(RETRY_AFTER_S) }, outcome.offset),
        body: { error: RECEIVER_ERRORS.unavailable },
      };
    case 'busy':
      // Another request holds the upload (a retry racing the original, on this node or another).
      return { status: 503, headers: { 'retry-after': String(RETRY_AFTER_S) }, body: { error: RECEIVER_ERRORS.busy } };
    case 'failed':
      return error(500, RECEIVER_ERRORS.writerError);
  }
}

function error(status: number, code: string, message?: string): ReceiverAnswer {
  return { status, headers: {}, body: message === undefined ? { error: code } : { error: code, message } };
}

function withRange(headers: Record<string, string>, offset: number): Record<string, string> {
  const range = rangeHeader(offset);
  return range === undefined ? headers : { ...headers, range };
}

function send(res: ServerResponse, answer: ReceiverAnswer): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.setHeader('cache-control', 'no-store');
  if (answer.body === undefined) {
    res.setHeader('content-length', '0');
    res.end();
    return;
  }
  const json = JSON.stringify(answer.body);
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', String(Buffer.byteLength(json)));
  res.end(json);
}

/**
 * The request body as a {@link ChunkBody}: at most `length` bytes; ends early
 * and quietly if the body ends short or the connection drops. Reading stops
 * at `length`, so at most one chunk's bytes ever pass through.
 */
class RequestBody implements ChunkBody {
  readonly length: number;
  readonly #req: IncomingMessage;
  readonly #logger: Logger;
  #received = 0;
  #started = false;
  #overflow = false;

  constructor(req: IncomingMessage, length: number, logger: Logger) {
    this.#req = req;
    this.#logger = logger;
    this.length = length;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (this.#started) return;
    this.#started = true;
    const pieces = this.#req.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
    try {
      while (this.#received < this.length) {
        let step: IteratorResult<Buffer>;
        try {
          step = await pieces.next();
        } catch (err) {
          // The client went away: keep what arrived (it resumes from there).
          this.#logger.debug({ err, received: this.#received, expected: this.length }, 'upload receiver request ended early');
          return;
        }
        if (step.done) return;
        const room = this.length - this.#received;
        const piece = step.value.length > room ? step.value.subarray(0, room) : step.value;
        if (piece.length < step.value.length) this.#overflow = true;
        this.#received += piece.length;
        yield piece;
      }
    } finally {
      await pieces.return?.();
    }
  }

  /**
   * Consumes what is left of the request after the session answered and
   * resolves to true when the body was longer than its range (only possible
   * with chunked transfer encoding).
   */
  async settle(): Promise<boolean> {
    const req = this.#req;
    if (this.#overflow) return true;
    if (!this.#started || req.complete || this.#received < this.length) {
      // Unread or partly read: let Node discard the rest (bounded by Content-Length).
      if (this.#started && !req.readableEnded) req.resume();
      return false;
    }
    // All declared bytes read but the message has not ended: any more data is an overflow.
    return new Promise<boolean>((resolve) => {
      const done = (overflow: boolean): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onEnd);
        resolve(overflow);
      };
      const onData = (piece: Buffer): void => {
        if (piece.length > 0) {
          req.pause();
          done(true);
        }
      };
      const onEnd = (): void => done(false);
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', onEnd);
    });
  }
}

interface CorsPolicy {
  apply(req: IncomingMessage, res: ServerResponse): void;
  preflight(req: IncomingMessage): ReceiverAnswer;
}

function corsPolicy(allowOrigin: string | readonly string[] | undefined, maxAgeS: number): CorsPolicy {
  const origins = allowOrigin === undefined ? [] : typeof allowOrigin === 'string' ? [allowOrigin] : [...allowOrigin];
  const any = origins.includes('*');
  const allowed = (origin: string | undefined): string | undefined => {
    if (origins.length === 0 || origin === undefined) return undefined;
    if (any) return '*';
    return origins.includes(origin) ? origin : undefined;
  };
  return {
    apply(req, res) {
      if (origins.length === 0) return;
      if (!any) res.setHeader('vary', 'Origin');
      const origin = allowed(req.headers.origin);
      if (origin === undefined) return;
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', 'Range');
    },
    preflight(req): ReceiverAnswer {
      if (allowed(req.headers.origin) === undefined) return { status: 204, headers: { allow: ALLOW } };
      const asked = req.headers['access-control-request-headers'];
      const headers =
        asked !== undefined && asked.length <= MAX_REQUEST_HEADERS_ECHO && HEADER_LIST_RE.test(asked.trim())
          ? asked.trim()
          : DEFAULT_ALLOWED_HEADERS;
      return {
        status: 204,
        headers: {
          allow: ALLOW,
          'access-control-allow-methods': 'PUT, PATCH, POST',
          'access-control-allow-headers': headers,
          'access-control-max-age': String(maxAgeS),
        },
      };
    },
  };
}
