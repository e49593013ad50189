/**
 * The chunk receiver on three nodes sharing one real redis-server and one
 * real S3 (radosgw): each node is a SessionRegistry with its own Redis
 * connection (RedisUploadStateStore + RedisPubSub + RedisQuotaCounter), its
 * own S3MultipartStore instance and its own HTTP server on port 0. Chunks are
 * sent to the nodes in turn, as a round-robin proxy would; every object is
 * read back with GetObject and compared by sha256.
 *
 * Covered: chunks alternating over nodes; events reaching the minting node
 * only; two nodes racing for one chunk; a lease held by a dead node that
 * expires; a node whose lease lapsed mid-write (its commit is refused and it
 * answers the current offset); stale offsets; quota counters under
 * concurrent uploads, with the chunk that crosses the line refused and
 * refunds on cancel, failure and expiry from other nodes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { createRedisClient, RedisPubSub, RedisQuotaCounter, RedisUploadStateStore, type RedisClient } from '@inletjs/redis';
import { S3MultipartStore } from '@inletjs/s3';
import { type ChunkBody, type QuotaCounter, type StoreCapability, type UploadRecord, type UploadStore } from 'inletjs';
import { createInlet } from 'inletjs/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiverHandler, SessionRegistry } from '../../packages/core/src/uploads/receiver/index.js';
import { recordId } from '../../packages/core/src/uploads/receiver/session-record.js';
import { RGW_SKIP_MESSAGE, useS3TestEnv } from '../support/rgw.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const s3 = useS3TestEnv();
let redis: TestRedis;
const clients: RedisClient[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  for (const c of clients) await c.close().catch(() => undefined);
  await redis?.stop();
});

async function redisClient(): Promise<RedisClient> {
  const c = await createRedisClient({ url: redis.url, onError: () => undefined });
  clients.push(c);
  return c;
}

/** The node's S3 store, with a gate to hold writes and a count of parts sent. */
class GatedStore implements UploadStore {
  readonly capabilities;
  readonly minWriteBytes;
  readonly maxWriteBytes;
  writes = 0;
  /** While set, writes wait for it before they reach S3. */
  gate: Promise<void> | undefined;
  /** Called when a write reached the gate. */
  onGate: (() => void) | undefined;

  constructor(readonly inner: S3MultipartStore) {
    this.capabilities = inner.capabilities;
    this.minWriteBytes = inner.minWriteBytes;
    this.maxWriteBytes = inner.maxWriteBytes;
  }
  checkWrite(u: UploadRecord, offset: number, length: number) {
    return this.inner.checkWrite(u, offset, length);
  }
  create(u: UploadRecord, signal?: AbortSignal) {
    return this.inner.create(u, signal);
  }
  async write(u: UploadRecord, offset: number, chunk: ChunkBody, signal?: AbortSignal) {
    if (this.gate) {
      this.onGate?.();
      await this.gate;
    }
    this.writes += 1;
    return this.inner.write(u, offset, chunk, signal);
  }
  complete(u: UploadRecord, signal?: AbortSignal) {
    return this.inner.complete(u, signal);
  }
  abort(u: UploadRecord) {
    return this.inner.abort(u);
  }
}

interface Node {
  name: string;
  url: string;
  registry: SessionRegistry;
  store: GatedStore;
  quota: QuotaCounter;
  events: string[];
  completed: Map<string, Record<string, unknown>>;
}

