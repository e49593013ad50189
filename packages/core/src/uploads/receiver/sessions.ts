/**
 * Upload sessions of the chunk receiver: minting unguessable endpoints,
 * storing each chunk at the session's durable offset, expiring abandoned
 * sessions, and telling the LiveView layer about progress, completion and
 * failure. Knows nothing of HTTP; `http.ts` maps its outcomes to answers.
 *
 * Sessions live in an `UploadStateStore`: in this process by default, or
 * shared by every node (`RedisUploadStateStore`), in which case any chunk of
 * any upload may land on any node. Per chunk: `claim` (the upload's lease
 * and its record), the store's `write`, then `commit` (a compare-and-set on
 * the offset that also releases the lease): two state-store round trips.
 * Events go to the node that minted the session, where its view lives
 * (`owner-link.ts`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { InletError } from '../../errors.js';
import { createLogger, type Logger } from '../../logger.js';
import { InletOptionError } from '../../options.js';
import type { QuotaCounter } from '../cluster/quota.js';
import { MemoryUploadStateStore, type UploadStateRecord, type UploadStateStore } from '../cluster/state-store.js';
import { storeCan, type ChunkBody, type UploadStore } from '../store.js';
import { Claim } from './claim.js';
import type { ByteRange } from './content-range.js';
import { OwnerLink, type OwnerEvent } from './owner-link.js';
import { ownerOf, recordId, sessionOf, snapshotOf, storeStateOf, type SessionOwner, type SessionStoreState } from './session-record.js';
import { SessionChunks, type Local } from './session-chunks.js';
import { SerialLock } from './lock.js';
import {
  DEFAULT_BASE_PATH,
  DEFAULT_LOCAL_LEASE_MS,
  DEFAULT_SESSION_TTL_MS,
  DEFAULT_SHARED_LEASE_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  DEFAULT_TOMBSTONE_TTL_MS,
  MAX_CONTENT_TYPE_LENGTH,
  TOKEN_BYTES,
  type ChunkOutcome,
  type CompleteListener,
  type ErrorListener,
  type MintedSession,
  type MintOptions,
  type ProgressListener,
  type ReceiverErrorReason,
  type SessionRegistryOptions,
  type UploadSession,
} from './session-types.js';

export * from './session-types.js';

/** Expired sessions ended per sweep step. */
const SWEEP_BATCH = 100;

/**
 * Registry of upload sessions for the built-in chunk receiver.
 *
 * @example
 * const sessions = new SessionRegistry({ store: new DiskStore({ dir: tmp }) });
 * sessions.onComplete((s, meta) => markEntryDone(s.entry, meta));
 * const { endpoint } = await sessions.mint({ maxSize: 50e6, entry: { viewId, confRef, entryRef } });
 * // hand { uploader: 'UpChunk', endpoint } to the client
 *
 * @example
 * // Any node takes any chunk: sessions in Redis, bytes in S3, events over Redis pub/sub.
 * const sessions = new SessionRegistry({ store: s3Store, states: new RedisUploadStateStore({ client }), pubsub });
 */
