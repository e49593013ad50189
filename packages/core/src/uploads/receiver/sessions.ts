/**
 * Upload sessions of the chunk receiver: minting unguessable endpoints,
 * tracking each session's durable offset, serialising its writes, expiring
 * abandoned ones, and telling the LiveView layer about progress, completion
 * and failure. Knows nothing of HTTP; `http.ts` maps its outcomes to answers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { InletError } from '../../errors.js';
import { createLogger, type Logger } from '../../logger.js';
import type { ByteRange } from './content-range.js';
import { readHead } from './first-bytes.js';
import { SerialLock } from './lock.js';
import { isTransientStoreError, type ChunkBody, type UploadRecord, type UploadStore } from '../store.js';

/** URL path under which session endpoints are minted and served. */
export const DEFAULT_BASE_PATH = '/_inlet/uploads';
/** A session expires this long after it was minted or last received bytes. */
export const DEFAULT_SESSION_TTL_MS = 15 * 60 * 1000;
/** How often the sweeper looks for expired sessions. */
export const DEFAULT_SWEEP_INTERVAL_MS = 30 * 1000;
/** How long an ended session still answers 410 instead of 404. */
export const DEFAULT_TOMBSTONE_TTL_MS = 60 * 60 * 1000;
/** Random bytes in a token (base64url-encoded to 32 characters). */
export const TOKEN_BYTES = 24;
/** Longest accepted `contentType` passed to `mint`. */
export const MAX_CONTENT_TYPE_LENGTH = 255;

/**
 * Why a session failed, as reported to {@link SessionRegistry.onError}. The
 * names match LiveView's upload error reasons where one exists.
 */
export const RECEIVER_ERROR_REASONS = ['too_large', 'writer_error', 'expired', 'not_accepted'] as const;
export type ReceiverErrorReason = (typeof RECEIVER_ERROR_REASONS)[number];

/** Lifecycle of a session. Only `open` sessions accept bytes. */
export type SessionState = 'open' | 'complete' | 'expired' | 'cancelled' | 'failed';

/** The LiveView upload entry a session belongs to. */
export interface UploadEntryRef {
  readonly viewId: string;
  readonly confRef: string;
  readonly entryRef: string;
}

/** A read-only view of one session, as given to listeners. */
export interface UploadSession {
  /** Stable non-secret id (the store's file name / object key seed). */
  readonly id: string;
  readonly entry: UploadEntryRef;
  readonly maxSize: number;
  readonly contentType: string | undefined;
  /** Bytes durably stored, always a prefix of the file. */
  readonly offset: number;
  /** File size declared by the client's first chunk; `undefined` before it. */
  readonly total: number | undefined;
  /** Epoch ms after which the session is expired (extended on every accepted chunk). */
  readonly expiresAt: number;
  readonly state: SessionState;
}

/** Options of {@link SessionRegistry.mint}. */
export interface MintOptions {
  /** Largest file the client may declare, in bytes; a larger `Content-Range` total answers 413. */
  maxSize: number;
  /** Idle lifetime; default: the registry's `ttlMs`. */
  ttlMs?: number;
  entry: UploadEntryRef;
  /** Store for this session; default: the registry's store. */
  store?: UploadStore;
  /** MIME type recorded by the store (e.g. S3 `ContentType`). */
  contentType?: string;
  /**
   * Checks the upload's first bytes (up to {@link FIRST_BYTES}) before any is
   * stored: resolve to a message to refuse the upload (415, the session fails
   * with `not_accepted`), or undefined to go on. Used for content sniffing.
   */
  checkFirstBytes?: (head: Buffer) => Promise<string | undefined>;
}

/** Most bytes handed to `checkFirstBytes`. */
export const FIRST_BYTES = 64 * 1024;

/** What {@link SessionRegistry.mint} hands to the client's uploader. */
export interface MintedSession {
  /** Unguessable secret naming the session; it is the last path segment of `endpoint`. */
  readonly token: string;
  /** URL (or path) the client sends its chunks to. */
  readonly endpoint: string;
  /** The session's non-secret id. */
  readonly id: string;
}

