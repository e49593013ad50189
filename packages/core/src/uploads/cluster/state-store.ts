/**
 * The shared record of one resumable upload: its durable offset, declared
 * size, state, expiry, who to tell, and the storage's own state (an S3 upload
 * id and the parts with their ETags, a running checksum). Any node can
 * continue an upload from it. A chunk costs two calls, each one round trip
 * on Redis: `claim` (take the upload's lease and read the record) and
 * `commit` (compare-and-set the offset, append the part, release the lease).
 *
 * The Redis implementation is `RedisUploadStateStore` in `@inletjs/redis`;
 * conformance cases: test/conformance/upload-state-cases.ts. The design note
 * is docs/deployment.md ("What is shared").
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject } from './json.js';

/**
 * Lifecycle of an upload; only `open` accepts bytes, `complete` still answers retries.
 *
 * @example
 * const finished = (s: UploadState) => s !== 'open' // only `open` takes bytes
 */
export type UploadState = 'open' | 'complete' | 'expired' | 'cancelled' | 'failed';
/**
 * States an upload ends in.
 *
 * @example
 * const state: EndedState = 'cancelled'
 * await states.end(id, lease, state, 60_000) // late chunks are told `gone` for a minute
 */
export type EndedState = Exclude<UploadState, 'open'>;

/**
 * One stored piece of the file, appended by the commit that stored it.
 *
 * @example
 * const part: UploadPart = { offset: 0, size: 5 * 1024 * 1024, etag: '"9b2cf535f27731c974343645a3985328"' }
 * await states.commit(id, lease, { from: 0, offset: part.size, part })
 */
export interface UploadPart {
  /** Where the part starts in the file. */
  readonly offset: number;
  readonly size: number;
  /** S3 part ETag; the part number is the part's index + 1. */
  readonly etag?: string;
  /** A checksum of the part, if the store computes one (e.g. base64 sha256). */
  readonly checksum?: string;
}

/**
 * What `create` is given.
 *
 * @example
 * const record: NewUploadRecord = { maxSize: 4e9, total: size, expiresAt: Date.now() + 15 * 60_000, owner: { viewId, entryRef } }
 * const created = await states.create(id, record) // false when the id exists
 */
export interface NewUploadRecord {
  readonly maxSize: number;
  /** Epoch ms after which an idle open upload is expired. */
  readonly expiresAt: number;
  /** Whom the upload belongs to, e.g. `{ viewId, confRef, entryRef }`. */
  readonly owner: JsonObject;
  readonly total?: number;
  /** The storage's own state, if it has any before the first chunk. */
  readonly store?: JsonObject;
}

/**
 * An upload's shared record.
 *
 * @example
 * const record: UploadStateRecord | undefined = await states.get(id)
 * if (record?.state === 'open') console.log(`${record.offset} of ${record.total ?? '?'} bytes`)
 */
export interface UploadStateRecord {
  readonly id: string;
  readonly state: UploadState;
  /** Bytes durably stored: always a prefix of the file. */
  readonly offset: number;
  /** Declared file size, once known. */
  readonly total: number | undefined;
  readonly maxSize: number;
  readonly expiresAt: number;
  readonly owner: JsonObject;
  /** The storage's own state (`{}` when it has none). */
  readonly store: JsonObject;
  /** Number of parts committed. */
  readonly partCount: number;
  /** The parts, in order; present only when asked for (`{ parts: true }`). */
  readonly parts?: readonly UploadPart[];
  /** What the store's `complete` returned, once complete. */
  readonly meta?: JsonObject;
}

/**
 * Proof of holding an upload's lease.
 *
 * @example
 * const c = await states.claim(id, 5_000)
 * if (c.kind === 'claimed') { const lease: Lease = c.lease; await states.renew(id, lease, 5_000) }
 */
export interface Lease {
  readonly token: string;
}

/**
 * What `claim` resolves to.
 *
 * @example
 * const c: ClaimResult = await states.claim(id, 5_000)
 * if (c.kind === 'busy') return retryLater()
 * if (c.kind === 'gone') return c.state === 'complete' ? done() : refuse()
 */
