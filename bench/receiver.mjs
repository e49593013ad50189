// Throughput of the built-in chunk receiver, next to plain copies of the same bytes.
//
//   npx tsc -b packages/core packages/s3 && node bench/receiver.mjs
//
// Settings (environment): BENCH_SIZE_MIB (default 256), BENCH_CHUNK_MIB (8),
// BENCH_RUNS (3 rounds, the median is reported), BENCH_DIR (a dir on the disk to
// measure; default os.tmpdir()), BENCH_S3=0 to skip the gateway part.
// The gateway part uses S3_TEST_ENDPOINT / S3_TEST_ACCESS_KEY / S3_TEST_SECRET,
// or starts radosgw with scripts/start-rgw.sh when Ceph is installed.
// INLET_RECEIVER_MODULE / INLET_S3_MODULE override the module paths (for a
// build outside the repo's dist folders).
//
// The uploading client runs in a worker thread (as a browser would run on
// another machine), sending one PUT with Content-Range per chunk over
// loopback, once with fetch (undici) and once with http.request, whose lower
// client overhead shows the receiver's own cost. Cases are interleaved in
// rounds so a change in machine load hits them alike. Every stored copy is
// checked by sha256 against the source.
import { execFile } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const MiB = 1024 * 1024;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (!isMainThread) {
  await runClient(workerData);
} else {
  await main();
}

/**
 * Worker: uploads the source file to `url` chunk by chunk, like UpChunk, with
 * `fetch` (undici) or with `http.request` (less client overhead).
 */
async function runClient({ url, source, size, chunk, client }) {
  // The whole file is read before the clock starts: a real client runs on
  // another machine, so its disk reads are not the receiver's cost.
  const data = await readFile(source);
  const agent = new Agent({ keepAlive: true });
  const started = performance.now();
  try {
    for (let start = 0; start < size; start += chunk) {
      const length = Math.min(chunk, size - start);
      const headers = { 'content-range': `bytes ${start}-${start + length - 1}/${size}`, 'content-type': 'application/octet-stream' };
      const body = data.subarray(start, start + length);
      const status = client === 'http' ? await putWithHttp(agent, url, headers, body) : await putWithFetch(url, headers, body);
      const last = start + length === size;
      if (status !== (last ? 201 : 308)) throw new Error(`chunk at ${start}: HTTP ${status}`);
    }
  } finally {
    agent.destroy();
  }
  parentPort.postMessage({ ms: performance.now() - started });
}

async function putWithFetch(url, headers, body) {
  const res = await fetch(url, { method: 'PUT', headers, body });
  await res.arrayBuffer();
  return res.status;
}

function putWithHttp(agent, url, headers, body) {
  return new Promise((done, fail) => {
    const req = request(url, { method: 'PUT', agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode));
    });
    req.on('error', fail);
    req.end(body);
  });
}