async function startNode(name: string, options: { leaseMs?: number; ttlMs?: number; prefix: string }): Promise<Node> {
  const client = await redisClient();
  const pubsub = new RedisPubSub({ client });
  const { env, client: s3client } = s3.get();
  const store = new GatedStore(new S3MultipartStore({ client: s3client, bucket: env.bucket, keyPrefix: `${options.prefix}/` }));
  const quota = new RedisQuotaCounter({ client });
  const registry = new SessionRegistry({
    store,
    states: new RedisUploadStateStore({ client }),
    pubsub,
    quota,
    sweepIntervalMs: 0,
    logger: quiet,
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
    ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
  });
  await registry.start();
  const events: string[] = [];
  const completed = new Map<string, Record<string, unknown>>();
  registry.onProgress((s, offset, total) => events.push(`progress ${s.id.slice(0, 4)} ${offset}/${total}`));
  registry.onComplete((s, meta) => {
    events.push(`complete ${s.id.slice(0, 4)}`);
    completed.set(s.id, meta);
  });
  registry.onError((s, reason, cause) => events.push(`error ${s.id.slice(0, 4)} ${reason}${cause instanceof Error ? `: ${cause.message}` : ''}`));
  const receive = createReceiverHandler(registry);
  const server: Server = createServer((req, res) => {
    if (!receive(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanups.push(async () => {
    await registry.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await pubsub.close();
  });
  return { name, url: `http://127.0.0.1:${port}`, registry, store, quota, events, completed };
}

async function cluster(prefix: string, options: { leaseMs?: number; ttlMs?: number } = {}): Promise<Node[]> {
  return Promise.all(['n1', 'n2', 'n3'].map((n) => startNode(n, { ...options, prefix })));
}

/**
 * Sends a chunk as a client would: a 503 `unavailable` (a transient S3 or
 * Redis failure, such as a reset keep-alive connection under load) is sent
 * again, up to four times; every other answer, `busy` included, is returned.
 */
async function put(node: Node, token: string, data: Buffer, start: number, end: number): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${node.url}/_inlet/uploads/${token}`, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${start}-${end}/${data.length}` },
      body: new Uint8Array(data.subarray(start, end + 1)),
    });
    if (res.status !== 503 || attempt === 5) return res;
    const body = (await res.clone().json()) as { error?: string };
    if (body.error !== 'unavailable') return res;
    await res.arrayBuffer();
    await sleep(100 * attempt);
  }
}

async function objectSha(key: string): Promise<string> {
  const { env, client } = s3.get();
  const out = await client.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
  return sha(await out.Body!.transformToByteArray());
}

async function openUploads(prefix: string): Promise<number> {
  const { env, client } = s3.get();
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: env.bucket, Prefix: `${prefix}/` }));
  return (listed.Uploads ?? []).length;
}

/** Failures the tests cause on purpose are not printed. */
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

const entry = (n: number) => ({ viewId: `phx-v${n}`, confRef: '0', entryRef: String(n) });

