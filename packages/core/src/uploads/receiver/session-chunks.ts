/**
 * One request's work on a claimed receiver session: the checks before any
 * byte is read (expiry, size, the store's veto, the quota line, the first
 * bytes), creating storage, the write with the lease renewed and the
 * SHA-256 following the stored bytes, the commit, completion, and ending a
 * session that failed. `sessions.ts` claims the session, queues requests and
 * routes events; this file does what happens while the lease is held.
 */
import type { Logger } from '../../logger.js';
import type { QuotaCounter } from '../cluster/quota.js';
import type { UploadStateRecord, UploadStateStore } from '../cluster/state-store.js';
import { isTransientStoreError, storeCan, type ChunkBody, type UploadRecord, type UploadStore } from '../store.js';
import { LeaseLostError, type Claim } from './claim.js';
import type { ByteRange } from './content-range.js';
import { observeBody, readHead, skipBytes } from './first-bytes.js';
import type { SerialLock } from './lock.js';
import type { OwnerEvent, OwnerLink } from './owner-link.js';
import { resumeSavedHash, startHash, type RunningHash } from './running-hash.js';
import { jsonMeta, ownerOf, snapshotOf, storeStateOf, uploadRecordOf, type SessionStoreState } from './session-record.js';
import { FIRST_BYTES, type ChunkOutcome, type ReceiverErrorReason } from './session-types.js';

/** What the node that minted a session keeps about it, beyond the record. */
export interface Minted {
  readonly token: string;
  /** The session's non-secret id (what listeners see as `session.id`). */
  readonly id: string;
  readonly store: UploadStore;
  readonly checkFirstBytes: ((head: Buffer) => Promise<string | undefined>) | undefined;
  readonly counter: QuotaCounter | undefined;
}

/** Per node, per session: requests of one session on this node queue here before they claim. */
export interface Local {
  readonly lock: SerialLock;
  /** Aborted when this node cancels the session, so its own store call under way stops at once. */
  ending: AbortController;
  minted?: Minted;
  /** The native hash of a session on an in-process state store, and the offset it is at. */
  hash?: { value: RunningHash; offset: number } | undefined;
}

/** What the chunk work needs from the registry. */
export interface SessionContext {
  readonly shared: boolean;
  readonly states: UploadStateStore;
  readonly tombstoneTtlMs: number;
  readonly logger: Logger;
  readonly link: OwnerLink;
  now(): number;
  storeOf(local: Local): UploadStore;
  counterFor(local: Local): QuotaCounter | undefined;
  /** Sends an event to the node that minted the session. */
  tell(record: UploadStateRecord, event: OwnerEvent, cause?: unknown): void;
  /** Forgets what this node kept about an ended session. */
  forget(id: string, local: Local): void;
}

/** The work of one request on a claimed session. */
export class SessionChunks {
  constructor(readonly ctx: SessionContext) {}

  async receiveClaimed(claim: Claim, local: Local, range: ByteRange, body: ChunkBody): Promise<ChunkOutcome> {
    const refused = await this.refuse(claim, local, range.total);
    if (refused) return refused;
    const record = claim.record;
    if (record.state === 'complete') return { kind: 'complete', total: range.total };
    const offset = record.offset;
    if (range.start > offset) return { kind: 'gap', offset };
    const json = storeStateOf(record);
    const length = range.end + 1 - offset;
    if (length <= 0) {
      // Nothing new (a resend): answer the offset, or complete if every byte is held.
      if (offset < range.total) return { kind: 'incomplete', offset, total: range.total };
      return this.guard(claim, local, json, false, () => this.complete(claim, local, json, range.total, offset));
    }
    const store = this.ctx.storeOf(local);
    const upload = uploadRecordOf(record, json, range.total);
    const veto = store.checkWrite?.(upload, offset, length);
    if (veto !== undefined) return { kind: 'rejected', message: veto };
    const overQuota = await this.reserveQuota(claim, local, json, range.end + 1, range.total);
    if (overQuota) return overQuota;

    let data = skipBytes(body, offset - range.start, length);
    const owner = ownerOf(record);
    if (offset === 0 && owner.check && json.checked !== true) {
      const read = await readHead(data, Math.min(FIRST_BYTES, length));
      data = read.body;
      const verdict = await this.ctx.link.checkFirstBytes(owner.node, claim.id, read.head);
      if (verdict === 'timeout' || verdict === 'unknown' || verdict.refusal !== undefined) await read.release();
      // The view is gone (its node died or it ended): nothing may be stored unchecked.
      if (verdict === 'unknown') return this.fail(claim, local, 'failed', 'writer_error', new Error('the view that started this upload is gone'));
      if (verdict === 'timeout') return { kind: 'unavailable', offset };
      if (verdict.refusal !== undefined) {
        await this.fail(claim, local, 'failed', 'not_accepted', new Error(verdict.refusal));
        return { kind: 'not_accepted', message: verdict.refusal };
      }
      json.checked = true;
    }
    return this.guard(claim, local, json, true, () => this.write(claim, local, json, store, upload, offset, range.total, data));
  }