export type ClaimResult =
  | { readonly kind: 'claimed'; readonly lease: Lease; readonly record: UploadStateRecord }
  /** Another node (or request) holds the lease: answer "retry later". */
  | { readonly kind: 'busy' }
  | { readonly kind: 'missing' }
  /** Ended recently; `state` says how (late chunks get 410). */
  | { readonly kind: 'gone'; readonly state: EndedState };

/**
 * A compare-and-set change to a record.
 *
 * @example
 * const change: UploadChange = { from: record.offset, offset: record.offset + n, expiresAt: Date.now() + ttlMs }
 * await states.commit(id, lease, change)
 */
export interface UploadChange {
  /** The offset the caller read; the change applies only if the record still has it. */
  readonly from: number;
  /** New offset; default `from`. */
  readonly offset?: number;
  readonly total?: number;
  /** A part to append. */
  readonly part?: UploadPart;
  /** Replaces the storage state. */
  readonly store?: JsonObject;
  /** `complete` once the store completed the upload. */
  readonly state?: 'open' | 'complete';
  readonly meta?: JsonObject;
  readonly expiresAt?: number;
  /** Releases the lease in the same step; default true. */
  readonly release?: boolean;
}

/**
 * `committed`; `stale`: the offset moved on (another node stored these bytes); `lost`: the lease lapsed.
 *
 * @example
 * const result: CommitResult = await states.commit(id, lease, { from: record.offset, offset: record.offset + n })
 * if (result === 'stale') return reread() // another node stored these bytes first
 */
export type CommitResult = 'committed' | 'stale' | 'lost';

/**
 * Options of `get` and `claim`.
 *
 * @example
 * const withParts: ReadOptions = { parts: true } // completing an S3 upload needs them
 * const record = await states.get(id, withParts) // record?.parts lists every part, in order
 */
export interface ReadOptions {
  /** Also read every part (needed to complete an S3 upload); default false. */
  readonly parts?: boolean;
}

/**
 * Shared upload records with a lease per upload.
 *
 * Contract (checked by the conformance cases):
 * - `create` makes a record `open` at offset 0 and resolves false if the id exists.
 * - At most one lease per upload is held at a time; a lease lapses `leaseMs`
 *   after it was taken or renewed, so a node that died holding it blocks no one.
 * - `commit` applies its change only while the lease holds and the offset is
 *   still `from`, atomically (offset, part, store state, expiry, state, release).
 * - `end` (lease required) removes the record and leaves a tombstone: `claim`
 *   answers `gone` with the state for `tombstoneMs`, then `missing`.
 * - `expired(now)` lists open uploads whose `expiresAt` is past.
 *
 * @example
 * const c = await states.claim(id, 30_000);
 * if (c.kind !== 'claimed') return answer(c);
 * const stored = await writeBytes(c.record);
 * await states.commit(id, c.lease, { from: c.record.offset, offset: stored.offset, part: stored.part });
 */
export interface UploadStateStore {
  /** True when other processes see the same records (Redis); the in-process store leaves it out. */
  readonly shared?: boolean;
  create(id: string, record: NewUploadRecord): Promise<boolean>;
  get(id: string, options?: ReadOptions): Promise<UploadStateRecord | undefined>;
  claim(id: string, leaseMs: number, options?: ReadOptions): Promise<ClaimResult>;
  renew(id: string, lease: Lease, leaseMs: number): Promise<boolean>;
  commit(id: string, lease: Lease, change: UploadChange): Promise<CommitResult>;
  release(id: string, lease: Lease): Promise<void>;
  end(id: string, lease: Lease, state: EndedState, tombstoneMs: number): Promise<boolean>;
  expired(now: number, limit: number): Promise<string[]>;
}

interface Held {
  record: Omit<UploadStateRecord, 'parts' | 'partCount'>;
  parts: UploadPart[];
  lease?: { token: string; until: number };
}

