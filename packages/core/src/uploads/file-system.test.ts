import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consumeFileSystem, fileSystem, safeJoin, sanitizeFilename } from './file-system.js';

describe('file names', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['a\\b\\c.txt', 'c.txt'],
    ['nul\0byte.txt', 'nulbyte.txt'],
    ['evil\u202Etxt.exe', 'eviltxt.exe'],
    ['CON.txt', '_CON.txt'],
    ['..', 'file'],
    ['trailing. . ', 'trailing'],
    ['e\u0301.png', '\u00e9.png'],
  ])('%j becomes %j', (raw, clean) => {
    expect(sanitizeFilename(raw)).toBe(clean);
  });

  it('keeps names within 200 bytes, extension included', () => {
    const name = sanitizeFilename(`${'é'.repeat(300)}.jpeg`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith('.jpeg')).toBe(true);
  });

  it('never joins outside the folder', () => {
    expect(safeJoin('/srv/up', '../../x')).toBe('/srv/up/x');
  });
});

describe('moveInto', () => {
  it('moves without overwriting, numbering taken names, also at the length limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inlet-fs-'));
    const out = join(dir, 'out');
    const long = `${'a'.repeat(300)}.txt`;
    const paths: string[] = [];
    for (const [i, name] of ['x.txt', 'x.txt', long, long].entries()) {
      const src = join(dir, `src${i}`);
      await writeFile(src, `content ${i}`);
      paths.push(await fileSystem.moveInto(out, name, src));
    }
    expect(paths.map((p) => p.slice(out.length + 1, out.length + 12))).toEqual(['x.txt', 'x (1).txt', 'aaaaaaaaaaa', 'aaaaaaaaaaa']);
    expect(paths[3]).toMatch(/ \(1\)\.txt$/);
    expect(await Promise.all(paths.map((p) => readFile(p, 'utf8')))).toEqual(['content 0', 'content 1', 'content 2', 'content 3']);
    expect((await readdir(dir)).sort()).toEqual(['out']);
    expect((await readdir(out)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('createOrAppendFile', () => {
  async function setup() {
    const dir = await mkdtemp(join(tmpdir(), 'inlet-fs-'));
    const temp = join(dir, 'upload-temp');
    await writeFile(temp, 'the upload', { mode: 0o600 });
    return { dir, temp };
  }

  it('links the upload temp file into a new destination, with a normal mode; a second destination is a copy', async () => {
    const { dir, temp } = await setup();
    const files = consumeFileSystem(temp);
    await files.helpers.createOrAppendFile(join(dir, 'a'), temp);
    await files.helpers.createOrAppendFile(join(dir, 'b'), temp);
    await files.settle(false);
    const [t, a, b] = await Promise.all([stat(temp), stat(join(dir, 'a')), stat(join(dir, 'b'))]);
    expect(a.ino).toBe(t.ino);
    expect(b.ino).not.toBe(t.ino);
    expect(a.mode & 0o777).toBe(0o666 & ~process.umask());
    expect(b.mode & 0o777).toBe(0o666 & ~process.umask());
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('the upload');
  });

  it('appends to an existing destination, and copies any other source', async () => {
    const { dir, temp } = await setup();
    await writeFile(join(dir, 'log'), 'before: ');
    await consumeFileSystem(temp).helpers.createOrAppendFile(join(dir, 'log'), temp);
    expect(await readFile(join(dir, 'log'), 'utf8')).toBe('before: the upload');
    await fileSystem.createOrAppendFile(join(dir, 'copy'), temp);
    expect((await stat(join(dir, 'copy'))).ino).not.toBe((await stat(temp)).ino);
    expect(await readFile(join(dir, 'copy'), 'utf8')).toBe('the upload');
  });

  it('gives a kept (postponed) temp file its own bytes again', async () => {
    const { dir, temp } = await setup();
    const files = consumeFileSystem(temp);
    await files.helpers.createOrAppendFile(join(dir, 'a'), temp);
    await files.settle(true);
    await writeFile(join(dir, 'a'), ' more', { flag: 'a' });
    expect(await readFile(temp, 'utf8')).toBe('the upload');
  });
});
