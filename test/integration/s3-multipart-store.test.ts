/**
 * S3MultipartStore against a real radosgw, called the way the receiver calls
 * it: create, one write per chunk, complete; or abort.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3MultipartStore, type S3ChunkBody } from '../../packages/s3/src/index.js';
import { RGW_SKIP_MESSAGE, disposeS3TestEnv, getS3TestEnv, s3TestClient, type S3TestEnv } from '../support/rgw.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let env: S3TestEnv | null = null;
let client: S3Client | undefined;

beforeAll(async () => {
  env = await getS3TestEnv();
  if (env) client = s3TestClient(env);
});
afterAll(async () => {
  client?.destroy();
  await disposeS3TestEnv(env);
});

function s3(): { env: S3TestEnv; client: S3Client } {
  if (!env || !client) throw new Error('no S3 test env');
  return { env, client };
}

/** A chunk body streamed in 64 KiB pieces, like a request body. */
function chunk(data: Buffer): S3ChunkBody {
  return {
    length: data.length,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
    },
  };
}

describe('S3MultipartStore against radosgw', () => {
  it('stores 12 MiB written in 5 MiB chunks: 3 parts, bytes and type identical', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const { env: e, client: c } = s3();
    const store = new S3MultipartStore({ client: c, bucket: e.bucket });
    const data = randomBytes(12 * MiB);
    const session = { id: 'twelve', size: data.length, contentType: 'video/mp4' };
    await store.create(session);
    let offset = 0;
    while (offset < data.length) {
      const size = Math.min(5 * MiB, data.length - offset);
      expect(store.checkWrite(session, offset, size)).toBeUndefined();
      offset = await store.write(session, offset, chunk(data.subarray(offset, offset + size)));
    }
    const meta = await store.complete(session);
    expect(meta).toMatchObject({ bucket: e.bucket, key: 'uploads/twelve', size: data.length });
    expect(meta.etag).toMatch(/-3"$/);
    const object = await c.send(new GetObjectCommand({ Bucket: e.bucket, Key: 'uploads/twelve' }));
    expect(object.ContentType).toBe('video/mp4');
    const stored = await (object.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array()));
    expect(stored.length).toBe(data.length);
    expect(sha(stored)).toBe(sha(data));
  });

  it('abort leaves no object and no unfinished upload', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const { env: e, client: c } = s3();
    const store = new S3MultipartStore({ client: c, bucket: e.bucket });
    const session = { id: 'aborted', size: 12 * MiB, contentType: undefined };
    await store.create(session);
    await store.write(session, 0, chunk(randomBytes(5 * MiB)));
    await store.abort(session);
    const head = await c.send(new HeadObjectCommand({ Bucket: e.bucket, Key: 'uploads/aborted' })).catch((error: unknown) => error);
    expect(head).toMatchObject({ name: 'NotFound' });
    const uploads = await c.send(new ListMultipartUploadsCommand({ Bucket: e.bucket }));
    expect((uploads.Uploads ?? []).filter((u) => u.Key === 'uploads/aborted')).toEqual([]);
  });

  it('stores a zero-byte file', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const { env: e, client: c } = s3();
    const store = new S3MultipartStore({ client: c, bucket: e.bucket });
    const session = { id: 'empty', size: 0, contentType: 'text/plain' };
    await store.create(session);
    expect(await store.complete(session)).toMatchObject({ key: 'uploads/empty', size: 0 });
    const head = await c.send(new HeadObjectCommand({ Bucket: e.bucket, Key: 'uploads/empty' }));
    expect(head.ContentLength).toBe(0);
    const uploads = await c.send(new ListMultipartUploadsCommand({ Bucket: e.bucket }));
    expect((uploads.Uploads ?? []).filter((u) => u.Key === 'uploads/empty')).toEqual([]);
  });

  it('a missing bucket is a permanent failure, not a transient one', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const store = new S3MultipartStore({ client: s3().client, bucket: 'inlet-no-such-bucket' });
    const failure = await store.create({ id: 'x', size: 1, contentType: undefined }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'NoSuchBucket' });
    expect((failure as { transient?: boolean }).transient).toBeUndefined();
  });
});