/**
 * The single-process {@link UploadStateStore}: right for one node.
 *
 * @example
 * const states = new MemoryUploadStateStore();
 * await states.create('u1', { maxSize: 1e9, expiresAt: Date.now() + 60_000, owner: { viewId: 'v' } });
 */
export class MemoryUploadStateStore implements UploadStateStore {
  readonly #records = new Map<string, Held>();
  readonly #tombstones = new Map<string, { state: EndedState; until: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async create(id: string, record: NewUploadRecord): Promise<boolean> {
    if (this.#records.has(id)) return false;
    this.#tombstones.delete(id);
    this.#records.set(id, {
      record: {
        id,
        state: 'open',
        offset: 0,
        total: record.total,
        maxSize: record.maxSize,
        expiresAt: record.expiresAt,
        owner: structuredClone(record.owner),
        store: structuredClone(record.store ?? {}),
      },
      parts: [],
    });
    return true;
  }

  async get(id: string, options: ReadOptions = {}): Promise<UploadStateRecord | undefined> {
    const held = this.#records.get(id);
    return held && this.#view(held, options);
  }

  async claim(id: string, leaseMs: number, options: ReadOptions = {}): Promise<ClaimResult> {
    const held = this.#records.get(id);
    if (!held) {
      const tomb = this.#tombstones.get(id);
      if (tomb && tomb.until > this.#now()) return { kind: 'gone', state: tomb.state };
      if (tomb) this.#tombstones.delete(id);
      return { kind: 'missing' };
    }
    if (this.#leaseOf(held)) return { kind: 'busy' };
    const token = randomBytes(16).toString('base64url');
    held.lease = { token, until: this.#now() + leaseMs };
    return { kind: 'claimed', lease: { token }, record: this.#view(held, options) };
  }

  async renew(id: string, lease: Lease, leaseMs: number): Promise<boolean> {
    const held = this.#records.get(id);
    const current = held && this.#leaseOf(held);
    if (current?.token !== lease.token) return false;
    current.until = this.#now() + leaseMs;
    return true;
  }

  async commit(id: string, lease: Lease, change: UploadChange): Promise<CommitResult> {
    const held = this.#records.get(id);
    if (!held || this.#leaseOf(held)?.token !== lease.token) return 'lost';
    const r = held.record;
    if (r.offset !== change.from) return 'stale';
    held.record = {
      ...r,
      offset: change.offset ?? r.offset,
      total: change.total ?? r.total,
      store: change.store ? structuredClone(change.store) : r.store,
      state: change.state ?? r.state,
      meta: change.meta ? structuredClone(change.meta) : r.meta,
      expiresAt: change.expiresAt ?? r.expiresAt,
    };
    if (change.part) held.parts.push({ ...change.part });
    if (change.release ?? true) held.lease = undefined;
    return 'committed';
  }

  async release(id: string, lease: Lease): Promise<void> {
    const held = this.#records.get(id);
    if (held && this.#leaseOf(held)?.token === lease.token) held.lease = undefined;
  }

  async end(id: string, lease: Lease, state: EndedState, tombstoneMs: number): Promise<boolean> {
    const held = this.#records.get(id);
    if (!held || this.#leaseOf(held)?.token !== lease.token) return false;
    this.#records.delete(id);
    if (tombstoneMs > 0) this.#tombstones.set(id, { state, until: this.#now() + tombstoneMs });
    return true;
  }

  async expired(now: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const [id, held] of this.#records) {
      if (out.length >= limit) break;
      if (held.record.state === 'open' && held.record.expiresAt <= now) out.push(id);
    }
    for (const [id, tomb] of this.#tombstones) if (tomb.until <= this.#now()) this.#tombstones.delete(id);
    return out;
  }

  #leaseOf(held: Held): { token: string; until: number } | undefined {
    if (held.lease && held.lease.until <= this.#now()) held.lease = undefined;
    return held.lease;
  }

  #view(held: Held, options: ReadOptions): UploadStateRecord {
    const view: UploadStateRecord = { ...structuredClone(held.record), partCount: held.parts.length };
    return options.parts ? { ...view, parts: held.parts.map((p) => ({ ...p })) } : view;
  }
}
