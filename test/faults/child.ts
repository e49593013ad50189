/**
 * Runs server-child.mjs in its own process: start, read its figures, stop
 * politely or kill it outright (SIGKILL: no clean-up code runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { awaitChildReady } from '../support/child-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildStats {
  readonly pid: number;
  readonly uptimeS: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly fds: number;
  /** Event-loop delay in ms since the last reset. */
  readonly eld: { p50: number; p99: number; max: number; mean: number };
  /** What the server logged, by kind. */
  readonly logged: Record<string, number>;
  /** The first few log lines with their error stacks. */
  readonly logSamples: string[];
  /** Files the fault view consumed: byte-exact or not. */
  readonly consumed: { ok: number; bad: number; badSamples: unknown[] };
  readonly injected: number;
}

export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stderrTail(): string;
  stats(options?: { gc?: boolean; reset?: boolean }): Promise<ChildStats>;
  /** Closes stdin (the server closes and exits); SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL now; resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface ChildOptions {
  readonly secret: string;
  readonly storeRoot: string;
  readonly uploadTmpDir: string;
  readonly env?: Record<string, string>;
}

export async function startChild(options: ChildOptions): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', './test/fuzz/register-ts.mjs', 'test/faults/server-child.mjs'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      INLET_CHILD_SECRET: options.secret,
      INLET_CHILD_STORE: options.storeRoot,
      INLET_CHILD_TMP: options.uploadTmpDir,
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const ready = await awaitChildReady(child, 'child server', 60_000);
  const first = ready;
  return {
    url: ready.url,
    pid: ready.pid,
    exited: ready.exited,
    stderrTail: ready.stderrTail,
    async stats({ gc = false, reset = false } = {}) {
      const q = new URLSearchParams({ ...(gc ? { gc: '1' } : {}), ...(reset ? { reset: '1' } : {}) });
      const res = await fetch(`${first.url}/__child/stats?${q}`);
      return (await res.json()) as ChildStats;
    },
    async stop() {
      if (ready.exited()) return;
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await ready.gone;
      clearTimeout(timer);
    },
    async kill() {
      if (ready.exited()) return;
      child.kill('SIGKILL');
      await ready.gone;
    },
  };
}