  /** Creates storage if needed, writes `data` at `offset` while holding the lease, follows it with the hash, commits. */
  async write(
    claim: Claim,
    local: Local,
    json: SessionStoreState,
    store: UploadStore,
    upload: UploadRecord,
    offset: number,
    total: number,
    data: ChunkBody,
  ): Promise<ChunkOutcome> {
    const length = data.length;
    const next = await claim.renewing(async (leaseLost) => {
      const signal = AbortSignal.any([local.ending.signal, leaseLost]);
      const target = await this.ensureCreated(store, upload, json, signal);
      const before = await this.hashAt(local, claim.record, json, offset);
      const working = before && (await before.fork());
      let seen = 0;
      const observed = observeBody(data, (piece) => {
        working?.update(piece);
        seen += piece.length;
      });
      const stored = await store.write(target, offset, observed, signal);
      if (!Number.isInteger(stored) || stored < offset || stored > offset + length) {
        throw new RangeError(`store returned offset ${stored} for a write of ${length} bytes at ${offset}`);
      }
      const after = stored === offset + seen ? working : stored === offset ? before : await this.rehash(store, target, before, offset, stored, signal);
      this.keepHash(local, json, after, stored);
      return stored;
    });
    const expiresAt = this.ctx.now() + ownerOf(claim.record).ttlMs;
    if (next >= total) {
      try {
        return await this.complete(claim, local, json, total, next);
      } catch (error) {
        // Keep what this request stored whatever the completion's fate: commit the offset, then let the guard answer.
        if (claim.held && !claim.lost && !(error instanceof LeaseLostError)) {
          await claim.commit({ from: offset, offset: next, total, store: json, expiresAt, release: false });
          if (next > offset) this.ctx.tell(claim.record, { t: 'progress', s: snapshotOf(claim.record, { offset: next, total, expiresAt }), offset: next, total });
        }
        throw error;
      }
    }
    const result = await claim.commit({ from: offset, offset: next, total, store: json, expiresAt });
    if (result !== 'committed') return this.afterLostCommit(claim, total);
    if (next > offset) this.ctx.tell(claim.record, { t: 'progress', s: snapshotOf(claim.record, { offset: next, total, expiresAt }), offset: next, total });
    return { kind: 'incomplete', offset: next, total };
  }

  /** Creates the upload's storage unless done; records that (and the store's state) in `json`; the record to use from now on. */
  async ensureCreated(store: UploadStore, upload: UploadRecord, json: SessionStoreState, signal: AbortSignal): Promise<UploadRecord> {
    if (json.created === true) return upload;
    const state = await store.create(upload, signal);
    json.created = true;
    if (!state) return upload;
    json.state = { ...state };
    return { ...upload, state };
  }

  /** Completes the store once every byte is held and commits that (with the offset reached by this request). */
  async complete(claim: Claim, local: Local, json: SessionStoreState, total: number, offset: number): Promise<ChunkOutcome> {
    const record = claim.record;
    const from = claim.offset;
    const store = this.ctx.storeOf(local);
    const meta = await claim.renewing(async (leaseLost) => {
      const signal = AbortSignal.any([local.ending.signal, leaseLost]);
      // A zero-byte file: no chunk created storage, so this does.
      const upload = await this.ensureCreated(store, uploadRecordOf(record, json, total), json, signal);
      const hash = await this.hashAt(local, record, json, offset);
      const done = await store.complete(upload, signal);
      // Digest a copy: should the commit below be refused, the hash must still be usable.
      return hash ? { ...done, sha256: (await hash.fork()).digest() } : done;
    });
    await this.settleQuota(claim, local, json, total);
    const expiresAt = this.ctx.now() + ownerOf(record).ttlMs;
    const result = await claim.commit({
      from,
      offset,
      total,
      store: json,
      state: 'complete',
      expiresAt,
      ...(this.ctx.shared ? { meta: jsonMeta(meta) } : {}),
    });
    if (result !== 'committed') {
      this.ctx.logger.error({ upload: ownerOf(record).upload }, 'upload receiver completed an upload but lost its lease before recording it');
      return this.afterLostCommit(claim, total);
    }
    local.hash = undefined;
    const s = snapshotOf(record, { offset, total, state: 'complete', expiresAt });
    if (offset > from) this.ctx.tell(record, { t: 'progress', s, offset, total });
    this.ctx.tell(record, { t: 'complete', s, meta: this.ctx.shared ? jsonMeta(meta) : meta });
    return { kind: 'complete', total };
  }

