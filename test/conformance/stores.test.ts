/**
 * Every upload store Inlet ships passes the shared store conformance cases
 * (`storeConformanceCases` from `inletjs/testing`): the disk and memory stores
 * here, and the S3 multipart store against a real radosgw.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { DiskStore, MemoryStore } from 'inletjs';
import { storeConformanceCases } from 'inletjs/testing';
import { S3MultipartStore } from '@inletjs/s3';
import { afterAll, describe, it } from 'vitest';
import { RGW_SKIP_MESSAGE, useS3TestEnv } from '../support/rgw.js';

const dir = await mkdtemp(join(tmpdir(), 'inlet-store-conformance-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('DiskStore', () => {
  for (const c of storeConformanceCases({
    // Every instance on the same folder: a second one is a restarted process.
    create: () => new DiskStore({ dir }),
    leftovers: (upload) => existsSync(join(dir, `${upload.id}.part`)) || existsSync(join(dir, `${upload.id}.json`)),
  })) {
    it(c.name, c.run);
  }
});

describe('MemoryStore', () => {
  // One store per case, shared by the case's "restarts" (memory survives no real restart).
  let current: MemoryStore | undefined;
  for (const c of storeConformanceCases({ create: () => (current ??= new MemoryStore()) })) {
    it(c.name, async () => {
      current = undefined;
      await c.run();
    });
  }
});

describe('S3MultipartStore against radosgw', () => {
  const s3 = useS3TestEnv();
  for (const c of storeConformanceCases({
    create: () => new S3MultipartStore({ client: s3.get().client, bucket: s3.get().env.bucket, keyPrefix: 'conformance/' }),
    read: async (meta) => {
      const out = await s3.get().client.send(new GetObjectCommand({ Bucket: String(meta.bucket), Key: String(meta.key) }));
      return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    },
    leftovers: async (upload) => {
      const { env, client } = s3.get();
      const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: env.bucket, Prefix: `conformance/${upload.id}` }));
      return (listed.Uploads ?? []).length > 0;
    },
  })) {
    it(c.name, async (ctx) => {
      ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE);
      await c.run();
    });
  }
});
