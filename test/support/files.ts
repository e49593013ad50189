/**
 * Random test files written in 8 MiB pieces (never whole in memory), with
 * their sha256, and file hashing for comparing stored bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PIECE = 8 * 1024 * 1024;

/**
 * First bytes that make random content pass content sniffing for its name
 * (uploads refuse a `.png` whose bytes are not a PNG).
 */
const HEADS: Record<string, Buffer> = {
  png: Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000ffff49444154', 'hex'),
  jpg: Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
  gif: Buffer.from('GIF89a', 'latin1'),
  webp: Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.from('00000000', 'hex'), Buffer.from('WEBPVP8 ', 'latin1')]),
};
HEADS.jpeg = HEADS.jpg as Buffer;

/** The signature a file named `name` should start with, or an empty buffer. */
export function headFor(name: string): Buffer {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  return HEADS[ext] ?? Buffer.alloc(0);
}

/**
 * Writes `size` random bytes to `dir/name`, starting with the signature of
 * image names (see {@link headFor}); returns the path and the sha256.
 */
export async function makeRandomFile(dir: string, name: string, size: number): Promise<{ path: string; sha: string }> {
  const path = join(dir, name);
  const hash = createHash('sha256');
  await writeFile(path, '');
  const head = headFor(name).subarray(0, size);
  for (let at = 0; at < size; at += PIECE) {
    const part = randomBytes(Math.min(PIECE, size - at));
    if (at === 0) head.copy(part);
    hash.update(part);
    await appendFile(path, part);
  }
  return { path, sha: hash.digest('hex') };
}

/** The sha256 of every file directly in `dir`, by name ({} when `dir` is missing). */
export async function shasIn(dir: string): Promise<Record<string, string>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: Record<string, string> = {};
  for (const n of names) out[n] = await sha256OfFile(join(dir, n));
  return out;
}

/** How many files sit one level below `dir` (upload temp folders hold per-process subfolders). */
export async function filesOneLevelDown(dir: string): Promise<number> {
  let n = 0;
  for (const d of await readdir(dir).catch(() => [] as string[])) n += (await readdir(join(dir, d)).catch(() => [])).length;
  return n;
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
