/**
 * The server under fuzz in a child process (server.mjs, run on Inlet's
 * TypeScript sources through register-ts.mjs): start it, watch that it never
 * exits, read its figures, stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { awaitChildReady } from '../support/child-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What server.mjs reports at /__fuzz/stats. */
export interface ServerStats {
  readonly pid: number;
  readonly uptimeS: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** Log lines by kind (ids and numbers blanked). */
  readonly logs: Record<string, number>;
  /** Logged errors by where they were thrown: `inletjs` (packages/), `app` (examples/), `other`. */
  readonly thrownIn: Record<string, number>;
  readonly samples: readonly { where?: string; message: string; error?: string }[];
  /** Keys found on Object.prototype (prototype pollution), normally none. */
  readonly polluted: readonly string[];
}

export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  /** Set once the process exited: that is a crash. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The last lines the process wrote to stderr. */
  stderrTail(): string;
  stats(gc?: boolean): Promise<ServerStats>;
  stop(): Promise<void>;
}

export interface ChildOptions {
  readonly secret: string;
  readonly storeRoot: string;
  readonly uploadTmpDir: string;
}

/**
 * Spawns `node --expose-gc --import ./test/fuzz/register-ts.mjs test/fuzz/server.mjs`.
 *
 * @example
 * const server = await startChildServer({ secret, storeRoot, uploadTmpDir })
 * await fetch(server.url + '/counter')
 */
export async function startChildServer(options: ChildOptions): Promise<ChildServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--import', './test/fuzz/register-ts.mjs', 'test/fuzz/server.mjs'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        INLET_FUZZ_SECRET: options.secret,
        INLET_FUZZ_STORE: options.storeRoot,
        INLET_FUZZ_TMP: options.uploadTmpDir,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const ready = await awaitChildReady(child, 'fuzz server', 30_000);
  const first = ready;
  return {
    url: ready.url,
    pid: ready.pid,
    exited: ready.exited,
    stderrTail: ready.stderrTail,
    async stats(gc = false) {
      const res = await fetch(`${first.url}/__fuzz/stats${gc ? '?gc=1' : ''}`);
      return (await res.json()) as ServerStats;
    },
    async stop() {
      if (ready.exited()) return;
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await ready.gone;
      clearTimeout(timer);
    },
  };
}
