/**
 * What both upload channels share (the official uploader's and the Inlet
 * uploader's): the entry's stored upload with one write outstanding, the
 * server's streaming SHA-256, the chunk timer, sniffing on the first bytes,
 * failures recorded on the entry, and release when the channel ends.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Channel, ChannelContext, Reply, TerminateReason } from '../protocol/channel.js';
import { error } from '../protocol/channel.js';
import type { EntryState } from './config.js';
import type { ChunkLimits, StoredEntry } from './channels.js';
import type { UploadManager } from './manager.js';
import { ENTRY_ERRORS, UPLOAD_REASONS } from './reasons.js';
import { sniffFirstChunk, type SniffOption } from './sniff.js';
import type { UploadErrorReason } from './socket-api.js';
import { chunkFromBuffer } from './store.js';
import { TRACING } from '../telemetry/channels.js';

/** What a channel checks the first bytes against. */
export interface SniffRules {
  readonly accept: readonly string[] | 'any';
  readonly sniff: SniffOption | undefined;
}

/** A join refused, with its reason (what the client's join receives as `error`). */
export interface JoinRefusal {
  readonly error: { readonly reason: string };
}

/**
 * Creates (or claims) an entry's stored upload for a join, with the slot
 * {@link UploadManager.entryForChannel} reserved: a failure is
 * `writer_error` (recorded on the entry), a refusal `open` returns gives the
 * slot back, and an entry cancelled meanwhile lets go of what was opened.
 *
 * @example
 * const stored = await openForJoin(manager, entry, async () => manager.storeFor(name, entry));
 * if ('error' in stored) return stored;
 */
export async function openForJoin(manager: UploadManager, entry: EntryState, open: () => Promise<StoredEntry | JoinRefusal>): Promise<StoredEntry | JoinRefusal> {
  let stored: StoredEntry | JoinRefusal;
  try {
    stored = await open();
  } catch (e) {
    manager.releaseReservation(entry);
    manager.channelFailed(entry, ENTRY_ERRORS.WRITER_FAILURE, e instanceof Error ? e.message : String(e));
    return { error: { reason: UPLOAD_REASONS.WRITER_ERROR } };
  }
  if ('error' in stored) {
    manager.releaseReservation(entry);
    return stored;
  }
  if (entry.cancelled) {
    // Cancelled while the upload was being created or claimed.
    manager.releaseReservation(entry);
    stored.resume?.end();
    await stored.store.abort(stored.record).catch(() => undefined);
    return { error: { reason: UPLOAD_REASONS.DISALLOWED } };
  }
  return stored;
}

export abstract class EntryChannel implements Channel {
  protected readonly ctx: ChannelContext;
  protected readonly manager: UploadManager;
  protected readonly entry: EntryState;
  protected readonly limits: ChunkLimits;
  protected readonly stored: StoredEntry;
  readonly #rules: SniffRules;
  /** The server's SHA-256 of the bytes accepted so far, in order. */
  readonly #hash: Hash;
  /** Aborted when the channel goes away, so a store call under way stops. */
  readonly #gone = new AbortController();
  #timer?: NodeJS.Timeout;
  #lastActivity = Date.now();
  #sniffed = false;
  protected closed = false;
  /** The stored upload was completed or aborted: no more calls on it. */
  protected settled = false;
  /**
   * Write-behind: a chunk is acknowledged while it is being written, so store
   * time overlaps the transfer of the next chunk. At most one write is
   * outstanding; its failure is reported on the next chunk or at completion.
   */
  #writing: Promise<void> = Promise.resolve();
  #writeError?: unknown;

  constructor(ctx: ChannelContext, manager: UploadManager, entry: EntryState, limits: ChunkLimits, stored: StoredEntry, rules: SniffRules) {
    this.ctx = ctx;
    this.manager = manager;
    this.entry = entry;
    this.limits = limits;
    this.stored = stored;
    this.#rules = rules;
    this.#hash = stored.hash ?? createHash('sha256');
  }

  abstract handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined>;

  /** Whether the channel can still take bytes. */
  protected get open(): boolean {
    return !this.closed && !this.settled;
  }

