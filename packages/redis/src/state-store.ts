/**
 * Shared upload records on Redis. Per upload, all under one hash tag (so a
 * Redis Cluster keeps them in one slot): a hash with the record's fields, a
 * list of parts (JSON, in order), the lease key (`SET NX PX` with a random
 * token) and, once ended, a tombstone. A set of open upload ids lets any node
 * find the expired ones. Every per-chunk call is one Lua script: one round trip.
 */
import {
  lockToken,
  type ClaimResult,
  type CommitResult,
  type EndedState,
  type JsonObject,
  type Lease,
  type NewUploadRecord,
  type ReadOptions,
  type UploadChange,
  type UploadPart,
  type UploadStateRecord,
  type UploadState,
  type UploadStateStore,
} from 'inletjs';
import type { RedisClient } from './client.js';
import { LuaScript } from './script.js';

/**
 * Prefix of upload keys by default: `inlet:upload:{<id>}`.
 *
 * @example
 * // a second app on the same Redis keeps its records apart
 * new RedisUploadStateStore({ client: redis, prefix: `photos:${DEFAULT_UPLOAD_PREFIX}` });
 */
export const DEFAULT_UPLOAD_PREFIX = 'inlet:upload:';
/**
 * A record outlives its `expiresAt` by this much before Redis drops it, so a sweeper can still abort its storage.
 *
 * @example
 * // when Redis drops a record no sweeper ended
 * const dropBy = record.expiresAt + RECORD_GRACE_MS;
 */
export const RECORD_GRACE_MS = 60 * 60 * 1000;
/** Ids examined per `expired` scan step. */
const SCAN_COUNT = 500;

// KEYS: rec, gone. ARGV: id, maxSize, expiresAt, owner, store, total ('' = unknown), keepUntil
const CREATE = new LuaScript(`if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', 'open', 'offset', '0', 'total', ARGV[6], 'maxSize', ARGV[2], 'expiresAt', ARGV[3], 'owner', ARGV[4], 'store', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
return 1`);

// KEYS: rec, lease, gone, parts. ARGV: token, leaseMs, withParts ('1' | '0')
const CLAIM = new LuaScript(`if redis.call('EXISTS', KEYS[1]) == 0 then
  local g = redis.call('GET', KEYS[3])
  if g then return {'gone', g} end
  return {'missing'}
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'busy'} end
local parts = {}
if ARGV[3] == '1' then parts = redis.call('LRANGE', KEYS[4], 0, -1) end
return {'claimed', redis.call('HGETALL', KEYS[1]), redis.call('LLEN', KEYS[4]), parts}`);

// KEYS: rec, lease. ARGV: token, leaseMs
const RENEW = new LuaScript(`if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 0`);

// KEYS: rec, lease, parts. ARGV: token, from, offset, total, part, store, state, meta, expiresAt, release, keepUntil
// ('' = unchanged)
const COMMIT = new LuaScript(`if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'lost' end
if redis.call('HGET', KEYS[1], 'offset') ~= ARGV[2] then return 'stale' end
redis.call('HSET', KEYS[1], 'offset', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'total', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'store', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'meta', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'expiresAt', ARGV[9]) end
if ARGV[11] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[11])
  if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIREAT', KEYS[3], ARGV[11]) end
end
if ARGV[10] == '1' then redis.call('DEL', KEYS[2]) end
return 'committed'`);

// KEYS: rec, lease. ARGV: token
const RELEASE = new LuaScript(`if redis.call('GET', KEYS[2]) == ARGV[1] then return redis.call('DEL', KEYS[2]) end
return 0`);

// KEYS: rec, lease, gone, parts. ARGV: token, state, tombstoneMs
const END = new LuaScript(`if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3]) end
return 1`);

/**
 * Options of {@link RedisUploadStateStore}.
 *
 * @example
 * const states = new RedisUploadStateStore({ client: redis, prefix: 'photos:upload:' });
 */
export interface RedisUploadStateStoreOptions {
  client: RedisClient;
  /** Key prefix; default {@link DEFAULT_UPLOAD_PREFIX}. */
  prefix?: string;
}

/**
 * An {@link UploadStateStore} shared by every node on one Redis. A chunk
 * costs two round trips: `claim` and `commit`.
 *
 * @example
 * const states = new RedisUploadStateStore({ client: redis });
 * const c = await states.claim(id, 30_000);
 * if (c.kind === 'claimed') await states.commit(id, c.lease, { from: c.record.offset, offset: c.record.offset + n });
 */
export class RedisUploadStateStore implements UploadStateStore {
  /** Every node on the same Redis sees the same records. */
  readonly shared = true;
  readonly #client: RedisClient;
  readonly #prefix: string;

  constructor(options: RedisUploadStateStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? DEFAULT_UPLOAD_PREFIX;
  }