/** Options of {@link SessionRegistry}. */
export interface SessionRegistryOptions {
  /** Default store of minted sessions. */
  store: UploadStore;
  /** Path prefix of endpoints; default {@link DEFAULT_BASE_PATH}. */
  basePath?: string;
  /** Scheme and host put before `basePath` in endpoints, for a receiver on another origin; default none (a path). */
  origin?: string;
  /** Default idle lifetime of sessions; default {@link DEFAULT_SESSION_TTL_MS}. */
  ttlMs?: number;
  /** Sweeper period; default {@link DEFAULT_SWEEP_INTERVAL_MS}; 0 disables the timer (call `sweep()` yourself). */
  sweepIntervalMs?: number;
  /** How long ended sessions answer 410; default {@link DEFAULT_TOMBSTONE_TTL_MS}. */
  tombstoneTtlMs?: number;
  /** Clock, for tests; default `Date.now`. */
  now?: () => number;
  /** Where store failures and throwing listeners are reported; default: the built-in stderr logger. */
  logger?: Logger;
}

/**
 * The result of offering bytes (or a status query) to a session. Every
 * client-caused failure is one of these values; `http.ts` turns them into
 * status codes.
 */
export type ChunkOutcome =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'gone'; readonly state: Exclude<SessionState, 'open'> }
  | { readonly kind: 'too_large'; readonly maxSize: number }
  | { readonly kind: 'total_mismatch'; readonly total: number }
  | { readonly kind: 'gap'; readonly offset: number }
  | { readonly kind: 'rejected'; readonly message: string }
  | { readonly kind: 'not_accepted'; readonly message: string }
  | { readonly kind: 'incomplete'; readonly offset: number; readonly total: number }
  | { readonly kind: 'complete'; readonly total: number }
  | { readonly kind: 'unavailable'; readonly offset: number }
  | { readonly kind: 'failed' };

export type ProgressListener = (session: UploadSession, offset: number, total: number) => void;
export type CompleteListener = (session: UploadSession, meta: Record<string, unknown>) => void;
export type ErrorListener = (session: UploadSession, reason: ReceiverErrorReason, cause?: unknown) => void;

class Session implements UploadSession {
  readonly lock = new SerialLock();
  /** Aborted when the session ends on the server's initiative, so a store call under way stops at once. */
  readonly ending = new AbortController();
  offset = 0;
  total: number | undefined = undefined;
  state: SessionState = 'open';
  /** `create` was called (successfully or not), so `abort` is owed. */
  storeTouched = false;
  created = false;

  constructor(
    readonly id: string,
    readonly token: string,
    readonly entry: UploadEntryRef,
    readonly maxSize: number,
    readonly ttlMs: number,
    readonly contentType: string | undefined,
    readonly store: UploadStore,
    public expiresAt: number,
    public checkFirstBytes?: (head: Buffer) => Promise<string | undefined>,
  ) {}

  record(): UploadRecord {
    return { id: this.id, size: this.total ?? 0, contentType: this.contentType };
  }
}

interface Tombstone {
  readonly state: Exclude<SessionState, 'open'>;
  readonly until: number;
}

/**
 * Registry of upload sessions for the built-in chunk receiver.
 *
 * @example
 * const sessions = new SessionRegistry({ store: new DiskUploadStore({ dir: tmp }) });
 * sessions.onComplete((s, meta) => markEntryDone(s.entry, meta));
 * const { endpoint } = sessions.mint({ maxSize: 50e6, entry: { viewId, confRef, entryRef } });
 * // hand { uploader: 'UpChunk', endpoint } to the client
 */
