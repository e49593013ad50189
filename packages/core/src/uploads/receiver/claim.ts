/**
 * One request's hold on an upload: the lease taken by `claim` (with the
 * record it read), renewed while a store call runs, and given up exactly
 * once, by a commit that releases it, by ending the upload, or by `release`.
 */
import type { Logger } from '../../logger.js';
import type { CommitResult, EndedState, Lease, UploadChange, UploadStateRecord, UploadStateStore } from '../cluster/state-store.js';

/** The reason a store call is aborted with when its lease could not be renewed. */
export class LeaseLostError extends Error {
  constructor(id: string) {
    super(`lost the lease of upload ${id.slice(0, 12)}… (another node may now hold it)`);
    this.name = 'LeaseLostError';
  }
}

export class Claim {
  #held = true;
  #lost = false;
  /** The record's offset as this claim last committed it (its `from` for a further commit). */
  offset: number;

  constructor(
    readonly states: UploadStateStore,
    readonly id: string,
    readonly lease: Lease,
    readonly record: UploadStateRecord,
    readonly leaseMs: number,
    readonly logger: Logger,
  ) {
    this.offset = record.offset;
  }

  /** Whether this claim still holds the lease. */
  get held(): boolean {
    return this.#held;
  }

  /** Whether the lease was found lapsed while renewing it. */
  get lost(): boolean {
    return this.#lost;
  }

  /**
   * Runs `work`, renewing the lease every third of its lifetime; the signal
   * given to `work` aborts as soon as a renewal is refused (the lease lapsed
   * and another node may hold it), so a store call stops instead of racing it.
   */
  async renewing<T>(work: (leaseLost: AbortSignal) => Promise<T>): Promise<T> {
    const lost = new AbortController();
    const every = Math.max(50, Math.floor(this.leaseMs / 3));
    const timer = setInterval(() => {
      this.states.renew(this.id, this.lease, this.leaseMs).then(
        (ok) => {
          if (ok) return;
          this.#lost = true;
          lost.abort(new LeaseLostError(this.id));
        },
        (err: unknown) => this.logger.warn({ err }, 'upload receiver could not renew a lease'),
      );
    }, every);
    timer.unref();
    try {
      return await work(lost.signal);
    } finally {
      clearInterval(timer);
    }
  }

  /** Compare-and-set (see `UploadStateStore.commit`); releases the lease unless `release: false`. */
  async commit(change: UploadChange): Promise<CommitResult> {
    const result = await this.states.commit(this.id, this.lease, change);
    if (result === 'lost') this.#lost = true;
    if (result === 'committed' && change.offset !== undefined) this.offset = change.offset;
    // A stale commit leaves the lease held (release() gives it back); a lost one was not ours any more.
    if (result === 'lost' || (result === 'committed' && change.release !== false)) this.#held = false;
    return result;
  }

  /** Ends the upload (the lease goes with the record). */
  async end(state: EndedState, tombstoneMs: number): Promise<boolean> {
    this.#held = false;
    return this.states.end(this.id, this.lease, state, tombstoneMs);
  }

  /** Gives the lease back if this claim still holds it; never rejects. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    await this.states.release(this.id, this.lease).catch((err: unknown) => this.logger.warn({ err }, 'upload receiver could not release a lease'));
  }
}
