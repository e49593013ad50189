/**
 * presignPost against a real radosgw, which enforces the POST policy the way
 * AWS S3 does: size range, exact key, exact Content-Type, expiry, signature.
 * The form is posted with fetch + FormData, as LiveView's S3 uploader does
 * with XHR.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignPost, type S3PresignedPost } from '../../packages/s3/src/index.js';
import { RGW_SKIP_MESSAGE, disposeS3TestEnv, getS3TestEnv, s3TestClient, type S3TestEnv } from '../support/rgw.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/** Posts `fields` then `file` as multipart/form-data, like Phoenix's S3 uploader. */
async function post(meta: S3PresignedPost, file: Buffer, fields = meta.fields): Promise<{ status: number; body: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(file)], { type: fields['Content-Type'] ?? 'application/octet-stream' }), 'upload.bin');
  const res = await fetch(meta.url, { method: 'POST', body: form });
  return { status: res.status, body: await res.text() };
}

async function objectExists(key: string): Promise<boolean> {
  const { env, client } = s3();
  return client.send(new HeadObjectCommand({ Bucket: env.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

async function sign(key: string, options: { maxFileSize?: number; expiresIn?: number; contentType?: string } = {}) {
  const { env, client } = s3();
  return presignPost({
    client,
    bucket: env.bucket,
    key,
    contentType: options.contentType ?? 'image/png',
    maxFileSize: options.maxFileSize ?? 1024 * 1024,
    expiresIn: options.expiresIn ?? 60,
  });
}

describe('presignPost against radosgw', () => {
  it('accepts a file within the limit: 204, stored bytes and type identical', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const { env: e, client: c } = s3();
    const file = randomBytes(300 * 1024);
    const meta = await sign('avatars/ok.png');
    const res = await post(meta, file);
    expect(res.status).toBe(204);
    const object = await c.send(new GetObjectCommand({ Bucket: e.bucket, Key: 'avatars/ok.png' }));
    expect(object.ContentType).toBe('image/png');
    expect(sha(await (object.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())))).toBe(sha(file));
  });

  it('refuses a file over the limit: 400 EntityTooLarge, nothing stored', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const meta = await sign('avatars/big.png', { maxFileSize: 1000 });
    const res = await post(meta, randomBytes(1001));
    expect(res.status).toBe(400);
    expect(res.body).toContain('EntityTooLarge');
    expect(await objectExists('avatars/big.png')).toBe(false);
  });

  it('accepts a file of exactly maxFileSize bytes', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const meta = await sign('avatars/edge.png', { maxFileSize: 1000 });
    expect((await post(meta, randomBytes(1000))).status).toBe(204);
  });

  it('refuses an expired policy: 403', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const meta = await sign('avatars/late.png', { expiresIn: 1 });
    await sleep(2200);
    const res = await post(meta, randomBytes(100));
    expect(res.status).toBe(403);
    expect(await objectExists('avatars/late.png')).toBe(false);
  });

  it('refuses a tampered policy (limit raised, old signature): 403', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const meta = await sign('avatars/tampered.png', { maxFileSize: 1000 });
    const policy = Buffer.from(meta.fields['Policy'] ?? '', 'base64').toString('utf8');
    const raised = policy.replace('["content-length-range",0,1000]', '["content-length-range",0,100000000]');
    expect(raised).not.toBe(policy);
    const res = await post(meta, randomBytes(5000), { ...meta.fields, Policy: Buffer.from(raised).toString('base64') });
    expect(res.status).toBe(403);
    expect(await objectExists('avatars/tampered.png')).toBe(false);
  });

  it('refuses a key other than the signed one: 403', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const meta = await sign('avatars/mine.png');
    const res = await post(meta, randomBytes(100), { ...meta.fields, key: 'avatars/theirs.png' });
    expect(res.status).toBe(403);
    expect(await objectExists('avatars/theirs.png')).toBe(false);
  });

  it('refuses a Content-Type other than the signed one: 403', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const meta = await sign('avatars/type.png');
    const res = await post(meta, randomBytes(100), { ...meta.fields, 'Content-Type': 'text/html' });
    expect(res.status).toBe(403);
    expect(await objectExists('avatars/type.png')).toBe(false);
  });

  it('refuses a wrong signature: 403', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const meta = await sign('avatars/sig.png');
    const signature = meta.fields['X-Amz-Signature'] ?? '';
    const flipped = (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1);
    const res = await post(meta, randomBytes(100), { ...meta.fields, 'X-Amz-Signature': flipped });
    expect(res.status).toBe(403);
  });
});
