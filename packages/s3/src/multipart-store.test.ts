import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  S3MultipartStore,
  S3TransientError,
  S3_MIN_PART_BYTES,
  isTransientS3Error,
  type S3ChunkBody,
  type S3ChunkSession,
} from './multipart-store.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function body(data: Buffer, piece = 64 * 1024, declared = data.length): S3ChunkBody {
  return {
    length: declared,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
    },
  };
}

function s3Error(name: string, status?: number): Error {
  return Object.assign(new Error(name), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });
}

/** A fake S3 client: records commands, keeps parts, and fails on demand. */
class FakeS3 {
  readonly log: string[] = [];
  readonly parts = new Map<number, Buffer>();
  readonly fail: Error[] = [];
  completeETag: string | undefined = '"etag-3"';
  object: Buffer | undefined;
  pageSize = 1000;

  async send(command: unknown): Promise<Record<string, unknown>> {
    const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
    this.log.push(name);
    const error = this.fail.shift();
    if (error) throw error;
    if (command instanceof CreateMultipartUploadCommand) return { UploadId: 'up-1' };
    if (command instanceof UploadPartCommand) {
      const n = command.input.PartNumber ?? 0;
      this.parts.set(n, Buffer.from(command.input.Body as Uint8Array));
      return { ETag: `"p${n}"` };
    }
    if (command instanceof CompleteMultipartUploadCommand) {
      const order = command.input.MultipartUpload?.Parts?.map((p) => p.PartNumber ?? 0) ?? [];
      this.object = Buffer.concat(order.map((n) => this.parts.get(n) ?? Buffer.alloc(0)));
      return { ETag: this.completeETag };
    }
    if (command instanceof ListPartsCommand) {
      const all = [...this.parts.entries()].sort(([a], [b]) => a - b);
      const after = Number(command.input.PartNumberMarker ?? 0);
      const page = all.filter(([n]) => n > after).slice(0, this.pageSize);
      const last = page.at(-1)?.[0];
      const more = last !== undefined && all.some(([n]) => n > last);
      return { Parts: page.map(([n, b]) => ({ PartNumber: n, ETag: `"p${n}"`, Size: b.length })), IsTruncated: more, NextPartNumberMarker: more ? String(last) : undefined };
    }
    if (command instanceof HeadObjectCommand) return { ETag: '"from-head"' };
    if (command instanceof PutObjectCommand) {
      this.object = Buffer.from(command.input.Body as Uint8Array);
      return { ETag: '"empty"' };
    }
    if (command instanceof AbortMultipartUploadCommand) return {};
    throw new Error(`unexpected ${name}`);
  }
}

function setup() {
  const fake = new FakeS3();
  const store = new S3MultipartStore({ client: fake as unknown as S3Client, bucket: 'b' });
  return { fake, store };
}

const session = (size: number): S3ChunkSession => ({ id: 'sess-1', size, contentType: 'video/mp4' });

