import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InletError } from '../../errors.js';
import type { ByteRange } from './content-range.js';
import { SessionRegistry, type ReceiverErrorReason, type UploadSession } from './sessions.js';
import {
  TransientStoreError,
  chunkFromBuffer,
  type ChunkBody,
  type StoreCapability,
  type UploadRecord,
  type UploadStore,
} from '../store.js';

/** An in-memory store that records calls and can be told to fail. */
class RecordingStore implements UploadStore {
  readonly capabilities = new Set<StoreCapability>(['partial']);
  readonly files = new Map<string, Buffer>();
  readonly calls: string[] = [];
  failNext: { op: 'create' | 'write' | 'complete'; error: Error } | undefined;
  /** Keep only this many bytes of the next write (simulates a body that ended short). */
  shortNext: number | undefined;
  writeDelayMs = 0;
  minPart: number | undefined;

  checkWrite(session: UploadRecord, offset: number, length: number): string | undefined {
    if (this.minPart !== undefined && offset + length < session.size && length < this.minPart) {
      return `chunks must be at least ${this.minPart} bytes`;
    }
    return undefined;
  }

  async create(session: UploadRecord): Promise<void> {
    this.calls.push('create');
    this.#maybeFail('create');
    this.files.set(session.id, Buffer.alloc(0));
  }

  async write(session: UploadRecord, offset: number, chunk: ChunkBody): Promise<number> {
    this.calls.push(`write@${offset}+${chunk.length}`);
    if (this.writeDelayMs) await new Promise((resolve) => setTimeout(resolve, this.writeDelayMs));
    this.#maybeFail('write');
    const pieces: Buffer[] = [];
    for await (const piece of chunk) pieces.push(Buffer.from(piece));
    let data = Buffer.concat(pieces);
    if (this.shortNext !== undefined) {
      data = data.subarray(0, this.shortNext);
      this.shortNext = undefined;
    }
    const held = this.files.get(session.id) ?? Buffer.alloc(0);
    expect(held.length).toBe(offset);
    this.files.set(session.id, Buffer.concat([held, data]));
    return offset + data.length;
  }

  async complete(session: UploadRecord): Promise<Record<string, unknown>> {
    this.calls.push('complete');
    this.#maybeFail('complete');
    return { id: session.id, size: this.files.get(session.id)?.length };
  }

  async abort(session: UploadRecord): Promise<void> {
    this.calls.push('abort');
    this.files.delete(session.id);
  }

  #maybeFail(op: 'create' | 'write' | 'complete'): void {
    if (this.failNext?.op === op) {
      const { error } = this.failNext;
      this.failNext = undefined;
      throw error;
    }
  }
}

const entry = { viewId: 'phx-F1', confRef: '0', entryRef: '0' };
const bytes = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const sha = (b: Buffer | undefined): string => createHash('sha256').update(b ?? Buffer.alloc(0)).digest('hex');
const range = (start: number, end: number, total: number): ByteRange => ({ kind: 'bytes', start, end, total });
const slice = (data: Buffer, start: number, end: number): ChunkBody => chunkFromBuffer(data.subarray(start, end + 1));

let registries: SessionRegistry[] = [];
function setup(options: { ttlMs?: number; now?: () => number } = {}) {
  const store = new RecordingStore();
  const registry = new SessionRegistry({ store, sweepIntervalMs: 0, ...options });
  registries.push(registry);
  const events: string[] = [];
  registry.onProgress((_s, offset, total) => events.push(`progress ${offset}/${total}`));
  registry.onComplete((_s, meta) => events.push(`complete ${String(meta['size'])}`));
  registry.onError((_s, reason) => events.push(`error ${reason}`));
  return { store, registry, events };
}

afterEach(async () => {
  await Promise.all(registries.map((r) => r.close()));
  registries = [];
});

