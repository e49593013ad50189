/**
 * Resumable upload sessions (the Inlet uploader's, see `inletjs`'s
 * `ResumeSessionStore`) on Redis, so that every node sees the sessions every
 * other node parked. Each session is a hash (`S:<id>`: the session as JSON
 * at `add`, plus the fields that change, kept apart so scripts never
 * re-encode JSON); sorted sets by last activity index them per owner, in
 * total, and the parked ones; a set per claim key finds a session without
 * its id. Every operation is one Lua script, so caps, claims and evictions
 * are atomic however many nodes race. All keys of one prefix share a hash
 * tag (`{s}`): on Redis Cluster they live in one slot.
 */
import { createHash } from 'node:crypto';
import type { AddResult, ResumeKey, ResumeLimits, ResumeSession, ResumeSessionStore } from 'inletjs';
import type { RedisClient } from './client.js';
import { LuaScript } from './script.js';

/**
 * Prefix of resume session keys by default.
 *
 * @example
 * // a second app on the same Redis keeps its sessions apart
 * new RedisResumeSessionStore({ client: redis, prefix: `photos:${DEFAULT_RESUME_PREFIX}` });
 */
export const DEFAULT_RESUME_PREFIX = 'inlet:resume:';

// Shared Lua helpers. B is the key base (prefix + '{s}'); a session's hash holds
// base (JSON), owner, ck (claim key digest), state, offset, updatedAt, hash.
const HELPERS = `local B = KEYS[1]
local function drop(id)
  local s = B .. ':S:' .. id
  local f = redis.call('HMGET', s, 'owner', 'ck')
  if not f[1] then return false end
  redis.call('ZREM', B .. ':O:' .. f[1], id)
  redis.call('SREM', B .. ':K:' .. f[2], id)
  redis.call('ZREM', B .. ':A', id)
  redis.call('ZREM', B .. ':P', id)
  redis.call('DEL', s)
  return true
end
local function dump(id)
  return redis.call('HMGET', B .. ':S:' .. id, 'base', 'state', 'offset', 'updatedAt', 'hash')
end
local function touch(id, owner, at)
  redis.call('ZADD', B .. ':O:' .. owner, at, id)
  redis.call('ZADD', B .. ':A', at, id)
end
`;

// ARGV: id, owner, ck, base JSON, state, offset, updatedAt, perOwner, total
const ADD = new LuaScript(`${HELPERS}
local id, owner, ck = ARGV[1], ARGV[2], ARGV[3]
local perOwner, total = tonumber(ARGV[8]), tonumber(ARGV[9])
local victims, picked = {}, {}
local function parkedOldest(zkey, want)
  if want <= 0 then return true end
  local ids = redis.call('ZRANGE', zkey, 0, -1)
  for _, v in ipairs(ids) do
    if want <= 0 then break end
    if not picked[v] and redis.call('HGET', B .. ':S:' .. v, 'state') == 'parked' then
      picked[v] = true
      table.insert(victims, v)
      want = want - 1
    end
  end
  return want <= 0
end
if not parkedOldest(B .. ':O:' .. owner, redis.call('ZCARD', B .. ':O:' .. owner) + 1 - perOwner) then return {0} end
if not parkedOldest(B .. ':P', redis.call('ZCARD', B .. ':A') - #victims + 1 - total) then return {0} end
local out = {1}
for _, v in ipairs(victims) do
  table.insert(out, dump(v))
  drop(v)
end
drop(id)
local s = B .. ':S:' .. id
redis.call('HSET', s, 'base', ARGV[4], 'owner', owner, 'ck', ck, 'state', ARGV[5], 'offset', ARGV[6], 'updatedAt', ARGV[7])
touch(id, owner, ARGV[7])
redis.call('SADD', B .. ':K:' .. ck, id)
if ARGV[5] == 'parked' then redis.call('ZADD', B .. ':P', ARGV[7], id) end
return out`);

// ARGV: ck, id ('' for any), now, idleSince
const CLAIM = new LuaScript(`${HELPERS}
local ck, want, now, idleSince = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local candidates
if want ~= '' then candidates = {want} else candidates = redis.call('SMEMBERS', B .. ':K:' .. ck) end
local best, bestAt
for _, id in ipairs(candidates) do
  local f = redis.call('HMGET', B .. ':S:' .. id, 'ck', 'state', 'updatedAt')
  local at = tonumber(f[3])
  if f[1] == ck and f[2] == 'parked' and at >= idleSince and (not bestAt or at > bestAt) then best, bestAt = id, at end
end
if not best then return false end
local s = B .. ':S:' .. best
redis.call('HSET', s, 'state', 'attached', 'updatedAt', now)
redis.call('ZREM', B .. ':P', best)
touch(best, redis.call('HGET', s, 'owner'), now)
return dump(best)`);