describe('S3MultipartStore', () => {
  it('sends chunk i as part i + 1 and completes with the parts in order', async () => {
    const { fake, store } = setup();
    const data = randomBytes(12 * MiB);
    const s = session(data.length);
    await store.create(s);
    let offset = 0;
    for (const size of [5 * MiB, 5 * MiB, 2 * MiB]) {
      offset = await store.write(s, offset, body(data.subarray(offset, offset + size)));
    }
    expect(offset).toBe(data.length);
    const meta = await store.complete(s);
    expect(meta).toEqual({ bucket: 'b', key: 'uploads/sess-1', etag: '"etag-3"', size: data.length });
    expect(fake.log).toEqual(['CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'ListParts', 'CompleteMultipartUpload']);
    expect([...fake.parts.keys()]).toEqual([1, 2, 3]);
    expect(sha(fake.object ?? Buffer.alloc(0))).toBe(sha(data));
  });

  it('keeps nothing of a short chunk, so the client resends it whole', async () => {
    const { fake, store } = setup();
    const data = randomBytes(6 * MiB);
    const s = session(data.length);
    await store.create(s);
    expect(await store.write(s, 0, body(data.subarray(0, 3 * MiB), 65536, 5 * MiB))).toBe(0);
    expect(fake.log).toEqual(['CreateMultipartUpload']);
    expect(await store.write(s, 0, body(data.subarray(0, 5 * MiB)))).toBe(5 * MiB);
    expect(await store.write(s, 5 * MiB, body(data.subarray(5 * MiB)))).toBe(6 * MiB);
    await store.complete(s);
    expect(sha(fake.object ?? Buffer.alloc(0))).toBe(sha(data));
  });

  it('advances the offset only after UploadPart succeeds, and reuses the part number on retry', async () => {
    const { fake, store } = setup();
    const data = randomBytes(S3_MIN_PART_BYTES + 10);
    const s = session(data.length);
    await store.create(s);
    fake.fail.push(s3Error('InternalError', 500));
    const failure = await store.write(s, 0, body(data.subarray(0, S3_MIN_PART_BYTES))).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(S3TransientError);
    expect((failure as S3TransientError).transient).toBe(true);
    expect(await store.write(s, 0, body(data.subarray(0, S3_MIN_PART_BYTES)))).toBe(S3_MIN_PART_BYTES);
    expect(await store.write(s, S3_MIN_PART_BYTES, body(data.subarray(S3_MIN_PART_BYTES)))).toBe(data.length);
    expect([...fake.parts.keys()]).toEqual([1, 2]);
    await store.complete(s);
    expect(sha(fake.object ?? Buffer.alloc(0))).toBe(sha(data));
  });

  it('refuses non-last chunks under 5 MiB and chunks over maxPartBytes, up front', () => {
    const { store } = setup();
    const s = session(20 * MiB);
    expect(store.checkWrite(s, 0, 5 * MiB)).toBeUndefined();
    expect(store.checkWrite(s, 0, 5 * MiB - 1)).toMatch(/at least 5242880 bytes .* chunkSize >= 5120/);
    expect(store.checkWrite(s, 18 * MiB, 2 * MiB)).toBeUndefined();
    expect(store.checkWrite(session(100), 0, 100)).toBeUndefined();
    expect(store.checkWrite(session(200 * MiB), 0, 65 * MiB)).toMatch(/exceeds this store's/);
  });

  it('fetches the ETag with HeadObject when Complete returns none (radosgw 16)', async () => {
    const { fake, store } = setup();
    fake.completeETag = '';
    const s = session(10);
    await store.create(s);
    await store.write(s, 0, body(Buffer.alloc(10)));
    expect((await store.complete(s)).etag).toBe('"from-head"');
    expect(fake.log.at(-1)).toBe('HeadObject');
  });

  it('stores a zero-byte file with PutObject and aborts the empty multipart upload', async () => {
    const { fake, store } = setup();
    const s = session(0);
    await store.create(s);
    const meta = await store.complete(s);
    expect(meta).toMatchObject({ key: 'uploads/sess-1', etag: '"empty"', size: 0 });
    expect(fake.log).toEqual(['CreateMultipartUpload', 'PutObject', 'AbortMultipartUpload']);
    expect(fake.object).toEqual(Buffer.alloc(0));
  });

  it('aborts once, tolerates NoSuchUpload and sessions it never created', async () => {
    const { fake, store } = setup();
    const s = session(10);
    await store.create(s);
    fake.fail.push(s3Error('NoSuchUpload', 404));
    await expect(store.abort(s)).resolves.toBeUndefined();
    await expect(store.abort(s)).resolves.toBeUndefined();
    expect(fake.log.filter((c) => c === 'AbortMultipartUpload')).toHaveLength(1);
  });

  it('keeps permanent errors permanent', async () => {
    const { fake, store } = setup();
    fake.fail.push(s3Error('AccessDenied', 403));
    const failure = await store.create(session(10)).catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: 'AccessDenied' });
    expect(failure).not.toBeInstanceOf(S3TransientError);
  });

  it('uses a custom key function', async () => {
    const fake = new FakeS3();
    const store = new S3MultipartStore({ client: fake as unknown as S3Client, bucket: 'b', key: (s) => `videos/${s.id}.mp4` });
    const s = session(1);
    await store.create(s);
    await store.write(s, 0, body(Buffer.from('x')));
    expect((await store.complete(s)).key).toBe('videos/sess-1.mp4');
  });

  it('numbers parts by offset, so another instance continues from the state create returned', async () => {
    const fake = new FakeS3();
    fake.pageSize = 2; // ListParts pages are followed
    const a = new S3MultipartStore({ client: fake as unknown as S3Client, bucket: 'b' });
    const b = new S3MultipartStore({ client: fake as unknown as S3Client, bucket: 'b' });
    const data = randomBytes(7 * MiB * 3 + MiB);
    const state = await a.create(session(data.length));
    expect(state).toEqual({ key: 'uploads/sess-1', uploadId: 'up-1' });
    const s = { ...session(data.length), state };
    // 7 MiB chunks written alternately by two instances (two nodes): parts 1, 2, 3, 5.
    let offset = 0;
    for (const [i, size] of [7, 7, 7, 1].entries()) offset = await [a, b][i % 2]!.write(s, offset, body(data.subarray(offset, offset + size * MiB)));
    expect(offset).toBe(data.length);
    expect([...fake.parts.keys()]).toEqual([1, 2, 3, 5]);
    // A resend of a chunk another instance already stored (the caller's offsets judge) replaces its part; nothing is added.
    await a.write(s, 7 * MiB, body(data.subarray(7 * MiB, 14 * MiB)));
    expect([...fake.parts.keys()]).toEqual([1, 2, 3, 5]);
    const meta = await b.complete(s);
    expect(meta.size).toBe(data.length);
    expect(sha(fake.object ?? Buffer.alloc(0))).toBe(sha(data));
  });

  it('refuses to complete when the listed parts do not make the whole file', async () => {
    const { fake, store } = setup();
    const s = { ...session(15 * MiB), state: { key: 'uploads/sess-1', uploadId: 'up-1' } };
    await store.write(s, 0, body(randomBytes(5 * MiB)));
    await store.write(s, 10 * MiB, body(randomBytes(5 * MiB))); // part 3, with part 2 missing
    await expect(store.complete(s)).rejects.toThrow(/holds 5242880 bytes in order, expected 15728640/);
    expect(fake.log).not.toContain('CompleteMultipartUpload');
  });

  it('refuses a chunk whose part number would pass 10,000', () => {
    const { store } = setup();
    expect(store.checkWrite(session(60e9), 10_000 * S3_MIN_PART_BYTES - 1, S3_MIN_PART_BYTES)).toBeUndefined();
    expect(store.checkWrite(session(60e9), 10_000 * S3_MIN_PART_BYTES, S3_MIN_PART_BYTES)).toMatch(/at most 10000 parts/);
  });

  it('rejects a maxPartBytes below S3 minimum', () => {
    expect(() => new S3MultipartStore({ client: new FakeS3() as unknown as S3Client, bucket: 'b', maxPartBytes: MiB })).toThrow(RangeError);
  });
});

describe('isTransientS3Error', () => {
  it.each([
    [s3Error('InternalError', 500), true],
    [s3Error('ServiceUnavailable', 503), true],
    [s3Error('SlowDown', 503), true],
    [s3Error('TooManyRequests', 429), true],
    [s3Error('RequestTimeout', 400), true],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    [s3Error('AccessDenied', 403), false],
    [s3Error('NoSuchBucket', 404), false],
    [s3Error('EntityTooSmall', 400), false],
    ['not an error', false],
  ])('%s -> %s', (error, expected) => {
    expect(isTransientS3Error(error)).toBe(expected);
  });
});