describe('SessionRegistry.mint', () => {
  it('mints 32-character base64url tokens, unique, under the base path', async () => {
    const { registry } = setup();
    const tokens = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { token, endpoint, id } = await registry.mint({ maxSize: 10, entry });
      expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(endpoint).toBe(`/_inlet/uploads/${token}`);
      expect(id).not.toContain(token);
      tokens.add(token);
    }
    expect(tokens.size).toBe(200);
  });

  it('prefixes the origin when one is configured', async () => {
    const registry = new SessionRegistry({ store: new RecordingStore(), origin: 'https://up.example/', basePath: '/u', sweepIntervalMs: 0 });
    registries.push(registry);
    expect((await registry.mint({ maxSize: 1, entry })).endpoint).toMatch(/^https:\/\/up\.example\/u\/[A-Za-z0-9_-]{32}$/);
  });

  it.each([
    [{ maxSize: -1, entry }],
    [{ maxSize: 1.5, entry }],
    [{ maxSize: 1, ttlMs: 0, entry }],
    [{ maxSize: 1, entry: { ...entry, entryRef: '' } }],
    [{ maxSize: 1, entry, contentType: 'a\r\nb' }],
  ])('rejects bad options %j with an InletError', async (options) => {
    const { registry } = setup();
    await expect(registry.mint(options)).rejects.toThrow(InletError);
  });

  it('rejects a bad base path', () => {
    expect(() => new SessionRegistry({ store: new RecordingStore(), basePath: 'uploads/' })).toThrow(InletError);
  });
});

