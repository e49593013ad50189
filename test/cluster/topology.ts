/**
 * The cluster the multi-node tests run against, all real and all local:
 * a `redis-server`, N Inlet node processes on loopback ports, and HAProxy in
 * front of them balancing every request round-robin with no affinity (no
 * cookies, no source hashing). HAProxy checks the nodes every 250 ms and
 * re-dispatches a request whose connection to a dead node failed, which is
 * how a production load balancer behaves.
 *
 * Why HAProxy and not nginx: it streams request bodies to the node as they
 * arrive (nginx buffers them unless told otherwise), balances per request on
 * kept-alive connections, and its health checks and `retry-on conn-failure`
 * are built in. Both are Debian packages; scripts/test.sh installs haproxy.
 *
 * @example
 * const cluster = await startCluster({ nodes: 3 });
 * afterAll(() => cluster.stop());
 * await page.goto(`${cluster.url}/room`);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awaitChildReady, type ReadyChild } from '../support/child-process.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HAPROXY = process.env.HAPROXY_BIN ?? 'haproxy';
const SECRET = 'cluster-secret-shared-by-every-node-0123456789';

export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  /** The node's own address (bypassing the proxy). */
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGKILL: the process dies with no clean-up, as in a crash. */
  kill(): Promise<void>;
  /** Starts the node again on its port after `kill`. */
  start(): Promise<void>;
  stderrTail(): string;
}

export interface Cluster {
  /** The proxy's address: the one address clients use. */
  readonly url: string;
  readonly nodes: readonly ClusterNode[];
  readonly redis: TestRedis;
  /** HAProxy's process id. */
  readonly proxyPid: number | undefined;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Number of Inlet nodes; default 3. */
  readonly nodes?: number;
  /** Extra environment for every node. */
  readonly env?: Record<string, string>;
}

function startNode(name: string, port: number, env: Record<string, string>): ClusterNode {
  let child: ChildProcess | undefined;
  let ready: ReadyChild | undefined;
  const node: ClusterNode = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    get pid() {
      return ready?.pid;
    },
    async start() {
      child = spawn(process.execPath, ['--import', './test/fuzz/register-ts.mjs', 'test/cluster/node.mjs'], {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'test', INLET_NODE_NAME: name, INLET_NODE_PORT: String(port), INLET_SECRET: SECRET, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      ready = await awaitChildReady(child, `cluster node ${name}`, 60_000);
    },
    async kill() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await ready?.gone;
    },
    stderrTail: () => ready?.stderrTail() ?? '',
  };
  return node;
}

function haproxyConfig(port: number, nodes: readonly ClusterNode[]): string {
  return `global
defaults
  mode http
  timeout connect 1s
  timeout client 120s
  timeout server 120s
  timeout tunnel 1h
  option redispatch
  retries 3
  retry-on conn-failure empty-response
frontend web
  bind 127.0.0.1:${port}
  default_backend inlet
backend inlet
  balance roundrobin
  http-response set-header x-inlet-node %s
${nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check inter 250ms fall 1 rise 2`).join('\n')}
`;
}

async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts Redis, the nodes and HAProxy; `stop()` ends them all. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis();
  const dir = await mkdtemp(join(tmpdir(), 'inlet-cluster-'));
  const count = options.nodes ?? 3;
  const nodes: ClusterNode[] = [];
  let proxy: ChildProcess | undefined;
  const stop = async () => {
    if (proxy && proxy.exitCode === null) {
      const gone = new Promise((r) => proxy?.once('exit', r));
      proxy.kill('SIGKILL');
      await gone;
    }
    await Promise.all(nodes.map((n) => n.kill()));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= count; i++) {
      nodes.push(startNode(`n${i}`, await freePort(), { REDIS_URL: redis.url, ...options.env }));
    }
    await Promise.all(nodes.map((n) => n.start()));
    const port = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(cfg, haproxyConfig(port, nodes));
    let stderr = '';
    proxy = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    proxy.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const url = `http://127.0.0.1:${port}`;
    await Promise.race([
      waitForHttp(`${url}/__node`),
      new Promise((_, reject) => proxy?.once('exit', (code) => reject(new Error(`haproxy exited with ${code}: ${stderr}`)))),
    ]);
    return { url, nodes, redis, proxyPid: proxy.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
