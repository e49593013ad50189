/**
 * The per-upload lock on Redis: `SET key token NX PX ttl` to take it, and Lua
 * scripts that release or extend it only when the key still holds our token,
 * so a node never frees a lock that lapsed and was taken by another (the
 * scheme tus-node-server's proposed Redis locker uses). A lock held by a node
 * that died expires after its TTL.
 */
import { lockToken, type UploadLocker } from 'inletjs';
import type { RedisClient } from './client.js';
import { LuaScript } from './script.js';

/**
 * Prefix of lock keys by default: `inlet:lock:<key>`.
 *
 * @example
 * // does some node hold the lock taken with locker.acquire('upload:42', ttlMs)?
 * const held = (await redis.exists(`${DEFAULT_LOCK_PREFIX}upload:42`)) === 1;
 */
export const DEFAULT_LOCK_PREFIX = 'inlet:lock:';

const RELEASE = new LuaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);
const EXTEND = new LuaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`);

/**
 * Options of {@link RedisLocker}.
 *
 * @example
 * const locker = new RedisLocker({ client: redis, prefix: 'photos:lock:' });
 */
export interface RedisLockerOptions {
  client: RedisClient;
  /** Key prefix; default {@link DEFAULT_LOCK_PREFIX}. */
  prefix?: string;
}

/**
 * An {@link UploadLocker} shared by every node on one Redis.
 *
 * @example
 * const locker = new RedisLocker({ client: redis });
 * const token = await locker.acquire(`upload:${id}`, 10_000);
 * if (token) try { await work(); } finally { await locker.release(`upload:${id}`, token); }
 */
export class RedisLocker implements UploadLocker {
  readonly #client: RedisClient;
  readonly #prefix: string;

  constructor(options: RedisLockerOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? DEFAULT_LOCK_PREFIX;
  }

  async acquire(key: string, ttlMs: number): Promise<string | undefined> {
    const token = lockToken();
    const reply = await this.#client.set(this.#prefix + key, token, { condition: 'NX', expiration: { type: 'PX', value: ttl(ttlMs) } });
    return reply === 'OK' ? token : undefined;
  }

  async extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await EXTEND.run(this.#client, [this.#prefix + key], [token, String(ttl(ttlMs))])) === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await RELEASE.run(this.#client, [this.#prefix + key], [token])) === 1;
  }
}

function ttl(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`lock ttlMs must be a positive integer (got ${ms})`);
  return ms;
}
