/**
 * The built-in receiver with S3MultipartStore behind it, against a real
 * radosgw: UpChunk-shaped requests (one PUT per 5 MiB chunk) become one
 * UploadPart each, and the object is checked with GetObject.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3MultipartStore, type S3UploadMeta } from '../../packages/s3/src/index.js';
import { SessionRegistry, createReceiverHandler } from '../../packages/core/src/uploads/receiver/index.js';
import type { UploadStore } from 'inletjs';
import { RGW_SKIP_MESSAGE, disposeS3TestEnv, getS3TestEnv, s3TestClient, type S3TestEnv } from '../support/rgw.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const entry = { viewId: 'phx-F1', confRef: '0', entryRef: '0' };

let env: S3TestEnv | null = null;
let client: S3Client | undefined;
let server: Server | undefined;
let registry: SessionRegistry | undefined;
let base = '';
let port = 0;
const completed = new Map<string, S3UploadMeta>();

beforeAll(async () => {
  env = await getS3TestEnv();
  if (!env) return;
  client = s3TestClient(env);
  // The S3 store satisfies the receiver's UploadStore interface structurally.
  const store: UploadStore = new S3MultipartStore({ client, bucket: env.bucket, keyPrefix: 'received/' });
  registry = new SessionRegistry({ store, sweepIntervalMs: 0 });
  registry.onComplete((session, meta) => completed.set(session.id, meta as S3UploadMeta));
  const receive = createReceiverHandler(registry);
  server = createServer((req, res) => {
    if (!receive(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await registry?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  client?.destroy();
  await disposeS3TestEnv(env);
});

function put(url: string, data: Buffer, start: number, end: number): Promise<Response> {
  return fetch(url, {
    method: 'PUT',
    headers: { 'content-range': `bytes ${start}-${end}/${data.length}`, 'content-type': 'video/mp4' },
    body: new Uint8Array(data.subarray(start, end + 1)),
  });
}

async function getObject(key: string): Promise<{ bytes: Uint8Array; contentType: string | undefined }> {
  if (!env || !client) throw new Error('no S3 test env');
  const object = await client.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
  return { bytes: await (object.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())), contentType: object.ContentType };
}

describe('receiver + S3MultipartStore against radosgw', () => {
  it('takes 12 MiB in 5 MiB chunks like UpChunk: 308, 308, 201, object identical', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const file = randomBytes(12 * MiB);
    const { endpoint, id } = (await registry?.mint({ maxSize: 100 * MiB, entry, contentType: 'video/mp4' })) ?? { endpoint: '', id: '' };
    const statuses: number[] = [];
    const ranges: (string | null)[] = [];
    for (let start = 0; start < file.length; start += 5 * MiB) {
      const end = Math.min(start + 5 * MiB, file.length) - 1;
      const res = await put(base + endpoint, file, start, end);
      statuses.push(res.status);
      ranges.push(res.headers.get('range'));
      expect(res.headers.get('location')).toBeNull();
    }
    expect(statuses).toEqual([308, 308, 201]);
    expect(ranges).toEqual([`bytes=0-${5 * MiB - 1}`, `bytes=0-${10 * MiB - 1}`, null]);
    const meta = completed.get(id);
    expect(meta).toMatchObject({ key: `received/${id}`, size: file.length });
    expect(meta?.etag).toMatch(/-3"$/);
    const object = await getObject(`received/${id}`);
    expect(object.contentType).toBe('video/mp4');
    expect(sha(object.bytes)).toBe(sha(file));
  });

  it('drops a chunk whose body ended short (308 with the old Range); the resend lands it', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const file = randomBytes(6 * MiB);
    const { endpoint, id } = (await registry?.mint({ maxSize: 100 * MiB, entry })) ?? { endpoint: '', id: '' };
    const short = await new Promise<{ status: number; range: string | undefined }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: endpoint, method: 'PUT', agent: false, headers: { 'content-range': `bytes 0-${5 * MiB - 1}/${file.length}`, 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, range: res.headers['range'] }));
        },
      );
      req.on('error', reject);
      req.end(file.subarray(0, 3 * MiB));
    });
    expect(short).toEqual({ status: 308, range: undefined });
    expect((await put(base + endpoint, file, 0, 5 * MiB - 1)).status).toBe(308);
    expect((await put(base + endpoint, file, 5 * MiB, file.length - 1)).status).toBe(201);
    expect(sha((await getObject(`received/${id}`)).bytes)).toBe(sha(file));
  });

  it('refuses a non-last chunk under 5 MiB with a 400 that says why', async (ctx) => {
    ctx.skip(env === null, RGW_SKIP_MESSAGE);
    const file = randomBytes(6 * MiB);
    const { endpoint } = (await registry?.mint({ maxSize: 100 * MiB, entry })) ?? { endpoint: '' };
    const res = await put(base + endpoint, file, 0, 256 * 1024 - 1);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('rejected');
    expect(body.message).toMatch(/at least 5242880 bytes/);
  });
});
