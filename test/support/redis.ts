/**
 * A real `redis-server` for tests, started on a free loopback port with no
 * persistence. `restart()` kills it and starts a fresh one on the same port
 * (what a crash and a supervisor's restart look like to clients); `stop()`
 * ends it. Every test file that starts one stops it in `afterAll`.
 *
 * @example
 * const redis = await startRedis();
 * afterAll(() => redis.stop());
 * const client = await createRedisClient({ url: redis.url });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** The running server's process id. */
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL: no goodbye to clients) and starts a new, empty one on the same port. */
  restart(downMs?: number): Promise<void>;
  /** Kills the server and leaves it down until `start()`. */
  kill(): Promise<void>;
  /** Starts the server again after `kill()`. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const REDIS_BIN = process.env.REDIS_SERVER ?? 'redis-server';

/** A port that was free a moment ago (redis-server cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, up: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open === up) return;
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not ${up ? 'start' : 'stop'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
    const proc = spawn(REDIS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child = proc;
    await Promise.race([
      waitForPort(port, true),
      new Promise((_, reject) => proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${stderr}`)))),
    ]);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
    await waitForPort(port, false);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    kill,
    start,
    async restart(downMs = 300) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    stop: kill,
  };
}
