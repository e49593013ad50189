/**
 * What each entry of a view reserved under its config's quota at preflight,
 * until the entry is kept (consumed: it goes on counting) or dropped (it is
 * refunded). External uploads hand their hold over to the receiver session.
 */
import { quotaRefusal, type QuotaUsage } from './cluster/quota.js';
import type { EntryState } from './config.js';
import type { HeldQuota } from './external.js';
import type { ConfigState } from './state.js';

/**
 * The quota holds of one view's entries.
 *
 * @example
 * const holds = new QuotaHolds()
 * const refusal = await holds.reserve(state, entry) // undefined when reserved
 * await holds.refund(state, entry)                    // on cancel
 */
export class QuotaHolds {
  readonly #held = new Map<EntryState, QuotaUsage>();

  /**
   * Reserves the entry's declared size and one file under the config's quota
   * key, once per entry. Resolves with undefined when reserved (or no quota
   * applies), else with the plain-words refusal for `quota_exceeded`.
   */
  async reserve(state: ConfigState, entry: EntryState): Promise<string | undefined> {
    const quota = state.raw.quota;
    if (!quota || this.#held.has(entry)) return undefined;
    const amount = { bytes: entry.clientSize, files: 1 };
    const result = await quota.counter.reserve(quota.key, amount, quota);
    if (result.ok) {
      this.#held.set(entry, amount);
      return undefined;
    }
    return quotaRefusal(result, amount.bytes, quota);
  }

  /** Gives back what an entry that will not be kept reserved; rejects if the counter does. */
  async refund(state: ConfigState, entry: EntryState): Promise<void> {
    const amount = this.#held.get(entry);
    const quota = state.raw.quota;
    this.#held.delete(entry);
    if (!amount || !quota) return;
    await quota.counter.release(quota.key, amount);
  }

  /** The entry is kept (consumed) or its hold went elsewhere: forget it without a refund. */
  forget(entry: EntryState): void {
    this.#held.delete(entry);
  }

  /** The entry's hold, for the receiver to take over; undefined when it holds nothing. */
  handOver(state: ConfigState, entry: EntryState): HeldQuota | undefined {
    const amount = this.#held.get(entry);
    const quota = state.raw.quota;
    if (!amount || !quota) return undefined;
    const { counter, key, maxBytes, maxFiles, periodMs } = quota;
    return {
      quota: { counter, key, reserved: amount.bytes, maxBytes, maxFiles, periodMs },
      handedOver: () => this.#held.delete(entry),
    };
  }
}