  /** A commit refused (the lease lapsed, or the offset moved on): answer with the offset the record has now. */
  async afterLostCommit(claim: Claim, total: number): Promise<ChunkOutcome> {
    const now = await this.ctx.states.get(claim.id);
    if (!now) return { kind: 'gone', state: 'cancelled' };
    if (now.state === 'complete') return { kind: 'complete', total };
    return { kind: 'incomplete', offset: now.offset, total };
  }

  /**
   * Runs store work; transient failures answer `unavailable`, others fail the
   * session. Storage created by this request is recorded whatever happens,
   * so whoever ends the upload can abort it.
   */
  async guard(claim: Claim, local: Local, json: SessionStoreState, writing: boolean, work: () => Promise<ChunkOutcome>): Promise<ChunkOutcome> {
    const createdBefore = claim.record.store.created === true;
    try {
      return await work();
    } catch (error) {
      const record = claim.record;
      if (claim.lost || error instanceof LeaseLostError) return this.afterLostCommit(claim, record.total ?? 0);
      const keep = async () => {
        if (!createdBefore && json.created === true && claim.held) await claim.commit({ from: claim.offset, store: json });
      };
      // Cancelled by this node meanwhile: the cancel ends the session; this request just learns it is gone.
      if (local.ending.signal.aborted) {
        await keep();
        return { kind: 'gone', state: 'cancelled' };
      }
      if (isTransientStoreError(error)) {
        this.ctx.logger.warn({ err: error, ...ctx(record) }, 'upload receiver store busy; the client retries');
        await keep();
        return { kind: 'unavailable', offset: claim.offset };
      }
      this.ctx.logger.error({ err: error, ...ctx(record), writing }, 'upload receiver store failed; the upload fails');
      return this.fail(claim, local, 'failed', 'writer_error', error, json);
    }
  }

  // -------------------------------------------------------------- checks

  /** Checks that apply to every request, before any byte is read; ends the session where they say so. */
  async refuse(claim: Claim, local: Local, total: number): Promise<ChunkOutcome | undefined> {
    const record = claim.record;
    if (record.state === 'open' && record.expiresAt <= this.ctx.now()) {
      await this.fail(claim, local, 'expired', 'expired');
      return { kind: 'gone', state: 'expired' };
    }
    if (record.total !== undefined && total !== record.total) return { kind: 'total_mismatch', total: record.total };
    if (total > record.maxSize) {
      if (record.state === 'open') await this.fail(claim, local, 'failed', 'too_large');
      return { kind: 'too_large', maxSize: record.maxSize };
    }
    return undefined;
  }

  /**
   * A chunk that takes the upload past the bytes reserved against its quota
   * reserves the rest of the declared size; refused, the upload fails with
   * `quota_exceeded` and nothing of the chunk is stored.
   */
  async reserveQuota(claim: Claim, local: Local, json: SessionStoreState, end: number, total: number): Promise<ChunkOutcome | undefined> {
    const quota = ownerOf(claim.record).quota;
    const reserved = json.reserved ?? 0;
    if (!quota || end <= reserved) return undefined;
    const counter = this.ctx.counterFor(local);
    if (!counter) return undefined;
    const more = Math.max(total, end) - reserved;
    const limits = { ...(quota.maxBytes !== null ? { maxBytes: quota.maxBytes } : {}), ...(quota.periodMs !== null ? { periodMs: quota.periodMs } : {}) };
    const result = await counter.reserve(quota.key, { bytes: more, files: 0 }, limits);
    if (result.ok) {
      json.reserved = reserved + more;
      return undefined;
    }
    const message = `This file grew past the size it was started with, and its remaining ${sizeWords(more)} would go over your upload quota: ${sizeWords(result.usage.bytes)} of ${sizeWords(quota.maxBytes ?? 0)} used.`;
    await this.fail(claim, local, 'failed', 'quota_exceeded', new Error(message), json);
    return { kind: 'quota_exceeded', message };
  }