describe('receiver sessions shared by three nodes (Redis + S3)', () => {
  it('chunks alternating over three nodes complete byte-exact; events reach only the minting node; meta.sha256 is right', async (ctx) => {
    ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE);
    const nodes = await cluster('alternate');
    const [a, b, c] = nodes as [Node, Node, Node];
    const data = randomBytes(4 * PART + 12345);
    const { token, id } = await a.registry.mint({ maxSize: data.length, entry: entry(1), contentType: 'video/mp4' });
    const answers: number[] = [];
    for (let i = 0, at = 0; at < data.length; i++, at += PART) {
      const res = await put(nodes[i % 3]!, token, data, at, Math.min(at + PART, data.length) - 1);
      answers.push(res.status);
      await res.arrayBuffer();
    }
    expect(answers).toEqual([308, 308, 308, 308, 201]);
    await expect.poll(() => a.completed.get(id)).toBeDefined();
    const meta = a.completed.get(id)!;
    expect(meta).toMatchObject({ bucket: s3.get().env.bucket, key: `alternate/${id}`, size: data.length, sha256: sha(data) });
    expect(await objectSha(String(meta.key))).toBe(sha(data));
    // Every node stored a part; only the minting node heard about it.
    expect([a, b, c].map((n) => n.store.writes)).toEqual([2, 2, 1]);
    expect(a.events.filter((e) => e.startsWith('progress'))).toHaveLength(5);
    expect(a.events.at(-1)).toBe(`complete ${id.slice(0, 4)}`);
    expect([...b.events, ...c.events]).toEqual([]);
    // A late resend of the last chunk, to any node: still complete, nothing stored again.
    expect((await put(b, token, data, 4 * PART, data.length - 1)).status).toBe(201);
    expect(await openUploads('alternate')).toBe(0);
  });

  it('two nodes racing for one chunk: one stores it, the other answers 503 busy with Retry-After, then the current offset', async (ctx) => {
    ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE);
    const [a, b] = (await cluster('race')) as [Node, Node, Node];
    const data = randomBytes(2 * PART);
    const { token, id } = await a.registry.mint({ maxSize: data.length, entry: entry(2) });
    let open!: () => void;
    a.store.gate = new Promise((r) => (open = r));
    const reached = new Promise<void>((r) => (a.store.onGate = r));
    const first = put(a, token, data, 0, PART - 1);
    await reached; // node a holds the lease, its write is under way
    const second = await put(b, token, data, 0, PART - 1);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(await second.json()).toEqual({ error: 'busy' });
    a.store.gate = undefined;
    open();
    expect((await first).status).toBe(308);
    // The client's retry lands on b: the bytes are held, so b answers the offset and stores nothing.
    const retry = await put(b, token, data, 0, PART - 1);
    expect(retry.status).toBe(308);
    expect(retry.headers.get('range')).toBe(`bytes=0-${PART - 1}`);
    expect(b.store.writes).toBe(0);
    expect((await put(b, token, data, PART, 2 * PART - 1)).status).toBe(201);
    await expect.poll(() => a.completed.get(id)).toBeDefined();
    expect(await objectSha(String(a.completed.get(id)!.key))).toBe(sha(data));
    expect(a.store.writes + b.store.writes).toBe(2);
  });

  it('a lease held by a dead node expires: the upload is busy until it lapses, then continues on another node', async (ctx) => {
    ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE);
    const [a, b] = (await cluster('lease', { leaseMs: 800 })) as [Node, Node, Node];
    const data = randomBytes(PART + 10);
    const { token, id } = await a.registry.mint({ maxSize: data.length, entry: entry(3) });
    expect((await put(a, token, data, 0, PART - 1)).status).toBe(308);
    // A node claims the upload and dies before committing: nobody releases its lease.
    const dead = new RedisUploadStateStore({ client: await redisClient() });
    const held = await dead.claim(recordId(token), 800);
    expect(held.kind).toBe('claimed');
    const started = Date.now();
    expect((await put(b, token, data, PART, data.length - 1)).status).toBe(503);
    let status = 503;
    while (status === 503 && Date.now() - started < 5_000) {
      await sleep(100);
      const res = await put(b, token, data, PART, data.length - 1);
      status = res.status;
      await res.arrayBuffer();
    }
    expect(status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    await expect.poll(() => a.completed.get(id)).toBeDefined();
    expect(await objectSha(String(a.completed.get(id)!.key))).toBe(sha(data));
    // The dead node's late commit is refused: it cannot move the offset of an upload it lost.
    if (held.kind === 'claimed') expect(await dead.commit(recordId(token), held.lease, { from: PART, offset: data.length })).toBe('lost');
  });

  it('a node whose lease lapsed mid-write cannot commit; it answers the current offset and the upload stays byte-exact', async (ctx) => {
    ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE);
    const [a, b] = (await cluster('lapse', { leaseMs: 3000 })) as [Node, Node, Node];
    const data = randomBytes(2 * PART + 7);
    const { token, id } = await a.registry.mint({ maxSize: data.length, entry: entry(4) });
    // Node b stalls in its write (a long GC pause) and its lease is taken from it meanwhile.
    let open!: () => void;
    b.store.gate = new Promise((r) => (open = r));
    const reached = new Promise<void>((r) => (b.store.onGate = r));
    const stalled = put(b, token, data, 0, PART - 1);
    await reached;
    const lease = `inlet:upload:{${recordId(token)}}:lease`;
    const admin = await redisClient();
    await admin.del(lease); // what a lapse looks like to everyone else
    // The client retries on node a, which stores the chunk and the next one.
    expect((await put(a, token, data, 0, PART - 1)).status).toBe(308);
    expect((await put(a, token, data, PART, 2 * PART - 1)).status).toBe(308);
    b.store.gate = undefined;
    open();
    // b's write went through to S3 (a resend of part 1, same bytes), but its commit is refused:
    // it answers with the offset the upload has now, not its own.
    const late = await stalled;
    expect(late.status).toBe(308);
    expect(late.headers.get('range')).toBe(`bytes=0-${2 * PART - 1}`);
    // A stale offset from a client (a chunk behind) gets the current offset; one ahead gets 416 and the offset.
    const behind = await put(b, token, data, 0, PART - 1);
    expect([behind.status, behind.headers.get('range')]).toEqual([308, `bytes=0-${2 * PART - 1}`]);
    const ahead = await fetch(`${b.url}/_inlet/uploads/${token}`, { method: 'PUT', headers: { 'content-range': `bytes ${2 * PART + 3}-${2 * PART + 6}/${data.length}` }, body: new Uint8Array(4) });
    expect([ahead.status, ahead.headers.get('range')]).toEqual([416, `bytes=0-${2 * PART - 1}`]);
    expect((await put(b, token, data, 2 * PART, data.length - 1)).status).toBe(201);
    await expect.poll(() => a.completed.get(id)).toBeDefined();
    expect(a.completed.get(id)!.sha256).toBe(sha(data));
    expect(await objectSha(String(a.completed.get(id)!.key))).toBe(sha(data));
  });

  it('quota counters under concurrent uploads: the chunk that crosses the line is refused; cancel, failure and expiry on other nodes refund', async (ctx) => {
    ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE);
    const nodes = (await cluster('quota')) as [Node, Node, Node];
    const [a, b, c] = nodes;
    const limits = { maxBytes: 4 * PART, maxFiles: 10 };
    const newKey = () => `user:${randomBytes(4).toString('hex')}`;
    /** Reserves what a preflight reserves (the declared size and a file), then mints on `owner`. */
    const start = async (owner: Node, key: string, declared: number, n: number, ttlMs?: number) => {
      const r = await owner.quota.reserve(key, { bytes: declared, files: 1 }, limits);
      if (!r.ok) throw new Error('over quota at preflight');
      return owner.registry.mint({ maxSize: 100 * MiB, entry: entry(n), ...(ttlMs ? { ttlMs } : {}), quota: { counter: owner.quota, key, reserved: declared, ...limits } });
    };

    // Three uploads from three nodes at once, each declaring one part and sending two: 6 parts against a 4-part quota.
    const key = newKey();
    const files = [0, 1, 2].map(() => randomBytes(2 * PART));
    const sessions = await Promise.all(nodes.map((n, i) => start(n, key, PART, 10 + i)));
    expect(await a.quota.usage(key)).toEqual({ bytes: 3 * PART, files: 3 });
    const first = await Promise.all(sessions.map((s, i) => put(nodes[(i + 1) % 3]!, s.token, files[i]!, 0, PART - 1)));
    expect(first.map((r) => r.status)).toEqual([308, 308, 308]);
    // The second chunks cross each upload's reservation; the counter has room for one more part only.
    const second = await Promise.all(sessions.map((s, i) => put(nodes[(i + 2) % 3]!, s.token, files[i]!, PART, 2 * PART - 1)));
    expect(second.map((r) => r.status).sort()).toEqual([201, 413, 413]);
    for (const r of second.filter((x) => x.status === 413)) {
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error).toBe('quota_exceeded');
      expect(body.message).toMatch(/its remaining 5\.2 MB would go over your upload quota: 2[01]\.\d MB of 21\.0 MB used\.$/);
    }
    // The refused ones failed, aborted their parts and gave everything back; their owners were told.
    expect(await a.quota.usage(key)).toEqual({ bytes: 2 * PART, files: 1 });
    expect(nodes.flatMap((n) => n.events.filter((e) => e.includes(' quota_exceeded: '))).length).toBe(2);
    const winner = second.findIndex((r) => r.status === 201);
    await expect.poll(() => nodes[winner]!.completed.size).toBe(1);
    const meta = [...nodes[winner]!.completed.values()][0]!;
    expect(await objectSha(String(meta.key))).toBe(sha(files[winner]!));
    expect(meta.sha256).toBe(sha(files[winner]!));
    // Consumed: forgotten, still counted.
    expect(await nodes[winner]!.registry.consumed(sessions[winner]!.token)).toBe(true);
    expect(await a.quota.usage(key)).toEqual({ bytes: 2 * PART, files: 1 });

    // Cancel from the owner while another node stores a chunk: it waits for that chunk, then aborts and refunds.
    const k2 = newKey();
    const cancelled = await start(b, k2, 2 * PART, 20);
    let open!: () => void;
    c.store.gate = new Promise((r) => (open = r));
    const reached = new Promise<void>((r) => (c.store.onGate = r));
    const inFlight = put(c, cancelled.token, files[0]!, 0, PART - 1);
    await reached;
    const cancelling = b.registry.cancel(cancelled.token);
    await sleep(150);
    c.store.gate = undefined;
    open();
    await (await inFlight).arrayBuffer();
    expect(await cancelling).toBe(true);
    expect(await a.quota.usage(k2)).toEqual({ bytes: 0, files: 0 });
    expect((await put(a, cancelled.token, files[0]!, PART, 2 * PART - 1)).status).toBe(410);

    // Failure: the multipart upload vanished under the receiver (a permanent store error on node b): writer_error, refunded.
    const k3 = newKey();
    const failing = await start(c, k3, 2 * PART, 21);
    expect((await put(a, failing.token, files[1]!, 0, PART - 1)).status).toBe(308);
    await a.store.inner.abort({ id: failing.id, size: 2 * PART, state: await multipartState(failing.token) });
    expect((await put(b, failing.token, files[1]!, PART, 2 * PART - 1)).status).toBe(500);
    await expect.poll(() => c.events.some((e) => e.startsWith(`error ${failing.id.slice(0, 4)} writer_error`))).toBe(true);
    expect(await a.quota.usage(k3)).toEqual({ bytes: 0, files: 0 });

    // Expiry: an abandoned upload is swept by another node, which aborts its parts, refunds and tells the owner.
    const k4 = newKey();
    // Its lifetime must outlast storing one chunk on a loaded machine (S3 create + a 5 MiB part), then lapse.
    const abandoned = await start(a, k4, 2 * PART, 23, 2000);
    expect((await put(b, abandoned.token, files[2]!, 0, PART - 1)).status).toBe(308);
    expect(await a.quota.usage(k4)).toEqual({ bytes: 2 * PART, files: 1 });
    await sleep(2100);
    expect(await c.registry.sweep()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => a.events.includes(`error ${abandoned.id.slice(0, 4)} expired`)).toBe(true);
    expect(await a.quota.usage(k4)).toEqual({ bytes: 0, files: 0 });
    expect((await put(c, abandoned.token, files[2]!, PART, 2 * PART - 1)).status).toBe(410);
    expect(await openUploads('quota')).toBe(0);
  });
});