async function main() {
  const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 256);
  const chunkMiB = Number(process.env.BENCH_CHUNK_MIB ?? 8);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const size = sizeMiB * MiB;
  const chunk = chunkMiB * MiB;
  const receiver = await import(moduleUrl(process.env.INLET_RECEIVER_MODULE, 'packages/core/dist/uploads/receiver/index.js'));

  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'inlet-bench-'));
  let s3;
  try {
    const source = join(dir, 'source.bin');
    const sourceSha = await writeSource(source, size);
    console.log(`receiver benchmark: ${sizeMiB} MiB in ${chunkMiB} MiB chunks, ${runs} interleaved rounds (median), dir ${dir}`);
    console.log(`node ${process.version}; source sha256 ${sourceSha.slice(0, 16)}…`);
    if (process.env.BENCH_S3 !== '0') s3 = await openS3();

    // Each round runs every case once, so a change in machine load hits all cases alike.
    const cases = [
      ['fs.copyFile + fsync', (i) => copyCase(source, sourceSha, join(dir, `copyfile-${i}.bin`), 'copyFile')],
      ['stream copy + fsync', (i) => copyCase(source, sourceSha, join(dir, `stream-${i}.bin`), 'stream')],
      ['node:http -> discard, http.request client', () => plainHttpCase(dir, source, sourceSha, size, chunk, 'discard')],
      ['node:http -> file pipe + fsync, http.request', () => plainHttpCase(dir, source, sourceSha, size, chunk, 'file')],
      ['receiver -> disk, fetch client', () => diskCase(receiver, dir, source, sourceSha, size, chunk, 'fetch')],
      ['receiver -> disk, http.request client', () => diskCase(receiver, dir, source, sourceSha, size, chunk, 'http')],
    ];
    if (s3) {
      cases.push(
        ['direct SDK multipart -> radosgw', (i) => s3.direct(`direct-${i}`, source, sourceSha, size, chunk)],
        ['receiver -> radosgw, fetch client', () => s3.viaReceiver(receiver, source, sourceSha, size, chunk, 'fetch')],
        ['receiver -> radosgw, http.request client', () => s3.viaReceiver(receiver, source, sourceSha, size, chunk, 'http')],
      );
    }
    const times = new Map(cases.map(([name]) => [name, []]));
    for (let round = 0; round < runs; round++) {
      for (const [name, run] of cases) times.get(name).push(await run(round));
      process.stdout.write(`round ${round + 1}/${runs} done\n`);
    }

    const median = (name) => {
      const sorted = [...times.get(name)].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)];
    };
    const mibs = (ms) => (sizeMiB / (ms / 1000)).toFixed(0).padStart(6);
    console.log('\n' + 'case'.padEnd(44) + 'MiB/s'.padStart(6) + '   median   all runs (s)');
    for (const [name] of cases) {
      const all = times.get(name).map((ms) => (ms / 1000).toFixed(2)).join(' ');
      console.log(`${name.padEnd(44)}${mibs(median(name))}   ${(median(name) / 1000).toFixed(2)} s   ${all}`);
    }
    console.log('');
    const stream = median('stream copy + fsync');
    const copy = median('fs.copyFile + fsync');
    const naive = median('node:http -> file pipe + fsync, http.request');
    for (const client of ['fetch', 'http.request']) {
      const disk = median(`receiver -> disk, ${client} client`);
      console.log(`receiver -> disk (${client}) vs stream copy: ${pct(stream, disk)}, vs fs.copyFile: ${pct(copy, disk)}`);
    }
    console.log(
      `receiver -> disk (http.request) vs node:http piping the same requests to a file: ${pct(naive, median('receiver -> disk, http.request client'))}   (target >= 80%)`,
    );
    if (s3) {
      const direct = median('direct SDK multipart -> radosgw');
      for (const client of ['fetch', 'http.request']) {
        console.log(`receiver -> radosgw (${client}) vs direct SDK multipart: ${pct(direct, median(`receiver -> radosgw, ${client} client`))}`);
      }
    }
  } finally {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function copyCase(source, sourceSha, target, how) {
  const ms = await timed(async () => {
    if (how === 'copyFile') await copyFile(source, target);
    else await pipeline(createReadStream(source, { highWaterMark: MiB }), createWriteStream(target));
    await fsyncFile(target);
  });
  await verify(target, sourceSha);
  await rm(target);
  return ms;
}

/**
 * The same requests to a bare node:http server: `discard` reads and drops
 * the bodies (the transport's ceiling here); `file` pipes each body into one
 * file at its offset and fsyncs at the end (a naive upload endpoint without
 * sessions, locking or validation).
 */
async function plainHttpCase(dir, source, sourceSha, size, chunk, mode) {
  const target = join(dir, 'plain.bin');
  const handle = mode === 'file' ? await open(target, 'w') : undefined;
  const server = createServer((req, res) => {
    const [, start, end] = /bytes (\d+)-(\d+)/.exec(req.headers['content-range'] ?? '') ?? [];
    const last = Number(end) + 1 === size;
    const finish = () => {
      res.statusCode = last ? 201 : 308;
      res.end();
    };
    if (!handle) {
      req.resume();
      req.on('end', finish);
      return;
    }
    pipeline(req, createWriteStream('', { fd: handle.fd, start: Number(start), autoClose: false }))
      .then(() => (last ? handle.sync() : undefined))
      .then(finish, () => res.destroy());
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  try {
    const url = `http://127.0.0.1:${server.address().port}/upload`;
    const worker = new Worker(new URL(import.meta.url), { workerData: { url, source, size, chunk, client: 'http' } });
    const { ms } = await new Promise((done, fail) => {
      worker.once('message', done);
      worker.once('error', fail);
    });
    await worker.terminate();
    if (handle) {
      await handle.close();
      await verify(target, sourceSha);
      await rm(target);
    }
    return ms;
  } finally {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

async function diskCase(receiver, dir, source, sourceSha, size, chunk, client) {
  const store = new receiver.DiskStore({ dir: join(dir, 'received'), fsync: true });
  const { ms, meta } = await viaReceiver(receiver, store, source, size, chunk, client);
  await verify(meta.path, sourceSha);
  await rm(meta.path);
  return ms;
}

/** Uploads through a real HTTP receiver backed by `store`; resolves to the client's time and the completion meta. */
async function viaReceiver(receiver, store, source, size, chunk, client) {
  const registry = new receiver.SessionRegistry({ store, sweepIntervalMs: 0 });
  const receive = receiver.createReceiverHandler(registry, { maxChunkBytes: chunk });
  const server = createServer((req, res) => {
    if (!receive(req, res)) res.writeHead(404).end();
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const completed = new Promise((done) => registry.onComplete((_session, meta) => done(meta)));
  try {
    const { endpoint } = await registry.mint({ maxSize: size, entry: { viewId: 'bench', confRef: '0', entryRef: '0' } });
    const url = `http://127.0.0.1:${server.address().port}${endpoint}`;
    const worker = new Worker(new URL(import.meta.url), { workerData: { url, source, size, chunk, client } });
    const { ms } = await new Promise((done, fail) => {
      worker.once('message', done);
      worker.once('error', fail);
    });
    await worker.terminate();
    return { ms, meta: await completed };
  } finally {
    await registry.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

/** Opens a fresh bucket on the gateway, or resolves to undefined when there is none. */
async function openS3() {
  const s3 = await import(moduleUrl(process.env.INLET_S3_MODULE, 'packages/s3/dist/index.js'));
  const sdk = await import('@aws-sdk/client-s3');
  const gateway = await findGateway();
  if (!gateway) {
    console.log('(radosgw not installed and S3_TEST_ENDPOINT unset: skipping the gateway cases)');
    return undefined;
  }
  const client = s3.createS3Client({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
  });
  const bucket = `inlet-bench-${Date.now().toString(36)}`;
  await client.send(new sdk.CreateBucketCommand({ Bucket: bucket }));
  // Delete each object once verified: the gateway keeps objects in RAM.
  const drop = (key) => client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return {
    async direct(key, source, sourceSha, size, chunk) {
      const ms = await timed(() => directMultipart(sdk, client, bucket, key, source, size, chunk));
      await verifyObject(sdk, client, bucket, key, sourceSha);
      await drop(key);
      return ms;
    },
    async viaReceiver(receiver, source, sourceSha, size, chunk, how) {
      const store = new s3.S3MultipartStore({ client, bucket, maxPartBytes: Math.max(chunk, s3.S3_MIN_PART_BYTES) });
      const { ms, meta } = await viaReceiver(receiver, store, source, size, chunk, how);
      await verifyObject(sdk, client, bucket, meta.key, sourceSha);
      await drop(meta.key);
      return ms;
    },
    async close() {
      const listed = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket }));
      for (const object of listed.Contents ?? []) await drop(object.Key);
      await client.send(new sdk.DeleteBucketCommand({ Bucket: bucket }));
      client.destroy();
    },
  };
}

/** The same bytes sent straight to the gateway with the SDK: one UploadPart per chunk, sequentially. */
async function directMultipart(sdk, client, bucket, key, source, size, chunk) {
  const { UploadId } = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const handle = await open(source, 'r');
  const parts = [];
  try {
    for (let start = 0, n = 1; start < size; start += chunk, n++) {
      const length = Math.min(chunk, size - start);
      const body = Buffer.allocUnsafe(length);
      await handle.read(body, 0, length, start);
      const { ETag } = await client.send(
        new sdk.UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body, ContentLength: length }),
      );
      parts.push({ PartNumber: n, ETag });
    }
  } finally {
    await handle.close();
  }
  await client.send(new sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
}

async function findGateway() {
  if (process.env.S3_TEST_ENDPOINT) {
    return {
      endpoint: process.env.S3_TEST_ENDPOINT,
      accessKeyId: process.env.S3_TEST_ACCESS_KEY ?? '',
      secretAccessKey: process.env.S3_TEST_SECRET ?? '',
    };
  }
  try {
    const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'scripts/start-rgw.sh')], {
      env: { ...process.env, RGW_NO_INSTALL: '1' },
      timeout: 120_000,
    });
    const vars = Object.fromEntries([...stdout.matchAll(/^export (S3_TEST_[A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    return { endpoint: vars.S3_TEST_ENDPOINT, accessKeyId: vars.S3_TEST_ACCESS_KEY, secretAccessKey: vars.S3_TEST_SECRET };
  } catch {
    return null;
  }
}

function moduleUrl(override, fallback) {
  return pathToFileURL(override ? resolve(override) : join(ROOT, fallback)).href;
}

async function writeSource(path, size) {
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(4 * MiB);
  const handle = await open(path, 'w');
  try {
    for (let at = 0; at < size; at += block.length) {
      const piece = block.subarray(0, Math.min(block.length, size - at));
      randomFillSync(piece);
      hash.update(piece);
      await handle.write(piece, 0, piece.length, at);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

async function fsyncFile(path) {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function verify(path, expected) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  const actual = hash.digest('hex');
  if (actual !== expected) throw new Error(`${path}: sha256 ${actual} != ${expected}`);
}

async function verifyObject(sdk, client, bucket, key, expected) {
  const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  await pipeline(object.Body, hash);
  const actual = hash.digest('hex');
  if (actual !== expected) throw new Error(`s3://${bucket}/${key}: sha256 ${actual} != ${expected}`);
}

async function timed(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function pct(baselineMs, measuredMs) {
  return `${((baselineMs / measuredMs) * 100).toFixed(0)}%`;
}