export class SessionRegistry {
  /** Path prefix the endpoints use; the HTTP handler serves it. */
  readonly basePath: string;
  /** Whether sessions are shared with other nodes (the state store is). */
  readonly shared: boolean;
  readonly #store: UploadStore;
  readonly #states: UploadStateStore;
  readonly #link: OwnerLink;
  readonly #quota: QuotaCounter | undefined;
  readonly #origin: string;
  readonly #ttlMs: number;
  readonly #leaseMs: number;
  readonly #tombstoneTtlMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #locals = new Map<string, Local>();
  readonly #chunks: SessionChunks;
  readonly #progress = new Set<ProgressListener>();
  readonly #completed = new Set<CompleteListener>();
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
    this.#states = options.states ?? new MemoryUploadStateStore({ now: this.#now });
    this.shared = this.#states.shared === true;
    this.#leaseMs = positiveInteger(options.leaseMs ?? (this.shared ? DEFAULT_SHARED_LEASE_MS : DEFAULT_LOCAL_LEASE_MS), 'leaseMs');
    this.#quota = options.quota;
    if (this.shared) {
      if (!storeCan(this.#store, 'shared')) {
        throw new InletOptionError('receiver.store', 'must be a store every node shares (capability "shared", e.g. S3MultipartStore) when receiver.states is shared: a chunk stored on one node must be readable by the node that stores the next.');
      }
      if (!options.pubsub) throw new InletOptionError('receiver.pubsub', 'is needed when receiver.states is shared: events must reach the node holding the view.');
    }
    this.#link = new OwnerLink({
      node: randomBytes(9).toString('base64url'),
      pubsub: this.shared ? options.pubsub : undefined,
      logger: this.#logger,
      handlers: { event: (e) => this.#deliver(e), checkFirstBytes: (id, head) => this.#checkHere(id, head) },
    });
    this.#chunks = new SessionChunks({
      shared: this.shared,
      states: this.#states,
      tombstoneTtlMs: this.#tombstoneTtlMs,
      logger: this.#logger,
      link: this.#link,
      now: this.#now,
      storeOf: (local) => local.minted?.store ?? this.#store,
      counterFor: (local) => this.#quota ?? local.minted?.counter,
      tell: (record, event, cause) => this.#tell(record, event, cause),
      forget: (id, local) => this.#forget(id, local),
    });
    const every = nonNegativeInteger(options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS, 'sweepIntervalMs');
    if (every > 0) {
      this.#timer = setInterval(() => {
        this.sweep().catch((err: unknown) => this.#logger.error({ err }, 'upload receiver sweep failed'));
      }, every);
      this.#timer.unref();
    }
  }

  /** This node's id in session records. */
  get node(): string {
    return this.#link.node;
  }

  /** Number of sessions minted on this node that are still open or complete. */
  get size(): number {
    let n = 0;
    for (const local of this.#locals.values()) if (local.minted) n++;
    return n;
  }

  /** Starts listening for events of sessions minted here (`mint` does it too). */
  start(): Promise<void> {
    return this.#link.start();
  }

  /** Subscribes to progress (after every chunk that advanced the offset). Returns an unsubscribe function. */
  onProgress(listener: ProgressListener): () => void {
    return subscribe(this.#progress, listener);
  }

  /** Subscribes to completion; `meta` is what the store's `complete` returned, plus `sha256`. Returns an unsubscribe function. */
  onComplete(listener: CompleteListener): () => void {
    return subscribe(this.#completed, listener);
  }

  /** Subscribes to session failures (`too_large`, `writer_error`, `expired`…). Returns an unsubscribe function. */
  onError(listener: ErrorListener): () => void {
    return subscribe(this.#error, listener);
  }

  /**
   * Opens a session and returns its token and endpoint. Storage is created
   * on the first chunk, so minting costs one state-store write.
   */
  async mint(options: MintOptions): Promise<MintedSession> {
    const maxSize = nonNegativeInteger(options.maxSize, 'maxSize');
    const ttlMs = positiveInteger(options.ttlMs ?? this.#ttlMs, 'ttlMs');
    const { viewId, confRef, entryRef } = options.entry;
    for (const [name, value] of [['viewId', viewId], ['confRef', confRef], ['entryRef', entryRef]] as const) {
      if (typeof value !== 'string' || value === '') throw new InletError('INLET_ERR_UPLOAD_OPTION', `entry.${name} must be a non-empty string.`);
    }
    const contentType = options.contentType;
    if (contentType !== undefined && (contentType.length > MAX_CONTENT_TYPE_LENGTH || /[\r\n]/.test(contentType))) {
      throw new InletError('INLET_ERR_UPLOAD_OPTION', 'contentType is too long or contains a line break.');
    }
    const store = options.store ?? this.#store;
    if (this.shared && store !== this.#store) {
      throw new InletOptionError('chunkedUpload.store', "cannot differ from the receiver's store when sessions are shared: another node could not find it. Set createServer({ receiver: { store } }) instead.");
    }
    const quota = options.quota;
    if (quota && this.shared && !this.#quota) {
      throw new InletOptionError('receiver.quota', 'is needed for uploads with a quota when receiver.states is shared: every node must count against the same counter (e.g. RedisQuotaCounter).');
    }
    await this.#link.start();
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const id = randomUUID();
    const rid = recordId(token);
    const owner: SessionOwner = {
      viewId,
      confRef,
      entryRef,
      node: this.node,
      upload: id,
      ttlMs,
      contentType: contentType ?? null,
      check: options.checkFirstBytes !== undefined,
      quota: quota ? { key: quota.key, maxBytes: quota.maxBytes ?? null, maxFiles: quota.maxFiles ?? null, periodMs: quota.periodMs ?? null } : null,
    };
    const initial: SessionStoreState = quota ? { reserved: quota.reserved } : {};
    if (!(await this.#states.create(rid, { maxSize, expiresAt: this.#now() + ttlMs, owner, store: initial }))) {
      throw new InletError('INLET_ERR_UPLOAD_OPTION', 'an upload session with this token already exists.');
    }
    const local = this.#localFor(rid);
    local.minted = { token, id, store, checkFirstBytes: options.checkFirstBytes, counter: quota?.counter };
    return { token, id, endpoint: `${this.#origin}${this.basePath}/${token}` };
  }

  /** The session a token names, while it is open or complete. */
  async get(token: string): Promise<UploadSession | undefined> {
    const record = await this.#states.get(recordId(token));
    return record && sessionOf(snapshotOf(record));
  }

  /** What the store's `complete` returned for a complete session (kept only on shared registries). */
  async completedMeta(token: string): Promise<Record<string, unknown> | undefined> {
    const record = await this.#states.get(recordId(token));
    return record?.state === 'complete' ? record.meta : undefined;
  }

  /**
   * Offers the bytes `range` to the session named by `token`. `body` must
   * yield at most `range.end - range.start + 1` bytes; bytes the session
   * already holds are skipped, the rest is written. Never rejects.
   */
  async receive(token: string, range: ByteRange, body: ChunkBody): Promise<ChunkOutcome> {
    return this.#withClaim(recordId(token), (claim, local) => this.#chunks.receiveClaimed(claim, local, range, body));
  }

  /**
   * Answers a `bytes *\/total` status query. When the session already holds
   * all `total` bytes (including a zero-byte file) this also completes it.
   * Never rejects.
   */
  async status(token: string, total: number): Promise<ChunkOutcome> {
    return this.#withClaim(recordId(token), async (claim, local) => {
      const refused = await this.#chunks.refuse(claim, local, total);
      if (refused) return refused;
      const record = claim.record;
      if (record.state === 'complete') return { kind: 'complete', total };
      if (record.offset < total) return { kind: 'incomplete', offset: record.offset, total };
      return this.#chunks.guard(claim, local, storeStateOf(record), false, () => this.#chunks.complete(claim, local, storeStateOf(record), total, record.offset));
    });
  }

  /**
   * Ends a session on the server's initiative (the entry was cancelled). An
   * open session's stored bytes are discarded; a complete one is only
   * forgotten, since its data now belongs to the consumer. Either way its
   * quota reservation is given back. Resolves to false for unknown tokens.
   */
  cancel(token: string): Promise<boolean> {
    return this.#finish(token, 'cancel');
  }

  /** Forgets a complete session whose file was consumed (kept): its quota stays used. */
  consumed(token: string): Promise<boolean> {
    return this.#finish(token, 'consumed');
  }

  /**
   * Expires idle open sessions (aborting their storage, refunding their
   * quota), on whichever node runs it: each is claimed first, so two
   * sweepers never end one twice. Runs on a timer unless `sweepIntervalMs`
   * is 0. Resolves to the number of sessions ended.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Stops the sweeper and cancels every open session minted here (discarding their bytes). */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const mine = [...this.#locals.values()].flatMap((l) => (l.minted ? [l.minted.token] : []));
    await Promise.all(mine.map((token) => this.cancel(token)));
    this.#link.close();
  }

  // ------------------------------------------------------------------ chunks

  #localFor(id: string): Local {
    let local = this.#locals.get(id);
    if (!local) this.#locals.set(id, (local = { lock: new SerialLock(), ending: new AbortController() }));
    return local;
  }

  /** Forgets what this node kept about a session that no request uses, unless it minted it. */
  #dropIdle(id: string, local: Local): void {
    if (!local.minted && local.lock.pending === 0 && this.#locals.get(id) === local) this.#locals.delete(id);
  }

  /**
   * Queues behind this node's other requests for the upload, claims it, runs
   * `work` with the claim and gives the lease back if `work` did not. A
   * state store that fails (Redis unreachable) answers `unavailable`.
   */
  async #withClaim(id: string, work: (claim: Claim, local: Local) => Promise<ChunkOutcome>): Promise<ChunkOutcome> {
    const local = this.#localFor(id);
    try {
      return await local.lock.run(async () => {
        let claimed;
        try {
          claimed = await this.#states.claim(id, this.#leaseMs);
        } catch (err) {
          this.#logger.warn({ err }, 'upload receiver could not reach its session store; the client retries');
          return { kind: 'unavailable', offset: 0 } as const;
        }
        if (claimed.kind === 'missing') return { kind: 'unknown' } as const;
        if (claimed.kind === 'gone') return { kind: 'gone', state: claimed.state } as const;
        if (claimed.kind === 'busy') return { kind: 'busy' } as const;
        const claim = new Claim(this.#states, id, claimed.lease, claimed.record, this.#leaseMs, this.#logger);
        try {
          return await work(claim, local);
        } catch (err) {
          this.#logger.warn({ err }, 'upload receiver lost its session store mid-request; the client retries');
          return { kind: 'unavailable', offset: claim.record.offset } as const;
        } finally {
          await claim.release();
        }
      });
    } finally {
      this.#dropIdle(id, local);
    }
  }

  /** Runs the first-bytes check of a session minted here; undefined when this node holds no such session. */
  async #checkHere(id: string, head: Buffer): Promise<{ refusal?: string } | undefined> {
    const check = this.#locals.get(id)?.minted;
    if (!check) return undefined;
    const refusal = await check.checkFirstBytes?.(head);
    return refusal === undefined ? {} : { refusal };
  }

  // ------------------------------------------------------------ endings

  #forget(id: string, local: Local): void {
    local.minted = undefined;
    local.hash = undefined;
    this.#dropIdle(id, local);
  }

  /**
   * Cancel (discard, refund) or consumed (forget, keep counting). The session
   * may be mid-chunk on another node: its lease is waited for, up to twice
   * its lifetime.
   */
  async #finish(token: string, why: 'cancel' | 'consumed'): Promise<boolean> {
    const id = recordId(token);
    const existing = this.#locals.get(id);
    // Stop this node's own write under way now instead of after it: cancelled bytes are not worth waiting for.
    if (why === 'cancel') existing?.ending.abort(new Error('upload cancelled'));
    const deadline = this.#now() + 2 * this.#leaseMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 250)) {
      let found = true;
      let busy = false;
      await this.#withClaim(id, async (claim, local) => {
        const record = claim.record;
        const json = storeStateOf(record);
        if (record.state === 'open') {
          await this.#chunks.fail(claim, local, 'cancelled', undefined, undefined, json);
        } else {
          await claim.end('complete', this.#tombstoneTtlMs);
          if (why === 'cancel') await this.#chunks.refund(local, record, json.reserved ?? 0, 1);
          this.#forget(id, local);
        }
        return { kind: 'failed' };
      }).then((outcome) => {
        if (outcome.kind === 'unknown' || outcome.kind === 'gone') found = outcome.kind === 'gone';
        if (outcome.kind === 'busy' || outcome.kind === 'unavailable') busy = true;
      });
      if (!busy) {
        const local = this.#locals.get(id);
        if (local) this.#forget(id, local);
        return found;
      }
      if (this.#now() > deadline) {
        this.#logger.warn({ upload: id.slice(0, 12) }, 'upload receiver gave up cancelling a session another node holds; it expires instead');
        return true;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async #sweepOnce(): Promise<number> {
    let ended = 0;
    for (;;) {
      const ids = await this.#states.expired(this.#now(), SWEEP_BATCH);
      let progressed = false;
      for (const id of ids) {
        await this.#withClaim(id, async (claim, local) => {
          const r = claim.record;
          if (r.state !== 'open' || r.expiresAt > this.#now()) return { kind: 'busy' };
          await this.#chunks.fail(claim, local, 'expired', 'expired');
          ended += 1;
          progressed = true;
          return { kind: 'failed' };
        });
      }
      if (ids.length < SWEEP_BATCH || !progressed) return ended;
    }
  }

  // ------------------------------------------------------------ events

  /** Sends an event to the node that minted the session (directly when that is this one). */
  #tell(record: UploadStateRecord, event: OwnerEvent, cause?: unknown): void {
    const node = ownerOf(record).node;
    if (node === this.node) this.#deliver(event, cause);
    else this.#link.send(node, event);
  }

  /** Hands an event to this node's listeners. */
  #deliver(event: OwnerEvent, cause?: unknown): void {
    const session = sessionOf(event.s);
    switch (event.t) {
      case 'progress':
        this.#emit(this.#progress, (l) => l(session, event.offset, event.total));
        return;
      case 'complete':
        this.#emit(this.#completed, (l) => l(session, event.meta));
        return;
      case 'error': {
        // Ended elsewhere: this node forgets what it minted.
        for (const [id, local] of this.#locals) if (local.minted?.id === session.id) this.#forget(id, local);
        const why = cause ?? (event.message !== undefined ? new Error(event.message) : undefined);
        this.#emit(this.#error, (l) => l(session, event.reason as ReceiverErrorReason, why));
        return;
      }
    }
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