export class SessionRegistry {
  /** Path prefix the endpoints use; the HTTP handler serves it. */
  readonly basePath: string;
  readonly #store: UploadStore;
  readonly #origin: string;
  readonly #ttlMs: number;
  readonly #tombstoneTtlMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #sessions = new Map<string, Session>();
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #progress = new Set<ProgressListener>();
  readonly #complete = new Set<CompleteListener>();
  readonly #error = new Set<ErrorListener>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(options: SessionRegistryOptions) {
    this.#store = options.store;
    this.basePath = validBasePath(options.basePath ?? DEFAULT_BASE_PATH);
    this.#origin = (options.origin ?? '').replace(/\/+$/, '');
    this.#ttlMs = positiveInteger(options.ttlMs ?? DEFAULT_SESSION_TTL_MS, 'ttlMs');
    this.#tombstoneTtlMs = nonNegativeInteger(options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS, 'tombstoneTtlMs');
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? createLogger();
    const every = nonNegativeInteger(options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS, 'sweepIntervalMs');
    if (every > 0) {
      this.#timer = setInterval(() => {
        this.sweep().catch((err: unknown) => this.#logger.error({ err }, 'upload receiver sweep failed'));
      }, every);
      this.#timer.unref();
    }
  }

  /** Number of sessions currently held (open or complete). */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Opens a session and returns its token and endpoint. Storage is created
   * lazily, on the first chunk, so minting is cheap and synchronous.
   */
  mint(options: MintOptions): MintedSession {
    const maxSize = nonNegativeInteger(options.maxSize, 'maxSize');
    const ttlMs = positiveInteger(options.ttlMs ?? this.#ttlMs, 'ttlMs');
    const { viewId, confRef, entryRef } = options.entry;
    for (const [name, value] of [['viewId', viewId], ['confRef', confRef], ['entryRef', entryRef]] as const) {
      if (typeof value !== 'string' || value === '') {
        throw new InletError('INLET_ERR_UPLOAD_OPTION', `entry.${name} must be a non-empty string.`);
      }
    }
    const contentType = options.contentType;
    if (contentType !== undefined && (contentType.length > MAX_CONTENT_TYPE_LENGTH || /[\r\n]/.test(contentType))) {
      throw new InletError('INLET_ERR_UPLOAD_OPTION', 'contentType is too long or contains a line break.');
    }
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const id = randomUUID();
    const entry = { viewId, confRef, entryRef };
    const store = options.store ?? this.#store;
    const session = new Session(id, token, entry, maxSize, ttlMs, contentType, store, this.#now() + ttlMs, options.checkFirstBytes);
    this.#sessions.set(token, session);
    return { token, id, endpoint: `${this.#origin}${this.basePath}/${token}` };
  }

  /** The session a token names, while it is open or complete. */
  get(token: string): UploadSession | undefined {
    return this.#sessions.get(token);
  }

  /** Subscribes to progress (after every chunk that advanced the offset). Returns an unsubscribe function. */
  onProgress(listener: ProgressListener): () => void {
    return subscribe(this.#progress, listener);
  }

  /** Subscribes to completion; `meta` is what the store's `complete` returned. Returns an unsubscribe function. */
  onComplete(listener: CompleteListener): () => void {
    return subscribe(this.#complete, listener);
  }

  /** Subscribes to session failures (`too_large`, `writer_error`, `expired`). Returns an unsubscribe function. */
  onError(listener: ErrorListener): () => void {
    return subscribe(this.#error, listener);
  }

  /**
   * Offers the bytes `range` to the session named by `token`. `body` must
   * yield at most `range.end - range.start + 1` bytes; bytes the session
   * already holds are skipped, the rest is written. Never rejects.
   */
  async receive(token: string, range: ByteRange, body: ChunkBody): Promise<ChunkOutcome> {
    const session = this.#sessions.get(token);
    if (!session) return this.#missing(token);
    return session.lock.run(() => this.#receiveLocked(session, range, body));
  }

  /**
   * Answers a `bytes *\/total` status query. When the session already holds
   * all `total` bytes (including a zero-byte file) this also completes it.
   * Never rejects.
   */
  async status(token: string, total: number): Promise<ChunkOutcome> {
    const session = this.#sessions.get(token);
    if (!session) return this.#missing(token);
    return session.lock.run(async () => {
      const refused = await this.#check(session, total);
      if (refused) return refused;
      if (session.state === 'complete') return { kind: 'complete', total };
      if (session.offset < total) return { kind: 'incomplete', offset: session.offset, total };
      session.total = total;
      return this.#guard(session, () => this.#settle(session));
    });
  }

  /**
   * Ends a session on the server's initiative (the entry was cancelled). An
   * open session's stored bytes are discarded; a complete one is only
   * forgotten, since its data now belongs to the consumer. Resolves to false
   * for unknown tokens.
   */
  async cancel(token: string): Promise<boolean> {
    const session = this.#sessions.get(token);
    if (!session) return false;
    // Stop a write under way now instead of after it: cancelled bytes are not worth waiting for.
    if (session.state === 'open') session.ending.abort(new Error('upload cancelled'));
    await session.lock.run(async () => {
      if (session.state === 'open') await this.#end(session, 'cancelled');
      else if (session.state === 'complete') this.#forget(session, 'complete');
    });
    return true;
  }

  /**
   * Expires idle open sessions (aborting their storage), forgets complete
   * sessions past their lifetime and prunes old tombstones. Runs on a timer
   * unless `sweepIntervalMs` is 0. Resolves to the number of sessions ended.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Stops the sweeper and cancels every open session (discarding their bytes). */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all([...this.#sessions.keys()].map((token) => this.cancel(token)));
  }

  async #sweepOnce(): Promise<number> {
    let ended = 0;
    for (const session of [...this.#sessions.values()]) {
      if (session.expiresAt > this.#now()) continue;
      await session.lock.run(async () => {
        if (session.expiresAt > this.#now()) return;
        if (session.state === 'open') {
          await this.#end(session, 'expired');
          ended += 1;
        } else if (session.state === 'complete') {
          this.#forget(session, 'complete');
        }
      });
    }
    const now = this.#now();
    for (const [token, tombstone] of this.#tombstones) {
      if (tombstone.until <= now) this.#tombstones.delete(token);
    }
    return ended;
  }

  #missing(token: string): ChunkOutcome {
    const tombstone = this.#tombstones.get(token);
    return tombstone && tombstone.until > this.#now() ? { kind: 'gone', state: tombstone.state } : { kind: 'unknown' };
  }

  async #receiveLocked(session: Session, range: ByteRange, body: ChunkBody): Promise<ChunkOutcome> {
    const refused = await this.#check(session, range.total);
    if (refused) return refused;
    if (session.state === 'complete') return { kind: 'complete', total: range.total };
    if (range.start > session.offset) return { kind: 'gap', offset: session.offset };

    session.total = range.total;
    session.expiresAt = this.#now() + session.ttlMs;
    const offset = session.offset;
    const length = range.end + 1 - offset;
    if (length <= 0) return this.#guard(session, () => this.#settle(session));

    const veto = session.store.checkWrite?.(session.record(), offset, length);
    if (veto !== undefined) return { kind: 'rejected', message: veto };
    let data = skipBytes(body, offset - range.start, length);
    const check = offset === 0 ? session.checkFirstBytes : undefined;
    if (check) {
      const read = await readHead(data, Math.min(FIRST_BYTES, length));
      data = read.body;
      const refusal = await check(read.head);
      if (refusal !== undefined) {
        await read.release();
        await this.#end(session, 'failed', 'not_accepted', new Error(refusal));
        return { kind: 'not_accepted', message: refusal };
      }
      session.checkFirstBytes = undefined;
    }

    return this.#guard(session, async () => {
      const signal = session.ending.signal;
      if (!session.created) {
        session.storeTouched = true;
        await session.store.create(session.record(), signal);
        session.created = true;
      }
      const next = await session.store.write(session.record(), offset, data, signal);
      if (!Number.isInteger(next) || next < offset || next > offset + length) {
        throw new RangeError(`store returned offset ${next} for a write of ${length} bytes at ${offset}`);
      }
      session.offset = next;
      session.expiresAt = this.#now() + session.ttlMs;
      if (next > offset) this.#emitProgress(session, next, range.total);
      return this.#settle(session);
    });
  }

  /** Checks that apply to every request, before any byte is read. */
  async #check(session: Session, total: number): Promise<ChunkOutcome | undefined> {
    if (session.state !== 'open' && session.state !== 'complete') return { kind: 'gone', state: session.state };
    if (session.state === 'open' && session.expiresAt <= this.#now()) {
      await this.#end(session, 'expired');
      return { kind: 'gone', state: 'expired' };
    }
    if (session.total !== undefined && total !== session.total) return { kind: 'total_mismatch', total: session.total };
    if (total > session.maxSize) {
      if (session.state === 'open') await this.#end(session, 'failed', 'too_large');
      return { kind: 'too_large', maxSize: session.maxSize };
    }
    return undefined;
  }

  /** Completes the session when all bytes are held; otherwise reports the offset. */
  async #settle(session: Session): Promise<ChunkOutcome> {
    const total = session.total ?? 0;
    if (session.offset < total) return { kind: 'incomplete', offset: session.offset, total };
    if (!session.created) {
      session.storeTouched = true;
      await session.store.create(session.record());
      session.created = true;
    }
    const meta = await session.store.complete(session.record(), session.ending.signal);
    session.state = 'complete';
    this.#emit(this.#complete, (listener) => listener(session, meta));
    return { kind: 'complete', total };
  }

  /** Runs store work; transient failures answer `unavailable`, others fail the session. */
  async #guard(session: Session, work: () => Promise<ChunkOutcome>): Promise<ChunkOutcome> {
    try {
      return await work();
    } catch (error) {
      // Cancelled meanwhile: the cancel ends the session; this request just learns it is gone.
      if (session.ending.signal.aborted) return { kind: 'gone', state: 'cancelled' };
      if (isTransientStoreError(error)) {
        this.#logger.warn({ err: error, session: session.id, view: session.entry.viewId, ref: session.entry.entryRef }, 'upload receiver store busy; the client retries');
        return { kind: 'unavailable', offset: session.offset };
      }
      this.#logger.error({ err: error, session: session.id, view: session.entry.viewId, ref: session.entry.entryRef }, 'upload receiver store failed; the upload fails');
      await this.#end(session, 'failed', 'writer_error', error);
      return { kind: 'failed' };
    }
  }

  /** Ends an open session: aborts its storage, forgets it, leaves a tombstone, reports failures. */
  async #end(
    session: Session,
    state: 'expired' | 'cancelled' | 'failed',
    reason?: ReceiverErrorReason,
    cause?: unknown,
  ): Promise<void> {
    session.state = state;
    this.#forget(session, state);
    if (session.storeTouched) {
      try {
        await session.store.abort(session.record());
      } catch (err) {
        // The session is gone either way, and an S3 lifecycle rule or a tmp
        // cleaner reclaims what an abort could not; the failure is reported.
        this.#logger.warn({ err, session: session.id }, 'upload receiver could not abort stored parts');
      }
    }
    const why = reason ?? (state === 'expired' ? 'expired' : undefined);
    if (why) this.#emit(this.#error, (listener) => listener(session, why, cause));
  }

  #forget(session: Session, state: Exclude<SessionState, 'open'>): void {
    this.#sessions.delete(session.token);
    if (this.#tombstoneTtlMs > 0) {
      this.#tombstones.set(session.token, { state, until: this.#now() + this.#tombstoneTtlMs });
    }
  }

  #emitProgress(session: Session, offset: number, total: number): void {
    this.#emit(this.#progress, (listener) => listener(session, offset, total));
  }

  #emit<L>(listeners: Set<L>, call: (listener: L) => void): void {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        this.#logger.error({ err: error }, 'an upload receiver listener threw');
      }
    }
  }
}

/** A {@link ChunkBody} of `length` bytes: `body` without its first `skip` bytes. */
function skipBytes(body: ChunkBody, skip: number, length: number): ChunkBody {
  if (skip === 0 && length === body.length) return body;
  return {
    length,
    async *[Symbol.asyncIterator]() {
      let toSkip = skip;
      for await (const piece of body) {
        if (toSkip >= piece.length) {
          toSkip -= piece.length;
          continue;
        }
        yield toSkip > 0 ? piece.subarray(toSkip) : piece;
        toSkip = 0;
      }
    },
  };
}

function subscribe<L>(set: Set<L>, listener: L): () => void {
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

function validBasePath(path: string): string {
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path) || path.endsWith('/') || path.includes('//')) {
    throw new InletError('INLET_ERR_UPLOAD_OPTION', `basePath must look like "/a/b" (got ${JSON.stringify(path)}).`);
  }
  return path;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InletError('INLET_ERR_UPLOAD_OPTION', `${name} must be a non-negative integer (got ${value}).`);
  }
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InletError('INLET_ERR_UPLOAD_OPTION', `${name} must be a positive integer (got ${value}).`);
  }
  return value;
}
