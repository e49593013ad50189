// One Inlet node of the test cluster, in its own process (started by
// topology.ts as `node --import ./test/fuzz/register-ts.mjs test/cluster/node.mjs`,
// so it runs the current TypeScript sources).
//
// Environment: INLET_NODE_NAME, INLET_NODE_PORT (0: any), REDIS_URL, INLET_SECRET,
// INLET_NODE_OUT (where /upload saves files), INLET_NODE_TMP (upload temp base);
// with INLET_S3_BUCKET (and INLET_S3_ENDPOINT, INLET_S3_REGION, INLET_S3_ACCESS_KEY,
// INLET_S3_SECRET, INLET_S3_PREFIX) the chunk receiver's sessions are shared by every
// node (RedisUploadStateStore) and its bytes go to S3 multipart (S3MultipartStore),
// and /chunked serves UpChunk uploads whose chunks may land on any node; with
// INLET_NODE_SOCKET_STORE=s3 as well, /upload stores in-socket uploads in S3 too.
// Prints one JSON line {"url","pid"} once listening; exits when stdin closes,
// so it never outlives its test.
import { createRedisClient, RedisPubSub, RedisUploadStateStore } from '@inletjs/redis';
import { createS3Client, S3MultipartStore } from '@inletjs/s3';
import { createServer } from 'inletjs/node';
import { mkdirSync } from 'node:fs';
import { createChunked, createRoom, createUpload } from './views.mjs';

const env = process.env;
const name = env.INLET_NODE_NAME ?? 'node';
const redis = await createRedisClient({ url: env.REDIS_URL, onError: () => undefined });
const pubsub = new RedisPubSub({ client: redis });

const outDir = env.INLET_NODE_OUT ?? `${env.TMPDIR ?? '/tmp'}/inlet-cluster-out`;
mkdirSync(outDir, { recursive: true });

const s3 = env.INLET_S3_BUCKET
  ? new S3MultipartStore({
      client: createS3Client({
        region: env.INLET_S3_REGION ?? 'us-east-1',
        credentials: { accessKeyId: env.INLET_S3_ACCESS_KEY ?? '', secretAccessKey: env.INLET_S3_SECRET ?? '' },
        ...(env.INLET_S3_ENDPOINT ? { endpoint: env.INLET_S3_ENDPOINT } : {}),
      }),
      bucket: env.INLET_S3_BUCKET,
      keyPrefix: env.INLET_S3_PREFIX ?? 'cluster/',
    })
  : undefined;

const server = createServer({
  routes: { '/room': createRoom(name), '/upload': createUpload(name, outDir, env.INLET_NODE_SOCKET_STORE === 's3' ? s3 : undefined), ...(s3 ? { '/chunked': createChunked(name) } : {}) },
  ...(s3 ? { receiver: { store: s3, states: new RedisUploadStateStore({ client: redis }) } } : {}),
  ...(env.INLET_NODE_TMP ? { uploadTmpDir: env.INLET_NODE_TMP } : {}),
  secret: env.INLET_SECRET,
  pubsub,
  logger: 'error',
  handler: (req, res) => {
    if (req.url !== '/__node') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, pid: process.pid }));
    return true;
  },
});
await server.listen(Number(env.INLET_NODE_PORT ?? 0), '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await server.close().catch(() => undefined);
  await pubsub.close().catch(() => undefined);
  await redis.close().catch(() => undefined);
  process.exit(0);
}
process.stdin.on('end', () => void shutdown());
process.stdin.on('close', () => void shutdown());
process.stdin.resume();
process.on('SIGTERM', () => void shutdown());