// ARGV: id, offset, updatedAt, hash ('' for none)
const PARK = new LuaScript(`${HELPERS}
local id = ARGV[1]
local s = B .. ':S:' .. id
local owner = redis.call('HGET', s, 'owner')
if not owner then return 0 end
redis.call('HSET', s, 'state', 'parked', 'offset', ARGV[2], 'updatedAt', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', s, 'hash', ARGV[4]) else redis.call('HDEL', s, 'hash') end
touch(id, owner, ARGV[3])
redis.call('ZADD', B .. ':P', ARGV[3], id)
return 1`);

// ARGV: id
const REMOVE = new LuaScript(`${HELPERS}
drop(ARGV[1])
return 1`);

// ARGV: idleSince (exclusive)
const EXPIRE = new LuaScript(`${HELPERS}
local ids = redis.call('ZRANGEBYSCORE', B .. ':P', '-inf', '(' .. ARGV[1])
local out = {}
for _, id in ipairs(ids) do
  table.insert(out, dump(id))
  drop(id)
end
return out`);

/**
 * Options of {@link RedisResumeSessionStore}.
 *
 * @example
 * const sessions = new RedisResumeSessionStore({ client: redis, prefix: 'photos:resume:' });
 */
export interface RedisResumeSessionStoreOptions {
  client: RedisClient;
  /** Key prefix; default {@link DEFAULT_RESUME_PREFIX}. Several apps on one Redis use different ones. */
  prefix?: string;
}

/** The digest of a claim key: owner, config, fingerprint and size, exactly. */
function claimKey(k: ResumeKey): string {
  return createHash('sha256').update(JSON.stringify([k.owner, k.config, k.fingerprint, k.size])).digest('base64url');
}

/** A finite cap for Lua (an uncapped restore passes Infinity). */
const cap = (n: number): string => String(Number.isFinite(n) ? Math.max(0, Math.floor(n)) : Number.MAX_SAFE_INTEGER);

type Dump = [string | null, string | null, string | null, string | null, string | null];

function sessionOf(d: Dump | null | undefined): ResumeSession | undefined {
  if (!d || d[0] === null) return undefined;
  const { hash: _h, ...base } = JSON.parse(d[0]) as ResumeSession;
  return {
    ...base,
    state: d[1] === 'parked' ? 'parked' : 'attached',
    offset: Number(d[2]),
    updatedAt: Number(d[3]),
    ...(d[4] ? { hash: d[4] } : {}),
  };
}

/**
 * A `ResumeSessionStore` every node shares, on one Redis. It passes
 * `resumeSessionConformanceCases` (test/conformance/cluster.test.ts, three
 * clients for three nodes).
 *
 * @example
 * const sessions = new RedisResumeSessionStore({ client: redis });
 * createServer({ routes, pubsub, uploadResume: { sessions } });
 */
export class RedisResumeSessionStore implements ResumeSessionStore {
  readonly #client: RedisClient;
  readonly #base: string;

  constructor(options: RedisResumeSessionStoreOptions) {
    this.#client = options.client;
    this.#base = `${options.prefix ?? DEFAULT_RESUME_PREFIX}{s}`;
  }

  async add(session: ResumeSession, limits: ResumeLimits): Promise<AddResult> {
    const args = [session.id, session.owner, claimKey(session), JSON.stringify(session), session.state, String(session.offset), String(session.updatedAt), cap(limits.perOwner), cap(limits.total)];
    const reply = (await ADD.run(this.#client, [this.#base], args)) as [number, ...Dump[]];
    if (reply[0] !== 1) return { added: false };
    return { added: true, evicted: reply.slice(1).flatMap((d) => sessionOf(d as Dump) ?? []) };
  }

  async claim(key: ResumeKey, id: string | undefined, now: number, idleSince: number): Promise<ResumeSession | undefined> {
    const reply = (await CLAIM.run(this.#client, [this.#base], [claimKey(key), id ?? '', String(now), String(idleSince)])) as Dump | null;
    return sessionOf(reply);
  }

  async park(id: string, update: { readonly offset: number; readonly updatedAt: number; readonly hash?: string | undefined }): Promise<void> {
    await PARK.run(this.#client, [this.#base], [id, String(update.offset), String(update.updatedAt), update.hash ?? '']);
  }

  async get(id: string): Promise<ResumeSession | undefined> {
    const d = (await this.#client.hmGet(`${this.#base}:S:${id}`, ['base', 'state', 'offset', 'updatedAt', 'hash'])) as Dump;
    return sessionOf(d);
  }

  async remove(id: string): Promise<void> {
    await REMOVE.run(this.#client, [this.#base], [id]);
  }

  async expire(idleSince: number): Promise<ResumeSession[]> {
    const reply = (await EXPIRE.run(this.#client, [this.#base], [String(idleSince)])) as Dump[];
    return reply.flatMap((d) => sessionOf(d) ?? []);
  }
}