describe('SessionRegistry.receive', () => {
  it('stores chunks in order, reports progress, completes on the last byte', async () => {
    const { store, registry, events } = setup();
    const data = bytes(25);
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    expect(await registry.receive(token, range(0, 9, 25), slice(data, 0, 9))).toEqual({ kind: 'incomplete', offset: 10, total: 25 });
    expect(await registry.receive(token, range(10, 19, 25), slice(data, 10, 19))).toEqual({ kind: 'incomplete', offset: 20, total: 25 });
    expect(await registry.receive(token, range(20, 24, 25), slice(data, 20, 24))).toEqual({ kind: 'complete', total: 25 });
    expect(sha(store.files.get(id))).toBe(sha(data));
    expect(store.calls).toEqual(['create', 'write@0+10', 'write@10+10', 'write@20+5', 'complete']);
    expect(events).toEqual(['progress 10/25', 'progress 20/25', 'progress 25/25', 'complete 25']);
    expect((await registry.get(token))?.state).toBe('complete');
  });

  it('skips bytes already held and appends the rest (idempotent resends)', async () => {
    const { store, registry } = setup();
    const data = bytes(30);
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    await registry.receive(token, range(0, 9, 30), slice(data, 0, 9));
    expect(await registry.receive(token, range(0, 9, 30), slice(data, 0, 9))).toEqual({ kind: 'incomplete', offset: 10, total: 30 });
    expect(await registry.receive(token, range(5, 19, 30), slice(data, 5, 19))).toEqual({ kind: 'incomplete', offset: 20, total: 30 });
    expect(await registry.receive(token, range(20, 29, 30), slice(data, 20, 29))).toEqual({ kind: 'complete', total: 30 });
    expect(await registry.receive(token, range(20, 29, 30), slice(data, 20, 29))).toEqual({ kind: 'complete', total: 30 });
    expect(store.calls).toEqual(['create', 'write@0+10', 'write@10+10', 'write@20+10', 'complete']);
    expect(sha(store.files.get(id))).toBe(sha(data));
  });

  it('answers a gap with the current offset and stores nothing', async () => {
    const { store, registry } = setup();
    const { token } = await registry.mint({ maxSize: 100, entry });
    expect(await registry.receive(token, range(10, 19, 30), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'gap', offset: 0 });
    expect(store.calls).toEqual([]);
  });

  it('refuses a total that changed between chunks', async () => {
    const { registry } = setup();
    const { token } = await registry.mint({ maxSize: 100, entry });
    await registry.receive(token, range(0, 9, 30), chunkFromBuffer(bytes(10)));
    expect(await registry.receive(token, range(10, 19, 31), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'total_mismatch', total: 30 });
  });

  it('refuses a total above maxSize, fails the session and reports too_large', async () => {
    const { store, registry, events } = setup();
    const { token } = await registry.mint({ maxSize: 20, entry });
    expect(await registry.receive(token, range(0, 9, 21), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'too_large', maxSize: 20 });
    expect(events).toEqual(['error too_large']);
    expect(store.calls).toEqual([]);
    expect(await registry.receive(token, range(0, 9, 20), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'gone', state: 'failed' });
  });

  it('keeps the offset of a short write and reports it', async () => {
    const { store, registry } = setup();
    const data = bytes(20);
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    store.shortNext = 4;
    expect(await registry.receive(token, range(0, 9, 20), slice(data, 0, 9))).toEqual({ kind: 'incomplete', offset: 4, total: 20 });
    expect(await registry.receive(token, range(0, 9, 20), slice(data, 0, 9))).toEqual({ kind: 'incomplete', offset: 10, total: 20 });
    expect(await registry.receive(token, range(10, 19, 20), slice(data, 10, 19))).toEqual({ kind: 'complete', total: 20 });
    expect(store.calls).toContain('write@4+6');
    expect(sha(store.files.get(id))).toBe(sha(data));
  });

  it('answers unavailable on a transient failure and succeeds on retry', async () => {
    const { store, registry, events } = setup();
    const data = bytes(20);
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    store.failNext = { op: 'write', error: new TransientStoreError('try later') };
    expect(await registry.receive(token, range(0, 9, 20), slice(data, 0, 9))).toEqual({ kind: 'unavailable', offset: 0 });
    expect(await registry.receive(token, range(0, 9, 20), slice(data, 0, 9))).toEqual({ kind: 'incomplete', offset: 10, total: 20 });
    store.failNext = { op: 'complete', error: Object.assign(new Error('5xx'), { transient: true }) };
    expect(await registry.receive(token, range(10, 19, 20), slice(data, 10, 19))).toEqual({ kind: 'unavailable', offset: 20 });
    expect(await registry.receive(token, range(10, 19, 20), slice(data, 10, 19))).toEqual({ kind: 'complete', total: 20 });
    expect(sha(store.files.get(id))).toBe(sha(data));
    expect(events.filter((e) => e.startsWith('error'))).toEqual([]);
  });

  it('fails the session on a permanent store error, aborts the store and reports writer_error', async () => {
    const { store, registry } = setup();
    const reasons: [UploadSession, ReceiverErrorReason, unknown][] = [];
    registry.onError((s, reason, cause) => reasons.push([s, reason, cause]));
    const { token } = await registry.mint({ maxSize: 100, entry });
    const boom = new Error('EACCES');
    store.failNext = { op: 'write', error: boom };
    expect(await registry.receive(token, range(0, 9, 20), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'failed' });
    expect(store.calls).toEqual(['create', 'write@0+10', 'abort']);
    expect(reasons.map(([, r, c]) => [r, c])).toEqual([['writer_error', boom]]);
    expect(await registry.receive(token, range(0, 9, 20), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'gone', state: 'failed' });
  });

  it('refuses an upload on its first bytes before storing any, and passes them on intact otherwise', async () => {
    const { store, registry } = setup();
    const reasons: [ReceiverErrorReason, unknown][] = [];
    registry.onError((_s, reason, cause) => reasons.push([reason, cause]));
    const heads: string[] = [];
    const check = async (head: Buffer) => {
      heads.push(head.toString('latin1', 0, 2));
      return head.toString('latin1', 0, 2) === 'MZ' ? 'looks like a program' : undefined;
    };
    const bad = await registry.mint({ maxSize: 100, entry, checkFirstBytes: check });
    const evil = Buffer.concat([Buffer.from('MZ'), bytes(18)]);
    expect(await registry.receive(bad.token, range(0, 19, 20), chunkFromBuffer(evil))).toEqual({ kind: 'not_accepted', message: 'looks like a program' });
    expect(store.calls).toEqual([]);
    expect(reasons.map(([r, c]) => [r, (c as Error).message])).toEqual([['not_accepted', 'looks like a program']]);
    const good = await registry.mint({ maxSize: 100, entry, checkFirstBytes: check });
    const data = Buffer.concat([Buffer.from('OK'), bytes(38)]);
    expect(await registry.receive(good.token, range(0, 19, 40), chunkFromBuffer(data.subarray(0, 20)))).toMatchObject({ kind: 'incomplete', offset: 20 });
    expect(await registry.receive(good.token, range(20, 39, 40), chunkFromBuffer(data.subarray(20)))).toMatchObject({ kind: 'complete' });
    expect(heads).toEqual(['MZ', 'OK']); // checked once, on the write at offset 0
    expect(sha(store.files.get((await registry.get(good.token))!.id))).toBe(sha(data));
  });

  it('lets the store veto a write before its body is read', async () => {
    const { store, registry } = setup();
    store.minPart = 8;
    const { token } = await registry.mint({ maxSize: 100, entry });
    const outcome = await registry.receive(token, range(0, 3, 20), chunkFromBuffer(bytes(4)));
    expect(outcome).toEqual({ kind: 'rejected', message: 'chunks must be at least 8 bytes' });
    expect(store.calls).toEqual([]);
  });

  it('serialises identical concurrent chunks: one write, both answered', async () => {
    const { store, registry } = setup();
    store.writeDelayMs = 30;
    const data = bytes(20);
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    const [a, b] = await Promise.all([
      registry.receive(token, range(0, 9, 20), slice(data, 0, 9)),
      registry.receive(token, range(0, 9, 20), slice(data, 0, 9)),
    ]);
    expect(a).toEqual({ kind: 'incomplete', offset: 10, total: 20 });
    expect(b).toEqual({ kind: 'incomplete', offset: 10, total: 20 });
    expect(store.calls).toEqual(['create', 'write@0+10']);
    expect(sha(store.files.get(id))).toBe(sha(data.subarray(0, 10)));
  });

  it('answers unknown for tokens never minted', async () => {
    const { registry } = setup();
    expect(await registry.receive('nope', range(0, 0, 1), chunkFromBuffer(bytes(1)))).toEqual({ kind: 'unknown' });
  });
});

