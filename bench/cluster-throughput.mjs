#!/usr/bin/env node
// Aggregate upload throughput through the proxy, with 1 Inlet node and with 3
// (test/cluster/topology.ts: HAProxy round-robin, no affinity, redis-server),
// plus the same uploads straight to one node with no proxy as the reference.
// Uploads are in-socket (the lvu: channel with Inlet's automatic chunk size), sent by the protocol-level clients of bench/uploads/ws-clients.mjs in
// a child process, all at once. Every stored file is checked by sha256.
//
//   npm run build && flock /tmp/inlet-bench.lock node --import ./test/fuzz/register-ts.mjs bench/cluster-throughput.mjs [--files 12] [--mib 64]
//
// Prints, per setup: wall time, aggregate MiB/s, and the CPU seconds each kind
// of process used (nodes, proxy, clients, redis) over the run, so the bound is
// visible: on 2 cores, when the CPU seconds summed over processes approach
// 2 x wall time, the machine's cores are the limit, not the topology. The CPU
// seconds per GiB give the ceiling an idle machine would reach: cores / cost.
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MiB, procCpuSec, randomFile, sha256File } from './uploads/lib.mjs';
import { startCluster } from '../test/cluster/topology.ts';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const FILES = opt('files', 12);
const SIZE = opt('mib', 64) * MiB;
const CLIENTS = fileURLToPath(new URL('./uploads/ws-clients.mjs', import.meta.url));
const DATA = join(tmpdir(), 'inlet-bench-cluster-data');

async function runClients(url, files, pids) {
  const arg = JSON.stringify({ url, files: files.map(({ path, name, size }) => ({ path, name, size })) });
  const child = spawn(process.execPath, [CLIENTS, arg], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let cpu0;
  return new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'JOINED') {
        cpu0 = Object.fromEntries(Object.entries({ ...pids, clients: [child.pid] }).map(([k, ps]) => [k, ps.reduce((s, p) => s + procCpuSec(p), 0)]));
        child.stdin.end('GO\n');
      } else if (line.startsWith('RESULT ')) {
        const cpu = Object.fromEntries(Object.entries({ ...pids, clients: [child.pid] }).map(([k, ps]) => [k, ps.reduce((s, p) => s + procCpuSec(p), 0) - cpu0[k]]));
        resolve({ ...JSON.parse(line.slice(7)), cpu });
      }
    });
    child.once('exit', (code) => code !== 0 && reject(new Error(`ws clients exited ${code}`)));
  });
}

async function verify(outDir, files) {
  const stored = readdirSync(outDir);
  let ok = 0;
  for (const f of files) {
    const match = stored.filter((s) => s.endsWith(`-${f.name}`));
    if (match.length === 1 && (await sha256File(join(outDir, match[0]))) === f.sha256) ok++;
  }
  return ok;
}

async function setup(label, nodes, direct) {
  const outDir = join(tmpdir(), `inlet-bench-cluster-out-${process.pid}-${nodes}-${direct ? 'direct' : 'proxy'}`);
  const tmp = join(tmpdir(), `inlet-bench-cluster-tmp-${process.pid}`);
  rmSync(outDir, { recursive: true, force: true });
  const cluster = await startCluster({ nodes, env: { INLET_NODE_OUT: outDir, INLET_NODE_TMP: tmp } });
  try {
    const files = [];
    for (let i = 0; i < FILES; i++) files.push(await randomFile(DATA, `f${i}.bin`, SIZE));
    const pids = {
      nodes: cluster.nodes.map((n) => n.pid),
      proxy: direct ? [] : [cluster.proxyPid],
      redis: [cluster.redis.pid],
    };
    const url = direct ? cluster.nodes[0].url : cluster.url;
    const out = await runClients(url, files, pids);
    const failed = out.results.filter((r) => r.error);
    const ok = await verify(outDir, files);
    const mib = (FILES * SIZE) / MiB;
    const rate = mib / (out.wallMs / 1000);
    const cpu = Object.entries(out.cpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    const cpuSum = Object.values(out.cpu).reduce((a, b) => a + b, 0);
    // CPU seconds per GiB moved, and the rate that would saturate every core of this machine with them.
    const cpuPerGiB = cpuSum / (mib / 1024);
    const ceiling = (cpus().length / cpuPerGiB) * 1024;
    console.log(
      `${label.padEnd(30)} ${(out.wallMs / 1000).toFixed(2)} s  ${rate.toFixed(0).padStart(4)} MiB/s  sha256 ${ok}/${FILES}` +
        `${failed.length ? `  FAILED ${failed.length}: ${failed[0].error}` : ''}  cpu-s: ${cpu} (sum ${cpuSum.toFixed(1)} = ${(cpuSum / (out.wallMs / 1000)).toFixed(2)} cores)` +
        `  ${cpuPerGiB.toFixed(1)} cpu-s/GiB -> CPU ceiling on ${cpus().length} cores ${ceiling.toFixed(0)} MiB/s`,
    );
    return rate;
  } finally {
    await cluster.stop();
    rmSync(outDir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

console.log(`aggregate in-socket upload throughput: ${FILES} concurrent uploads of ${SIZE / MiB} MiB`);
console.log(`machine: ${cpus().length} cores, load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const direct = await setup('1 node, no proxy (reference)', 1, true);
const one = await setup('1 node through HAProxy', 1, false);
const three = await setup('3 nodes through HAProxy', 3, false);
console.log(`ratios: proxy/direct ${(one / direct).toFixed(2)}, 3 nodes / 1 node ${(three / one).toFixed(2)}`);
console.log(`load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
