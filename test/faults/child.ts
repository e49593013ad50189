/**
 * Runs server-child.mjs in its own process: start, read its figures, stop
 * politely or kill it outright (SIGKILL: no clean-up code runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const first = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child server did not start: ${stderr}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { url: string; pid: number });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited with ${code}: ${stderr}`));
    });
  });
  return {
    url: first.url,
    pid: first.pid,
    exited: () => exit,
    stderrTail: () => stderr,
    async stats({ gc = false, reset = false } = {}) {
      const q = new URLSearchParams({ ...(gc ? { gc: '1' } : {}), ...(reset ? { reset: '1' } : {}) });
      const res = await fetch(`${first.url}/__child/stats?${q}`);
      return (await res.json()) as ChildStats;
    },
    async stop() {
      if (exit) return;
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
    async kill() {
      if (exit) return;
      child.kill('SIGKILL');
      await gone;
    },
  };
}