  /** At completion, gives back what was reserved beyond the file's real size. */
  async settleQuota(claim: Claim, local: Local, json: SessionStoreState, total: number): Promise<void> {
    const quota = ownerOf(claim.record).quota;
    const reserved = json.reserved ?? 0;
    const counter = this.ctx.counterFor(local);
    if (!quota || !counter || reserved <= total) return;
    await counter.release(quota.key, { bytes: reserved - total, files: 0 }).catch((err: unknown) => this.ctx.logger.warn({ err }, 'refunding an upload quota failed'));
    json.reserved = total;
  }

  // -------------------------------------------------------------- hashing

  /** The hash at `offset`: fresh at 0, the savable one from the record, or this node's native one; undefined when it was lost. */
  async hashAt(local: Local, record: UploadStateRecord, json: SessionStoreState, offset: number): Promise<RunningHash | undefined> {
    if (this.ctx.shared) {
      if (typeof json.hash === 'string') return resumeSavedHash(json.hash);
      if (json.hash === undefined && offset === 0) return startHash('savable');
      return undefined;
    }
    if (local.hash && local.hash.offset === offset) return local.hash.value;
    if (offset === 0 && record.offset === 0) return startHash('local');
    return undefined;
  }

  keepHash(local: Local, json: SessionStoreState, hash: RunningHash | undefined, offset: number): void {
    if (this.ctx.shared) json.hash = hash?.save() ?? null;
    else local.hash = hash ? { value: hash, offset } : undefined;
  }

  /** The store kept part of what it read: rebuild the hash from the stored bytes, where the store can read them back. */
  async rehash(store: UploadStore, upload: UploadRecord, before: RunningHash | undefined, from: number, to: number, signal: AbortSignal): Promise<RunningHash | undefined> {
    if (!before || !store.read || !storeCan(store, 'read')) return undefined;
    const hash = await before.fork();
    for await (const piece of store.read(upload.id, from, to, signal)) hash.update(piece);
    return hash;
  }

  /**
   * Ends an open session: aborts its storage, ends the record (a tombstone
   * answers late chunks), refunds its quota, tells the owner why.
   */
  async fail(
    claim: Claim,
    local: Local,
    state: 'expired' | 'cancelled' | 'failed',
    reason?: ReceiverErrorReason,
    cause?: unknown,
    json: SessionStoreState = storeStateOf(claim.record),
  ): Promise<ChunkOutcome> {
    const record = claim.record;
    if (json.created === true) {
      try {
        await this.ctx.storeOf(local).abort(uploadRecordOf(record, json));
      } catch (err) {
        // The session ends either way, and an S3 lifecycle rule or a tmp
        // cleaner reclaims what an abort could not; the failure is reported.
        this.ctx.logger.warn({ err, ...ctx(record) }, 'upload receiver could not abort stored parts');
      }
    }
    await claim.end(state, this.ctx.tombstoneTtlMs);
    await this.refund(local, record, json.reserved ?? 0, 1);
    this.ctx.forget(claim.id, local);
    const why = reason ?? (state === 'expired' ? 'expired' : undefined);
    if (why) {
      const message = cause instanceof Error ? cause.message : undefined;
      this.ctx.tell(record, { t: 'error', s: snapshotOf(record, { state }), reason: why, ...(message !== undefined ? { message } : {}) }, cause);
    }
    return { kind: 'failed' };
  }

  async refund(local: Local, record: UploadStateRecord, bytes: number, files: number): Promise<void> {
    const quota = ownerOf(record).quota;
    const counter = this.ctx.counterFor(local);
    if (!quota || !counter || (bytes === 0 && files === 0)) return;
    await counter.release(quota.key, { bytes, files }).catch((err: unknown) => this.ctx.logger.warn({ err }, 'refunding an upload quota failed'));
  }
}

function ctx(record: UploadStateRecord): Record<string, string> {
  const owner = ownerOf(record);
  return { session: owner.upload, view: owner.viewId, ref: owner.entryRef };
}

function sizeWords(bytes: number): string {
  if (bytes >= 1_000_000_000) return `${(bytes / 1_000_000_000).toFixed(1)} GB`;
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1000)} kB`;
}

