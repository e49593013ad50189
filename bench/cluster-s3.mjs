#!/usr/bin/env node
// The S3 multipart store for in-socket uploads: one 1 GiB upload over the
// LiveView upload channel (protocol-level client of bench/uploads/ws-clients.mjs,
// Inlet's automatic chunk size) into a node whose config stores in
// S3MultipartStore (test/cluster/node.mjs, INLET_NODE_SOCKET_STORE=s3), against
// the same bytes sent by the AWS SDK alone (CreateMultipartUpload, UploadPart
// of 5 MiB parts one at a time as the store sends them, Complete), to the same
// radosgw, in the same run. Target: Inlet at least 80 % of the SDK's
// throughput, server RSS bounded, no local temp file. Both objects are read
// back and compared by sha256. Runs alternate (SDK, Inlet, SDK, Inlet) so load
// from other work hits both alike.
//
//   flock /tmp/inlet-bench.lock node --import ./test/fuzz/register-ts.mjs bench/cluster-s3.mjs [--mib 1024] [--rounds 2]
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, UploadPartCommand } from '@aws-sdk/client-s3';
import { MiB, procCpuSec, randomFile, sampleRss, sha256File } from './uploads/lib.mjs';
import { disposeS3TestEnv, getS3TestEnv, s3TestClient } from '../test/support/rgw.ts';
import { startCluster } from '../test/cluster/topology.ts';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SIZE = opt('mib', 1024) * MiB;
const ROUNDS = opt('rounds', 2);
const PART = 5 * MiB;
const CLIENTS = fileURLToPath(new URL('./uploads/ws-clients.mjs', import.meta.url));
const DATA = join(tmpdir(), 'inlet-bench-s3-data');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

const env = await getS3TestEnv();
if (!env) throw new Error('radosgw is not available (scripts/start-rgw.sh)');
const s3 = s3TestClient(env);
const prefix = `bench-${randomBytes(4).toString('hex')}/`;

async function objectSha(key) {
  const out = await s3.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const piece of out.Body) hash.update(piece);
  // The test gateway may keep objects in memory: each goes once checked.
  await s3.send(new DeleteObjectCommand({ Bucket: env.bucket, Key: key }));
  return hash.digest('hex');
}

/** The AWS SDK alone: 5 MiB parts read from the file and sent one at a time. */
async function viaSdk(file, round) {
  const key = `${prefix}sdk-${round}`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: env.bucket, Key: key }));
  const fh = await open(file.path);
  const parts = [];
  try {
    for (let offset = 0, n = 1; offset < SIZE; offset += PART, n++) {
      const buf = Buffer.allocUnsafe(Math.min(PART, SIZE - offset));
      await fh.read(buf, 0, buf.length, offset);
      const out = await s3.send(new UploadPartCommand({ Bucket: env.bucket, Key: key, UploadId, PartNumber: n, Body: buf, ContentLength: buf.length }));
      parts.push({ PartNumber: n, ETag: out.ETag });
    }
  } finally {
    await fh.close();
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: env.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, key, cpuSec: (cpu.user + cpu.system) / 1e6 };
}

/** Inlet: one in-socket upload to a node storing in S3MultipartStore. */
async function viaInlet(file, round) {
  const tmp = join(tmpdir(), `inlet-bench-s3-tmp-${process.pid}-${round}`);
  const cluster = await startCluster({
    nodes: 1,
    env: {
      INLET_S3_BUCKET: env.bucket,
      INLET_S3_ENDPOINT: env.endpoint,
      INLET_S3_REGION: env.region,
      INLET_S3_ACCESS_KEY: env.accessKeyId,
      INLET_S3_SECRET: env.secretAccessKey,
      INLET_S3_PREFIX: `${prefix}inlet-${round}/`,
      INLET_NODE_SOCKET_STORE: 's3',
      INLET_NODE_TMP: tmp,
    },
  });
  try {
    const node = cluster.nodes[0];
    const arg = JSON.stringify({ url: node.url, files: [{ path: file.path, name: file.name, size: SIZE }] });
    const child = spawn(process.execPath, [CLIENTS, arg], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    let rss;
    let cpu0;
    const result = await new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        if (line === 'JOINED') {
          rss = sampleRss(node.pid);
          cpu0 = procCpuSec(child.pid);
          child.stdin.end('GO\n');
        } else if (line.startsWith('RESULT ')) {
          resolve({ ...JSON.parse(line.slice(7)), clientCpuSec: procCpuSec(child.pid) - cpu0 });
        }
      });
      child.once('exit', (code) => code !== 0 && reject(new Error(`ws clients exited ${code}`)));
    });
    const mem = rss.stop();
    const failed = result.results?.find((r) => r.error);
    if (result.fatal || failed) throw new Error(result.fatal ?? failed.error);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: env.bucket, Prefix: `${prefix}inlet-${round}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key).filter((k) => !k.includes('/.inlet-uploads/'));
    let tmpFiles = 0;
    try {
      tmpFiles = readdirSync(tmp, { recursive: true }).length;
    } catch {
      // no temp folder at all
    }
    return { ms: result.wallMs, key: keys[0], objects: keys.length, mem, clientCpuSec: result.clientCpuSec, tmpFiles };
  } finally {
    await cluster.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

console.log(`S3 multipart store, in-socket: ${SIZE / MiB} MiB, against the AWS SDK alone (5 MiB parts, one at a time), radosgw ${env.endpoint}`);
console.log(`machine: ${cpus().length} cores, load average before ${load()}`);
const file = await randomFile(DATA, 'one-gib.bin', SIZE);
const sdk = [];
const inlet = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const a = await viaSdk(file, round);
    const okA = (await objectSha(a.key)) === file.sha256;
    sdk.push(a);
    console.log(`  SDK   round ${round}: ${(a.ms / 1000).toFixed(1)} s  ${(SIZE / MiB / (a.ms / 1000)).toFixed(1)} MiB/s  sha256 ${okA ? 'ok' : 'MISMATCH'}  bench-process cpu ${a.cpuSec.toFixed(1)} s  (load ${load()})`);
    const b = await viaInlet(file, round);
    const okB = b.objects === 1 && (await objectSha(b.key)) === file.sha256;
    inlet.push(b);
    console.log(
      `  Inlet round ${round}: ${(b.ms / 1000).toFixed(1)} s  ${(SIZE / MiB / (b.ms / 1000)).toFixed(1)} MiB/s  sha256 ${okB ? 'ok' : 'MISMATCH'}  ` +
        `server RSS ${b.mem.baseMiB.toFixed(0)} -> peak ${b.mem.peakMiB.toFixed(0)} MiB (+${b.mem.growthMiB.toFixed(0)})  server cpu ${b.mem.cpuSec.toFixed(1)} s, client cpu ${b.clientCpuSec.toFixed(1)} s  ` +
        `local temp files ${b.tmpFiles}  (load ${load()})`,
    );
    if (!okA || !okB) process.exitCode = 1;
  }
  const best = (xs) => Math.min(...xs.map((x) => x.ms));
  const median = (xs) => {
    const s = xs.map((x) => x.ms).sort((p, q) => p - q);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  console.log(`ratio Inlet/SDK throughput: best ${(best(sdk) / best(inlet)).toFixed(2)}, median ${(median(sdk) / median(inlet)).toFixed(2)} (target >= 0.80)`);
  console.log(`load average after ${load()}`);
} finally {
  await disposeS3TestEnv(env).catch(() => undefined);
  s3.destroy();
}
