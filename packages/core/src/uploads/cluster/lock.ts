/**
 * A per-upload lock shared by every node: one holder at a time, with a time
 * to live so a lock held by a node that died expires by itself. The Redis
 * implementation (`RedisLocker` in `@inletjs/redis`) is `SET key token NX PX`
 * plus a Lua script that releases or extends only for the matching token.
 * Conformance cases: test/conformance/lock-cases.ts.
 */
import { randomBytes } from 'node:crypto';

/**
 * Default lifetime of a lock that is not extended.
 *
 * @example
 * const token = await locker.acquire(`upload:${id}`, DEFAULT_LOCK_TTL_MS)
 * // long work: keep it before it lapses
 * if (token) await locker.extend(`upload:${id}`, token, DEFAULT_LOCK_TTL_MS)
 */
export const DEFAULT_LOCK_TTL_MS = 30_000;

/**
 * One lock per key across the cluster.
 *
 * Contract: `acquire` succeeds for at most one caller at a time per key and
 * resolves to a random token (or `undefined` when someone else holds the
 * key); the lock lapses `ttlMs` after it was taken or last extended;
 * `extend` and `release` act only for the holder's token, resolving to
 * `false` otherwise (expired, taken over, never held).
 *
 * @example
 * const token = await locker.acquire('upload:42', 10_000);
 * if (!token) return busy();
 * try { await work(); } finally { await locker.release('upload:42', token); }
 */
export interface UploadLocker {
  acquire(key: string, ttlMs: number): Promise<string | undefined>;
  extend(key: string, token: string, ttlMs: number): Promise<boolean>;
  release(key: string, token: string): Promise<boolean>;
}

/**
 * A lock token: 128 random bits, base64url.
 * @example
 * const token = lockToken(); await redis.set(key, token, { NX: true, PX: ttlMs })
 */
export function lockToken(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The single-process {@link UploadLocker}: right for one node, wrong for
 * several (each would have its own).
 *
 * @example
 * const locker = new MemoryLocker();
 * const token = await locker.acquire('k', 1000); // a token
 * await locker.acquire('k', 1000); // undefined until released or expired
 */
export class MemoryLocker implements UploadLocker {
  readonly #locks = new Map<string, { token: string; until: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async acquire(key: string, ttlMs: number): Promise<string | undefined> {
    const held = this.#held(key);
    if (held) return undefined;
    const token = lockToken();
    this.#locks.set(key, { token, until: this.#now() + ttlMs });
    return token;
  }

  async extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    const held = this.#held(key);
    if (held?.token !== token) return false;
    held.until = this.#now() + ttlMs;
    return true;
  }

  async release(key: string, token: string): Promise<boolean> {
    const held = this.#held(key);
    if (held?.token !== token) return false;
    this.#locks.delete(key);
    return true;
  }

  #held(key: string): { token: string; until: number } | undefined {
    const held = this.#locks.get(key);
    if (held && held.until <= this.#now()) {
      this.#locks.delete(key);
      return undefined;
    }
    return held;
  }
}