  /**
   * Sniffs the first bytes once (the chunk at offset 0). On a refusal the
   * entry fails with `not_accepted` and a message, nothing is written, and
   * the reply to send is returned.
   */
  protected async sniffFirst(data: Buffer): Promise<Reply | undefined> {
    if (this.#sniffed || this.entry.received > 0) return undefined;
    this.#sniffed = true;
    const refusal = await sniffFirstChunk({ accept: this.#rules.accept, entry: this.entry, firstBytes: data, sniff: this.#rules.sniff });
    if (!refusal) return undefined;
    await this.fail(refusal.reason, refusal.message);
    return error({ reason: refusal.reason });
  }

  /**
   * Queues `data` (the bytes at `entry.received`) for writing after the write
   * under way, and hashes it; returns once that earlier write finished. A
   * store veto refuses the bytes before anything is written.
   */
  protected async queueWrite(data: Buffer): Promise<Reply | undefined> {
    const { store, record } = this.stored;
    const at = this.entry.received;
    const veto = store.checkWrite?.(record, at, data.length);
    if (veto !== undefined) {
      await this.fail(ENTRY_ERRORS.WRITER_FAILURE, veto);
      return error({ reason: UPLOAD_REASONS.INVALID_CHUNK });
    }
    await this.#writing;
    if (!this.open || this.#writeError !== undefined) return undefined;
    this.#hash.update(data);
    const write = () => store.write(record, at, chunkFromBuffer(data), this.#gone.signal);
    this.#writing = (TRACING.chunk.hasSubscribers ? TRACING.chunk.tracePromise(write, { ...this.#traceFields(), offset: at, bytes: data.length }) : write()).then(
      (next) => {
        if (next !== at + data.length) this.#writeError = new Error(`the store kept ${next - at} of ${data.length} bytes`);
      },
      (e: unknown) => {
        this.#writeError = e;
      },
    );
    return undefined;
  }

  /** The view, upload name and entry ref, for telemetry. */
  #traceFields(): { view: string; upload: string; ref: string } {
    return { view: this.manager.viewId, upload: this.entry.uploadConfig, ref: this.entry.ref };
  }

  /** The SHA-256 (hex) of the bytes accepted so far; the hash goes on. */
  protected sha256SoFar(): string {
    return this.#hash.copy().digest('hex');
  }

  /** Waits for the write under way. */
  protected async drain(): Promise<void> {
    await this.#writing;
  }

  /** The failure of an earlier write, if one failed. */
  protected get writeError(): unknown {
    return this.#writeError;
  }

  protected async writeFailed(cause: unknown): Promise<Reply> {
    const message = cause instanceof Error ? cause.message : String(cause);
    await this.fail(ENTRY_ERRORS.WRITER_FAILURE, message);
    return error({ reason: UPLOAD_REASONS.WRITER_ERROR });
  }

  /** Fails the entry: the stored upload is aborted and the reason recorded on the entry. */
  protected async fail(reason: UploadErrorReason, message: string): Promise<void> {
    this.clearTimer();
    this.stored.resume?.end();
    await this.abortStored();
    this.manager.channelFailed(this.entry, reason, message);
  }

  /**
   * Completes the stored upload (every byte is written): the entry's meta is
   * the store's plus the server's SHA-256. On failure records it and returns
   * the error reply.
   */
  protected async completeStored(): Promise<Reply | undefined> {
    if (this.settled) return error({ reason: UPLOAD_REASONS.DISALLOWED });
    await this.#writing;
    if (this.#writeError !== undefined) return this.writeFailed(this.#writeError);
    // Settled from here on: neither a late abort nor another write may touch the upload.
    this.settled = true;
    const { store, record } = this.stored;
    try {
      const complete = () => store.complete(record, this.#gone.signal);
      const meta = await (TRACING.complete.hasSubscribers ? TRACING.complete.tracePromise(complete, { ...this.#traceFields(), size: this.entry.received }) : complete());
      this.entry.meta = { ...meta, sha256: this.#hash.digest('hex') };
      this.stored.resume?.end();
      return undefined;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.manager.channelFailed(this.entry, ENTRY_ERRORS.WRITER_FAILURE, message);
      await store.abort(record).catch(() => undefined);
      return error({ reason: UPLOAD_REASONS.WRITER_ERROR });
    }
  }

  /** Aborts the stored upload once, after the write under way. */
  protected async abortStored(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.#writing;
    await this.stored.store.abort(this.stored.record).catch(() => undefined);
  }

  /** Ms since the last chunk arrived (or the join). */
  idleMs(): number {
    return Date.now() - this.#lastActivity;
  }

  protected armTimer(): void {
    this.#lastActivity = Date.now();
    this.clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.closed || this.entry.bytesComplete) return;
      if (this.stored.resume && !this.settled) {
        // A stall is what a lost network looks like while the socket survives it: the upload is
        // parked and the channel crashes, so the client rejoins once it is back and claims it.
        void this.release('park');
        this.ctx.crash();
        return;
      }
      this.manager.channelFailed(this.entry, ENTRY_ERRORS.CHUNK_TIMEOUT, `no chunk for ${this.limits.chunkTimeout} ms`);
      void this.release('discard');
      this.ctx.close();
    }, this.limits.chunkTimeout);
    this.#timer.unref?.();
  }

  protected clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Closes from the server side: consume, cancel (`'discard'`), or the view's end (`'park'`). */
  async close(mode: 'park' | 'discard' = 'discard'): Promise<void> {
    if (this.closed) return;
    const released = this.release(mode);
    this.ctx.close();
    await released;
  }

  /**
   * The channel is gone. A leave while the view lives is the client's cancel;
   * anything else (socket drop, the view's end or crash, a rejoin) parks a
   * resumable upload.
   */
  terminate(reason: TerminateReason): void {
    void this.release(reason === 'leave' && this.viewAlive() ? 'discard' : 'park');
  }

  /** Whether the view this entry belongs to still runs (a leave after its end is no cancel). */
  protected viewAlive(): boolean {
    return true;
  }

  protected async release(mode: 'park' | 'discard'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.manager.detachChannel(this.entry);
    if (this.entry.bytesComplete) return;
    const resume = this.stored.resume;
    if (mode === 'park' && resume && !this.settled && this.#writeError === undefined) {
      // The write under way finishes (a resumed upload continues after it);
      // the session is usable only if it succeeded.
      resume.park(this.entry.received, this.#hash, this.#writing.then(() => this.#writeError === undefined));
      this.manager.channelParked(this.entry, resume.id);
      return;
    }
    resume?.end();
    this.#gone.abort(new Error('upload channel closed'));
    await this.abortStored();
  }
}
