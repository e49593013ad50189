/**
 * The upload temp directory. Each process writes into its own folder
 * `<base>/p<pid>-<random>`; at start, folders of processes that are gone are
 * removed, so a crash leaves nothing behind for long.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The folder name, inside the OS temp folder, of the default upload base. */
export const DEFAULT_UPLOAD_TMP_NAME = 'inlet-uploads';

/**
 * The default base folder for upload temp files, `<os tmp>/inlet-uploads`.
 * Read when a server is created (so `TMPDIR` set after importing Inlet counts).
 *
 * @example
 * defaultUploadTmpBase() // '/tmp/inlet-uploads'
 */
export function defaultUploadTmpBase(): string {
  return join(tmpdir(), DEFAULT_UPLOAD_TMP_NAME);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes folders left by dead processes; returns how many were removed. */
export async function sweepStaleUploadDirs(base: string = defaultUploadTmpBase()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(base);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = /^p(\d+)-/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    await rm(join(base, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** A fresh name for this process's upload folder under `base` (not created yet). */
export function uploadDirPath(base: string = defaultUploadTmpBase()): string {
  return join(base, `p${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Creates this process's upload folder (after sweeping stale ones). */
export async function createUploadDir(base: string = defaultUploadTmpBase(), dir: string = uploadDirPath(base)): Promise<string> {
  await mkdir(base, { recursive: true, mode: 0o700 });
  await sweepStaleUploadDirs(base);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
