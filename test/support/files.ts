/**
 * Random test files written in 8 MiB pieces (never whole in memory), with
 * their sha256, and file hashing for comparing stored bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PIECE = 8 * 1024 * 1024;

/** Writes `size` random bytes to `dir/name`; returns the path and the sha256. */
export async function makeRandomFile(dir: string, name: string, size: number): Promise<{ path: string; sha: string }> {
  const path = join(dir, name);
  const hash = createHash('sha256');
  await writeFile(path, '');
  for (let at = 0; at < size; at += PIECE) {
    const part = randomBytes(Math.min(PIECE, size - at));
    hash.update(part);
    await appendFile(path, part);
  }
  return { path, sha: hash.digest('hex') };
}

/** The sha256 of a file, streamed. */
export function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
