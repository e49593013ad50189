/**
 * Quota counters on Redis: one hash per key (`b` bytes, `f` files), changed
 * only by Lua scripts, so a reservation checks both limits and increments
 * both counters in one atomic step however many nodes race.
 */
import { checkQuotaAmount, type QuotaCounter, type QuotaLimits, type QuotaResult, type QuotaUsage } from 'inletjs';
import type { RedisClient } from './client.js';
import { LuaScript } from './script.js';

/**
 * Prefix of quota keys by default: `inlet:quota:<key>`.
 *
 * @example
 * // bytes counted against user 42 (field `b`; `f` counts files)
 * const bytes = Number((await redis.hGet(`${DEFAULT_QUOTA_PREFIX}user:42`, 'b')) ?? 0);
 */
export const DEFAULT_QUOTA_PREFIX = 'inlet:quota:';

// ARGV: bytes, files, maxBytes (-1: none), maxFiles (-1: none), periodMs (0: none)
const RESERVE = new LuaScript(`local cur = redis.call('HMGET', KEYS[1], 'b', 'f')
local b, f = tonumber(cur[1] or '0'), tonumber(cur[2] or '0')
local db, df, mb, mf = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if mb >= 0 and b + db > mb then return {0, b, f, 'bytes'} end
if mf >= 0 and f + df > mf then return {0, b, f, 'files'} end
local fresh = redis.call('EXISTS', KEYS[1]) == 0
b = redis.call('HINCRBY', KEYS[1], 'b', ARGV[1])
f = redis.call('HINCRBY', KEYS[1], 'f', ARGV[2])
if fresh and tonumber(ARGV[5]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return {1, b, f}`);

// ARGV: -bytes, -files
const RELEASE = new LuaScript(`if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local b = redis.call('HINCRBY', KEYS[1], 'b', ARGV[1])
local f = redis.call('HINCRBY', KEYS[1], 'f', ARGV[2])
if b < 0 then redis.call('HSET', KEYS[1], 'b', '0') b = 0 end
if f < 0 then redis.call('HSET', KEYS[1], 'f', '0') f = 0 end
return {b, f}`);

/**
 * Options of {@link RedisQuotaCounter}.
 *
 * @example
 * const counter = new RedisQuotaCounter({ client: redis, prefix: 'photos:quota:' });
 */
export interface RedisQuotaCounterOptions {
  client: RedisClient;
  /** Key prefix; default {@link DEFAULT_QUOTA_PREFIX}. */
  prefix?: string;
}

/**
 * A {@link QuotaCounter} shared by every node on one Redis.
 *
 * @example
 * const quota = new RedisQuotaCounter({ client: redis });
 * const r = await quota.reserve(`user:${id}`, { bytes: size, files: 1 }, { maxBytes: 5 * 2 ** 30 });
 */
export class RedisQuotaCounter implements QuotaCounter {
  readonly #client: RedisClient;
  readonly #prefix: string;

  constructor(options: RedisQuotaCounterOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? DEFAULT_QUOTA_PREFIX;
  }

  async reserve(key: string, amount: QuotaUsage, limits: QuotaLimits): Promise<QuotaResult> {
    checkQuotaAmount(amount);
    const args = [amount.bytes, amount.files, limits.maxBytes ?? -1, limits.maxFiles ?? -1, limits.periodMs ?? 0].map(String);
    const reply = (await RESERVE.run(this.#client, [this.#prefix + key], args)) as [number, number, number, string?];
    const usage = { bytes: Number(reply[1]), files: Number(reply[2]) };
    if (reply[0] === 1) return { ok: true, usage };
    return { ok: false, usage, exceeded: reply[3] === 'files' ? 'files' : 'bytes' };
  }

  async release(key: string, amount: QuotaUsage): Promise<QuotaUsage> {
    checkQuotaAmount(amount);
    const reply = (await RELEASE.run(this.#client, [this.#prefix + key], [String(-amount.bytes), String(-amount.files)])) as [number, number];
    return { bytes: Number(reply[0]), files: Number(reply[1]) };
  }

  async usage(key: string): Promise<QuotaUsage> {
    const [b, f] = await this.#client.hmGet(this.#prefix + key, ['b', 'f']);
    return { bytes: Number(b ?? 0), files: Number(f ?? 0) };
  }
}
