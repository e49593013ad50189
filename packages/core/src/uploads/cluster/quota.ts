/**
 * Byte and file-count quotas per app-supplied key (a user, a browser session,
 * a tenant), shared by every node. `reserve` is atomic: two uploads racing on
 * two nodes can never both pass a limit only one fits under. The Redis
 * implementation is `RedisQuotaCounter` in `@inletjs/redis`. Conformance
 * cases: test/conformance/quota-cases.ts.
 */

/**
 * What one key may use. Omitted limits are unlimited.
 *
 * @example
 * const daily: QuotaLimits = { maxBytes: 1 << 30, maxFiles: 500, periodMs: 24 * 3_600_000 } // 1 GiB and 500 files a day
 * socket.allowUpload('photos', { quota: { counter, key: `user:${userId}`, ...daily } })
 */
export interface QuotaLimits {
  /** Most bytes reserved at once under the key. */
  readonly maxBytes?: number;
  /** Most files reserved at once under the key. */
  readonly maxFiles?: number;
  /**
   * Makes the quota a fixed window: usage resets `periodMs` after the key's
   * first reservation (e.g. 1 GiB per day). Default: no reset; usage only
   * falls through `release`.
   */
  readonly periodMs?: number;
}

/**
 * Usage of one key.
 *
 * @example
 * const { bytes, files }: QuotaUsage = await counter.usage(`user:${userId}`)
 */
export interface QuotaUsage {
  readonly bytes: number;
  readonly files: number;
}

/**
 * What `reserve` resolves to: the usage after it (granted) or as it stands (refused).
 *
 * @example
 * const r: QuotaResult = await counter.reserve(`user:${userId}`, { bytes: size, files: 1 }, { maxBytes: 1 << 30 })
 * if (!r.ok) console.log(`over quota on ${r.exceeded}: ${r.usage.bytes} bytes used`)
 */
export type QuotaResult =
  | { readonly ok: true; readonly usage: QuotaUsage }
  | { readonly ok: false; readonly usage: QuotaUsage; readonly exceeded: 'bytes' | 'files' };

/**
 * Quota counters.
 *
 * Contract: `reserve` adds `amount` to the key's usage only if neither limit
 * would be exceeded, both counters or neither; `release` subtracts, never
 * below zero; amounts are non-negative safe integers.
 *
 * @example
 * const r = await quota.reserve(`user:${userId}`, { bytes: size, files: 1 }, { maxBytes: 1 << 30, maxFiles: 100 });
 * if (!r.ok) return refuse('quota_exceeded');
 * // ...on cancel or failure:
 * await quota.release(`user:${userId}`, { bytes: size, files: 1 });
 */
export interface QuotaCounter {
  reserve(key: string, amount: QuotaUsage, limits: QuotaLimits): Promise<QuotaResult>;
  release(key: string, amount: QuotaUsage): Promise<QuotaUsage>;
  usage(key: string): Promise<QuotaUsage>;
}

/**
 * Throws a RangeError unless `amount` holds two non-negative safe integers.
 * @example
 * checkQuotaAmount({ bytes: 1024, files: 1 }) // fine
 * checkQuotaAmount({ bytes: -1, files: 0 })  // throws RangeError
 */
export function checkQuotaAmount(amount: QuotaUsage): void {
  for (const [name, v] of [['bytes', amount.bytes], ['files', amount.files]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`quota ${name} must be a non-negative integer (got ${v})`);
  }
}

/**
 * The single-process {@link QuotaCounter}: right for one node.
 *
 * @example
 * const quota = new MemoryQuotaCounter();
 * await quota.reserve('tenant:7', { bytes: 10, files: 1 }, { maxFiles: 1 }); // ok
 * await quota.reserve('tenant:7', { bytes: 10, files: 1 }, { maxFiles: 1 }); // refused: files
 */
export class MemoryQuotaCounter implements QuotaCounter {
  readonly #keys = new Map<string, { bytes: number; files: number; until: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async reserve(key: string, amount: QuotaUsage, limits: QuotaLimits): Promise<QuotaResult> {
    checkQuotaAmount(amount);
    const entry = this.#entry(key);
    const usage = { bytes: entry?.bytes ?? 0, files: entry?.files ?? 0 };
    if (limits.maxBytes !== undefined && usage.bytes + amount.bytes > limits.maxBytes) return { ok: false, usage, exceeded: 'bytes' };
    if (limits.maxFiles !== undefined && usage.files + amount.files > limits.maxFiles) return { ok: false, usage, exceeded: 'files' };
    const until = entry?.until ?? (limits.periodMs ? this.#now() + limits.periodMs : Infinity);
    const next = { bytes: usage.bytes + amount.bytes, files: usage.files + amount.files, until };
    this.#keys.set(key, next);
    return { ok: true, usage: { bytes: next.bytes, files: next.files } };
  }

  async release(key: string, amount: QuotaUsage): Promise<QuotaUsage> {
    checkQuotaAmount(amount);
    const entry = this.#entry(key);
    if (!entry) return { bytes: 0, files: 0 };
    entry.bytes = Math.max(0, entry.bytes - amount.bytes);
    entry.files = Math.max(0, entry.files - amount.files);
    return { bytes: entry.bytes, files: entry.files };
  }

  async usage(key: string): Promise<QuotaUsage> {
    const entry = this.#entry(key);
    return { bytes: entry?.bytes ?? 0, files: entry?.files ?? 0 };
  }

  #entry(key: string): { bytes: number; files: number; until: number } | undefined {
    const entry = this.#keys.get(key);
    if (entry && entry.until <= this.#now()) {
      this.#keys.delete(key);
      return undefined;
    }
    return entry;
  }
}

/**
 * The `quota` option of `allowUpload`: whose quota an upload counts against
 * and how large it is. Each entry reserves its declared size and one file at
 * preflight; a refused entry fails with `quota_exceeded` and gets no token.
 * A consumed entry keeps its reservation (the bytes now belong to the key);
 * a cancelled, failed or abandoned one gives it back.
 *
 * @example
 * socket.allowUpload('docs', {
 *   accept: 'any',
 *   quota: { counter: quota, key: `user:${session.userId}`, maxBytes: 1024 ** 3, maxFiles: 100 },
 * });
 */
export interface UploadQuota extends QuotaLimits {
  /** Where usage is counted: `MemoryQuotaCounter` on one node, `RedisQuotaCounter` across nodes. */
  readonly counter: QuotaCounter;
  /** The app-supplied key: a user, a browser session, a tenant. */
  readonly key: string;
}

/**
 * The plain-words reason a reservation was refused, for the entry's error message.
 *
 * @example
 * quotaRefusal({ ok: false, usage: { bytes: 9e8, files: 3 }, exceeded: 'bytes' }, 2e8, { maxBytes: 1e9 });
 * // 'This file (200.0 MB) would go over your upload quota: 900.0 MB of 1.0 GB used.'
 */
export function quotaRefusal(result: Extract<QuotaResult, { ok: false }>, bytes: number, limits: QuotaLimits): string {
  if (result.exceeded === 'files') {
    return `You have reached your limit of ${limits.maxFiles ?? 0} files (${result.usage.files} used), so this file was not uploaded.`;
  }
  return `This file (${size(bytes)}) would go over your upload quota: ${size(result.usage.bytes)} of ${size(limits.maxBytes ?? 0)} used.`;
}

function size(bytes: number): string {
  if (bytes >= 1_000_000_000) return `${(bytes / 1_000_000_000).toFixed(1)} GB`;
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1000)} kB`;
}