/** The S3 state the record keeps for an upload (what any node continues it from). */
async function multipartState(token: string): Promise<Record<string, string>> {
  const states = new RedisUploadStateStore({ client: await redisClient() });
  const record = await states.get(recordId(token));
  return (record?.store as { state: Record<string, string> }).state;
}

describe('cluster configuration', () => {
  it('refuses shared sessions with a store other nodes cannot read, or without a shared pubsub, at start-up', async () => {
    const states = new RedisUploadStateStore({ client: await redisClient() });
    const routes = { '/': { render: () => '' } as never };
    expect(() => createInlet({ routes, receiver: { states } })).toThrow(expect.objectContaining({ code: 'INLET_ERR_CONFIG_OPTION', option: 'receiver.store' }));
    const disk = { capabilities: new Set<StoreCapability>(['partial']), create: async () => undefined, write: async () => 0, complete: async () => ({}), abort: async () => undefined };
    const pubsub = new RedisPubSub({ client: await redisClient() });
    cleanups.push(() => pubsub.close());
    expect(() => createInlet({ routes, pubsub, receiver: { states, store: disk } })).toThrow(/receiver\.store must be a store every node shares/);
    const shared = { ...disk, capabilities: new Set<StoreCapability>(['shared']) };
    expect(() => createInlet({ routes, receiver: { states, store: shared } })).toThrow(expect.objectContaining({ code: 'INLET_ERR_CONFIG_OPTION', option: 'pubsub' }));
  });
});
