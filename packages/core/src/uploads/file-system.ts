/**
 * Helpers for consume functions (`meta.fileSystem`): stream a temp file to
 * its destination without reading it into memory, and turn client file names
 * into names that cannot escape a folder.
 */
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { extname, resolve, sep } from 'node:path';
import { InletError } from '../errors.js';

/** Longest stored file name, in bytes. */
export const MAX_STORED_NAME_BYTES = 200;

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// C0/C1 controls, bidi overrides and isolates, zero-width and BOM characters.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const PATH_CHARS = /[/\\:*?"<>|]/g;

/**
 * A safe file name from a client-supplied one: no directories, no control or
 * bidi characters, no Windows-reserved names, at most 200 bytes, NFC.
 *
 * @example
 * sanitizeFilename('../../etc/passwd') // 'passwd'
 * sanitizeFilename('photo\u202Egnp.exe') // 'photognp.exe'
 */
export function sanitizeFilename(name: string, fallback = 'file'): string {
  let base = String(name).normalize('NFC');
  const parts = base.split(/[/\\]/);
  base = parts[parts.length - 1] ?? '';
  base = base.replace(UNSAFE_CHARS, '').replace(PATH_CHARS, '_').trim();
  base = base.replace(/^\.+/, '').replace(/[. ]+$/, '');
  if (WINDOWS_RESERVED.test(base)) base = `_${base}`;
  if (base.length === 0) base = fallback;
  if (Buffer.byteLength(base) > MAX_STORED_NAME_BYTES) {
    const ext = extname(base).slice(0, 16);
    let stem = base.slice(0, base.length - ext.length);
    while (Buffer.byteLength(stem + ext) > MAX_STORED_NAME_BYTES) stem = [...stem].slice(0, -1).join('');
    base = stem + ext;
  }
  return base;
}

/**
 * Joins `name` (sanitised) onto `dir`; throws if the result would leave `dir`.
 *
 * @example
 * safeJoin('/srv/uploads', '../x') // '/srv/uploads/x'
 */
export function safeJoin(dir: string, name: string): string {
  const root = resolve(dir);
  const full = resolve(root, sanitizeFilename(name));
  if (!full.startsWith(root + sep)) throw new InletError('INLET_ERR_UPLOAD_DESTINATION', full);
  return full;
}

/**
 * The helpers on `meta.fileSystem`.
 *
 * @example
 * await socket.consumeUploadedEntries('photos', (meta, entry) => {
 *   const fs: FileSystemHelpers = meta.fileSystem
 *   return fs.moveInto('./public/uploads', entry.clientName, meta.path)
 * })
 */
export interface FileSystemHelpers {
  /**
   * Puts `src` onto the end of `dest`, creating it if missing; never reads
   * the whole file into memory. A new `dest` is made by the kernel: the
   * upload's own temp file is linked in place (no bytes copied), any other
   * source is copied with `copyFile`. An existing `dest` is appended to.
   */
  createOrAppendFile(dest: string, src: string): Promise<void>;
  /**
   * Moves `src` into `dir` under a sanitised `name`, never overwriting: a
   * taken name gets ` (1)`, ` (2)`, … Returns the final path.
   */
  moveInto(dir: string, name: string, src: string): Promise<string>;
  /** {@link sanitizeFilename} */
  sanitizeFilename(name: string): string;
  /** {@link safeJoin} */
  safeJoin(dir: string, name: string): string;
}

/** Buffer size when appending to an existing file. */
const APPEND_BUFFER_BYTES = 4 * 1024 * 1024;

/** The mode a file created here would get (0666 less the umask). */
const defaultFileMode = () => 0o666 & ~process.umask();

async function appendFile(dest: string, src: string): Promise<void> {
  await pipeline(
    createReadStream(src, { highWaterMark: APPEND_BUFFER_BYTES }),
    createWriteStream(dest, { flags: 'a', highWaterMark: APPEND_BUFFER_BYTES }),
  );
}

/** Copies `src` to a `dest` that must not exist yet (kernel copy); false when it exists. */
async function copyIntoNew(dest: string, src: string): Promise<boolean> {
  try {
    await copyFile(src, dest, constants.COPYFILE_EXCL);
  } catch (e) {
    if (errno(e) === 'EEXIST') return false;
    throw e;
  }
  await chmod(dest, defaultFileMode()); // copyFile gives it the private temp file's mode
  return true;
}

async function createOrAppendFile(dest: string, src: string): Promise<void> {
  if (dest.includes('\0')) throw new InletError('INLET_ERR_UPLOAD_DESTINATION', 'NUL byte in path');
  if (!(await copyIntoNew(dest, src))) await appendFile(dest, src);
}

