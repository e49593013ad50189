/**
 * Waiting for a test server started as a child process: it prints one JSON
 * line `{ url, pid }` when ready. Tracks its exit and the tail of its stderr.
 */
import type { ChildProcess } from 'node:child_process';

export interface ReadyChild {
  readonly url: string;
  readonly pid: number;
  /** How the child ended, once it has. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The last 8,000 characters of its stderr. */
  stderrTail(): string;
  /** Resolves when the child has exited. */
  readonly gone: Promise<void>;
}

export async function awaitChildReady(child: ChildProcess, label: string, timeoutMs: number): Promise<ReadyChild> {
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
    const timer = setTimeout(() => reject(new Error(`${label} did not start: ${stderr}`)), timeoutMs);
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
      reject(new Error(`${label} exited with ${code}: ${stderr}`));
    });
  });
  return { url: first.url, pid: first.pid, exited: () => exit, stderrTail: () => stderr, gone };
}
