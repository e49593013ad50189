/**
 * A real S3 server for integration tests: Ceph radosgw (see
 * scripts/start-rgw.sh). It is the only locally runnable server that enforces
 * presigned POST policies and multipart rules like AWS does, so tests that
 * assert rejections need it.
 *
 * Where the gateway comes from, in order:
 * 1. `S3_TEST_ENDPOINT` / `S3_TEST_ACCESS_KEY` / `S3_TEST_SECRET` (CI starts it once and exports these);
 * 2. otherwise, if Ceph is installed, `scripts/start-rgw.sh` (idempotent and
 *    serialised with flock, so parallel workers share one gateway; it keeps
 *    running for later runs: stop it with `scripts/stop-rgw.sh`);
 * 3. otherwise `null`, so the test skips with {@link RGW_SKIP_MESSAGE}; with
 *    `CI=true` a missing Ceph is an error instead.
 *
 * @example
 * let env: S3TestEnv | null;
 * beforeAll(async () => { env = await getS3TestEnv(); });
 * it('stores', async (ctx) => { ctx.skip(env === null, RGW_SKIP_MESSAGE); … });
 */
import { afterAll, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '../../packages/s3/src/index.js';

/** Why S3 tests skip on a machine without Ceph. */
export const RGW_SKIP_MESSAGE = 'radosgw not installed: run scripts/start-rgw.sh (see docs)';
/** Region radosgw accepts by default. */
export const S3_TEST_REGION = 'us-east-1';
/** A cold start takes about 12 s; allow for a busy machine. */
const START_TIMEOUT_MS = 120_000;
const CEPH_BINARIES = ['radosgw', 'ceph-mon', 'ceph-osd'] as const;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Connection details of a fresh, empty bucket with permissive CORS. */
export interface S3TestEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
}

interface Gateway {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

let gateway: Promise<Gateway | null> | undefined;

/**
 * Returns a fresh bucket on a running radosgw (starting one if needed), or
 * `null` when Ceph is not installed and this is not CI. Each call creates a
 * new bucket; the gateway is shared by all calls in the process.
 */
export async function getS3TestEnv(): Promise<S3TestEnv | null> {
  gateway ??= findGateway();
  const found = await gateway;
  if (found === null) return null;
  const bucket = `inlet-test-${randomBytes(6).toString('hex')}`;
  const env: S3TestEnv = { ...found, region: S3_TEST_REGION, bucket };
  const client = s3TestClient(env);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['*'],
              AllowedMethods: ['GET', 'PUT', 'POST'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag'],
            },
          ],
        },
      }),
    );
  } finally {
    client.destroy();
  }
  return env;
}

/** An S3 client for a test env (path-style, checksums only when required). */
export function s3TestClient(env: S3TestEnv): S3Client {
  return createS3Client({
    endpoint: env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });
}

/**
 * Empties and deletes a test bucket (objects and unfinished multipart
 * uploads), so a long-lived gateway does not fill its in-memory store.
 */
export async function disposeS3TestEnv(env: S3TestEnv | null): Promise<void> {
  if (env === null) return;
  const client = s3TestClient(env);
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: env.bucket }));
    for (const upload of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: env.bucket, Key: upload.Key, UploadId: upload.UploadId }));
    }
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: env.bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        await client.send(new DeleteObjectCommand({ Bucket: env.bucket, Key: object.Key }));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    await client.send(new DeleteBucketCommand({ Bucket: env.bucket }));
  } finally {
    client.destroy();
  }
}

/** A test file's S3 bucket and client, set up by {@link useS3TestEnv}. */
export interface S3TestFixture {
  /** The bucket and client, or `null` when no gateway is available (skip with {@link RGW_SKIP_MESSAGE}). */
  current(): { env: S3TestEnv; client: S3Client } | null;
  /** The bucket and client; throws when there is no gateway. */
  get(): { env: S3TestEnv; client: S3Client };
}

/**
 * Registers `beforeAll`/`afterAll` hooks that create a fresh bucket and a
 * client for the enclosing suite, and empty and delete them afterwards.
 *
 * @example
 * const s3 = useS3TestEnv()
 * it('stores', async (ctx) => { ctx.skip(s3.current() === null, RGW_SKIP_MESSAGE); const { env, client } = s3.get() })
 */
export function useS3TestEnv(): S3TestFixture {
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
  const current = () => (env && client ? { env, client } : null);
  return {
    current,
    get() {
      const found = current();
      if (!found) throw new Error('no S3 test env');
      return found;
    },
  };
}

async function findGateway(): Promise<Gateway | null> {
  const endpoint = process.env['S3_TEST_ENDPOINT'];
  if (endpoint) {
    const accessKeyId = process.env['S3_TEST_ACCESS_KEY'];
    const secretAccessKey = process.env['S3_TEST_SECRET'];
    if (!accessKeyId || !secretAccessKey) {
      throw new Error('S3_TEST_ENDPOINT is set but S3_TEST_ACCESS_KEY or S3_TEST_SECRET is missing');
    }
    return { endpoint, accessKeyId, secretAccessKey };
  }
  if (!(await cephInstalled())) {
    if (process.env['CI'] === 'true') {
      throw new Error(`${RGW_SKIP_MESSAGE}. CI must provide radosgw: install ${CEPH_BINARIES.join(' ')} or set S3_TEST_ENDPOINT.`);
    }
    return null;
  }
  const { stdout } = await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'start-rgw.sh')], {
    env: { ...process.env, RGW_NO_INSTALL: '1' },
    timeout: START_TIMEOUT_MS,
  });
  const vars = Object.fromEntries(
    [...stdout.matchAll(/^export (S3_TEST_[A-Z_]+)=(.*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
  const found = {
    endpoint: vars['S3_TEST_ENDPOINT'] ?? '',
    accessKeyId: vars['S3_TEST_ACCESS_KEY'] ?? '',
    secretAccessKey: vars['S3_TEST_SECRET'] ?? '',
  };
  if (!found.endpoint || !found.accessKeyId || !found.secretAccessKey) {
    throw new Error(`scripts/start-rgw.sh printed no S3_TEST_* settings:\n${stdout}`);
  }
  return found;
}

async function cephInstalled(): Promise<boolean> {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const binary of CEPH_BINARIES) {
    let found = false;
    for (const dir of dirs) {
      if (await access(join(dir, binary), constants.X_OK).then(() => true, () => false)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}