describe('SessionRegistry.status', () => {
  it('reports the offset, and completes once everything is held', async () => {
    const { store, registry } = setup();
    const data = bytes(10);
    const { token } = await registry.mint({ maxSize: 100, entry });
    expect(await registry.status(token, 10)).toEqual({ kind: 'incomplete', offset: 0, total: 10 });
    store.failNext = { op: 'complete', error: new TransientStoreError('later') };
    expect(await registry.receive(token, range(0, 9, 10), chunkFromBuffer(data))).toEqual({ kind: 'unavailable', offset: 10 });
    expect(await registry.status(token, 10)).toEqual({ kind: 'complete', total: 10 });
    expect(await registry.status(token, 10)).toEqual({ kind: 'complete', total: 10 });
    expect(store.calls.filter((c) => c === 'complete')).toHaveLength(2);
  });

  it('completes a zero-byte file on "bytes */0"', async () => {
    const { store, registry, events } = setup();
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    expect(await registry.status(token, 0)).toEqual({ kind: 'complete', total: 0 });
    expect(store.files.get(id)).toEqual(Buffer.alloc(0));
    expect(events).toEqual(['complete 0']);
  });
});

describe('expiry and cancellation', () => {
  it('sweeps idle sessions, aborts their store, reports expired, then answers gone', async () => {
    let now = 1_000_000;
    const { store, registry, events } = setup({ ttlMs: 1000, now: () => now });
    const { token } = await registry.mint({ maxSize: 100, entry });
    await registry.receive(token, range(0, 9, 20), chunkFromBuffer(bytes(10)));
    now += 999;
    expect(await registry.sweep()).toBe(0);
    now += 2;
    expect(await registry.sweep()).toBe(1);
    expect(store.calls.at(-1)).toBe('abort');
    expect(events.at(-1)).toBe('error expired');
    expect(await registry.get(token)).toBeUndefined();
    expect(await registry.receive(token, range(10, 19, 20), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'gone', state: 'expired' });
  });

  it('extends the lifetime with every accepted chunk', async () => {
    let now = 0;
    const { registry } = setup({ ttlMs: 1000, now: () => now });
    const { token } = await registry.mint({ maxSize: 100, entry });
    now = 900;
    await registry.receive(token, range(0, 9, 20), chunkFromBuffer(bytes(10)));
    now = 1500;
    expect(await registry.sweep()).toBe(0);
    expect((await registry.get(token))?.expiresAt).toBe(1900);
  });

  it('expires on arrival when the sweeper has not run yet', async () => {
    let now = 0;
    const { store, registry, events } = setup({ ttlMs: 1000, now: () => now });
    const { token } = await registry.mint({ maxSize: 100, entry });
    now = 1000;
    expect(await registry.receive(token, range(0, 9, 20), chunkFromBuffer(bytes(10)))).toEqual({ kind: 'gone', state: 'expired' });
    expect(store.calls).toEqual([]);
    expect(events).toEqual(['error expired']);
  });

  it('cancel aborts an open session without reporting an error', async () => {
    const { store, registry, events } = setup();
    const { token } = await registry.mint({ maxSize: 100, entry });
    await registry.receive(token, range(0, 9, 20), chunkFromBuffer(bytes(10)));
    expect(await registry.cancel(token)).toBe(true);
    expect(store.calls.at(-1)).toBe('abort');
    expect(events.filter((e) => e.startsWith('error'))).toEqual([]);
    expect(await registry.status(token, 20)).toEqual({ kind: 'gone', state: 'cancelled' });
    expect(await registry.cancel('unknown')).toBe(false);
  });

  it('cancel of a complete session keeps its data', async () => {
    const { store, registry } = setup();
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    await registry.receive(token, range(0, 9, 10), chunkFromBuffer(bytes(10)));
    await registry.cancel(token);
    expect(store.calls).not.toContain('abort');
    expect(store.files.get(id)).toHaveLength(10);
  });

  it('runs the sweeper on its own timer', async () => {
    const store = new RecordingStore();
    const registry = new SessionRegistry({ store, ttlMs: 20, sweepIntervalMs: 10 });
    registries.push(registry);
    const expired = new Promise<string>((resolve) => registry.onError((_s, reason) => resolve(reason)));
    await registry.mint({ maxSize: 1, entry });
    expect(await expired).toBe('expired');
    expect(registry.size).toBe(0);
  });

  it('a listener that throws does not break the upload; the error goes to the logger', async () => {
    const logged: { message: string; err: unknown }[] = [];
    const logger = { error: (ctx: { err?: unknown }, message: string) => logged.push({ message, err: ctx.err }), warn() {}, info() {}, debug() {} };
    const store = new RecordingStore();
    const registry = new SessionRegistry({ store, sweepIntervalMs: 0, logger });
    registries.push(registry);
    registry.onProgress(() => {
      throw new Error('listener bug');
    });
    const { token, id } = await registry.mint({ maxSize: 100, entry });
    const data = bytes(10);
    expect(await registry.receive(token, range(0, 9, 10), chunkFromBuffer(data))).toEqual({ kind: 'complete', total: 10 });
    expect(sha(store.files.get(id))).toBe(sha(data));
    expect(logged).toHaveLength(1);
    expect(logged[0]?.message).toMatch(/listener threw/);
    expect((logged[0]?.err as Error).message).toBe('listener bug');
  });
});