/**
 * The helpers of one consume call. `createOrAppendFile` from the upload's own
 * temp file into a new destination links it there (O(1)); a second
 * destination from it is copied, so two destinations never share their bytes.
 * `settle` runs after the consume function: when the entry is kept
 * (postponed), the temp file gets bytes of its own again.
 */
export function consumeFileSystem(tempPath: string | undefined): { helpers: FileSystemHelpers; settle(kept: boolean): Promise<void> } {
  let linked = false;
  const helpers: FileSystemHelpers = {
    ...fileSystem,
    async createOrAppendFile(dest, src) {
      if (dest.includes('\0')) throw new InletError('INLET_ERR_UPLOAD_DESTINATION', 'NUL byte in path');
      if (tempPath !== undefined && src === tempPath && !linked) {
        try {
          await link(src, dest);
          linked = true;
          await chmod(dest, defaultFileMode());
          return;
        } catch (e) {
          // Taken name (append), another file system or no hard links (copy).
          if (!['EEXIST', 'EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].includes(errno(e) ?? '')) throw e;
        }
      }
      await createOrAppendFile(dest, src);
    },
  };
  return {
    helpers,
    async settle(kept) {
      if (!kept || !linked || tempPath === undefined) return;
      const fresh = `${tempPath}.${randomBytes(4).toString('hex')}`;
      await copyFile(tempPath, fresh);
      await rename(fresh, tempPath);
    },
  };
}

/** Cuts `text` to at most `bytes` UTF-8 bytes, on a character boundary. */
function fitBytes(text: string, bytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > bytes) out = [...out].slice(0, -1).join('');
  return out;
}

/** Most names tried before giving up (`a.png`, `a (1).png`, …). */
const MAX_NAME_TRIES = 1000;

function candidate(dir: string, clean: string, n: number): string {
  const ext = extname(clean);
  const stem = clean.slice(0, clean.length - ext.length);
  const suffix = n === 0 ? '' : ` (${n})`;
  return safeJoin(dir, `${fitBytes(stem, MAX_STORED_NAME_BYTES - Buffer.byteLength(suffix + ext))}${suffix}${ext}`);
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * Moves `src` into `dir`. The final name appears only with the whole content
 * in place: a hard link claims the first free name atomically (it fails when
 * the name is taken), so a crash leaves at most a hidden `.inlet-*.part` file.
 * Across file systems the file is first copied to such a partial file beside
 * the destination. File systems without hard links fall back to an exclusive
 * create and a rename.
 */
async function moveInto(dir: string, name: string, src: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const clean = sanitizeFilename(name);
  let source = src;
  let partial: string | undefined;
  try {
    for (let n = 0; n < MAX_NAME_TRIES; n++) {
      const dest = candidate(dir, clean, n);
      try {
        await link(source, dest);
      } catch (e) {
        const code = errno(e);
        if (code === 'EEXIST') continue;
        if (code === 'EXDEV' && partial === undefined) {
          partial = resolve(dir, `.inlet-${randomBytes(8).toString('hex')}.part`);
          await copyFile(src, partial);
          source = partial;
          n--;
          continue;
        }
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
          const moved = await moveWithoutLinks(dir, clean, source);
          if (source !== src) await unlink(src).catch(() => undefined);
          partial = undefined;
          return moved;
        }
        throw e;
      }
      await unlink(source).catch(() => undefined);
      if (source !== src) await unlink(src).catch(() => undefined);
      partial = undefined;
      return dest;
    }
    throw new InletError('INLET_ERR_UPLOAD_NO_FREE_NAME', `${clean} in ${dir}`);
  } finally {
    if (partial !== undefined) await unlink(partial).catch(() => undefined);
  }
}

async function moveWithoutLinks(dir: string, clean: string, source: string): Promise<string> {
  for (let n = 0; n < MAX_NAME_TRIES; n++) {
    const dest = candidate(dir, clean, n);
    try {
      const fh = await open(dest, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      await fh.close();
    } catch (e) {
      if (errno(e) === 'EEXIST') continue;
      throw e;
    }
    try {
      await rename(source, dest);
    } catch (e) {
      await unlink(dest).catch(() => undefined);
      throw e;
    }
    return dest;
  }
  throw new InletError('INLET_ERR_UPLOAD_NO_FREE_NAME', `${clean} in ${dir}`);
}

/**
 * The shared helpers object.
 *
 * @example
 * // the same helpers as meta.fileSystem, for files of your own
 * const dest = await fileSystem.moveInto('./archive', 'report.pdf', '/tmp/report-draft.pdf')
 */
export const fileSystem: FileSystemHelpers = {
  createOrAppendFile,
  moveInto,
  sanitizeFilename,
  safeJoin,
};