  async create(id: string, record: NewUploadRecord): Promise<boolean> {
    const k = this.#keys(id);
    const args = [
      id,
      String(record.maxSize),
      String(record.expiresAt),
      JSON.stringify(record.owner),
      JSON.stringify(record.store ?? {}),
      record.total === undefined ? '' : String(record.total),
      String(record.expiresAt + RECORD_GRACE_MS),
    ];
    // Sent together, so one round trip; the open set is a separate key (another Cluster slot).
    const [created] = await Promise.all([CREATE.run(this.#client, [k.rec, k.gone], args), this.#client.sAdd(k.open, id)]);
    return created === 1;
  }

  async get(id: string, options: ReadOptions = {}): Promise<UploadStateRecord | undefined> {
    const k = this.#keys(id);
    const [fields, count, parts] = await Promise.all([
      this.#client.hGetAll(k.rec),
      this.#client.lLen(k.parts),
      options.parts ? this.#client.lRange(k.parts, 0, -1) : Promise.resolve([] as string[]),
    ]);
    if (!fields || Object.keys(fields).length === 0) return undefined;
    return toRecord(fields, count, options.parts ? parts : undefined);
  }

  async claim(id: string, leaseMs: number, options: ReadOptions = {}): Promise<ClaimResult> {
    const k = this.#keys(id);
    const token = lockToken();
    const reply = (await CLAIM.run(this.#client, [k.rec, k.lease, k.gone, k.parts], [token, String(positive(leaseMs)), options.parts ? '1' : '0'])) as unknown[];
    const kind = reply[0];
    if (kind === 'missing') return { kind: 'missing' };
    if (kind === 'busy') return { kind: 'busy' };
    if (kind === 'gone') return { kind: 'gone', state: reply[1] as EndedState };
    const flat = reply[1] as string[];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    const record = toRecord(fields, Number(reply[2]), options.parts ? (reply[3] as string[]) : undefined);
    return { kind: 'claimed', lease: { token }, record };
  }

  async renew(id: string, lease: Lease, leaseMs: number): Promise<boolean> {
    const k = this.#keys(id);
    return (await RENEW.run(this.#client, [k.rec, k.lease], [lease.token, String(positive(leaseMs))])) === 1;
  }

  async commit(id: string, lease: Lease, change: UploadChange): Promise<CommitResult> {
    const k = this.#keys(id);
    const opt = (v: string | number | object | undefined) => (v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    const args = [
      lease.token,
      String(change.from),
      String(change.offset ?? change.from),
      opt(change.total),
      opt(change.part),
      opt(change.store),
      opt(change.state),
      opt(change.meta),
      opt(change.expiresAt),
      change.release === false ? '0' : '1',
      change.expiresAt === undefined ? '' : String(change.expiresAt + RECORD_GRACE_MS),
    ];
    return (await COMMIT.run(this.#client, [k.rec, k.lease, k.parts], args)) as CommitResult;
  }

  async release(id: string, lease: Lease): Promise<void> {
    const k = this.#keys(id);
    await RELEASE.run(this.#client, [k.rec, k.lease], [lease.token]);
  }

  async end(id: string, lease: Lease, state: EndedState, tombstoneMs: number): Promise<boolean> {
    const k = this.#keys(id);
    const ended = (await END.run(this.#client, [k.rec, k.lease, k.gone, k.parts], [lease.token, state, String(Math.max(0, Math.floor(tombstoneMs)))])) === 1;
    if (ended) await this.#client.sRem(k.open, id);
    return ended;
  }

  async expired(now: number, limit: number): Promise<string[]> {
    const open = `${this.#prefix}open`;
    const out: string[] = [];
    let cursor = '0';
    do {
      const page = await this.#client.sScan(open, cursor, { COUNT: SCAN_COUNT });
      cursor = String(page.cursor);
      const states = await Promise.all(page.members.map((id) => this.#client.hmGet(this.#keys(id).rec, ['state', 'expiresAt'])));
      const vanished: string[] = [];
      page.members.forEach((id, i) => {
        const [state, expiresAt] = states[i] ?? [];
        if (state === null || state === undefined) vanished.push(id);
        else if (state === 'open' && Number(expiresAt) <= now && out.length < limit) out.push(id);
      });
      // Records Redis dropped by their TTL (no node swept them in time): unlist them.
      if (vanished.length > 0) await this.#client.sRem(open, vanished);
    } while (cursor !== '0' && out.length < limit);
    return out;
  }

  #keys(id: string) {
    const base = `${this.#prefix}{${id}}`;
    return { rec: base, lease: `${base}:lease`, gone: `${base}:gone`, parts: `${base}:parts`, open: `${this.#prefix}open` };
  }
}

function toRecord(f: Record<string, string>, partCount: number, parts: string[] | undefined): UploadStateRecord {
  const record: UploadStateRecord = {
    id: f.id ?? '',
    state: (f.state ?? 'open') as UploadState,
    offset: Number(f.offset ?? 0),
    total: f.total ? Number(f.total) : undefined,
    maxSize: Number(f.maxSize ?? 0),
    expiresAt: Number(f.expiresAt ?? 0),
    owner: JSON.parse(f.owner ?? '{}') as JsonObject,
    store: JSON.parse(f.store ?? '{}') as JsonObject,
    partCount,
    ...(f.meta ? { meta: JSON.parse(f.meta) as JsonObject } : {}),
  };
  return parts ? { ...record, parts: parts.map((p) => JSON.parse(p) as UploadPart) } : record;
}

function positive(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`leaseMs must be a positive integer (got ${ms})`);
  return ms;
}
