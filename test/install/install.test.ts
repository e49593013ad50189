/**
 * The install test: `npm pack` every package, install the tarballs with npm
 * in a fresh folder outside the workspace (dependencies from the registry),
 * then run the README's first view and the first example of docs/uploads.md
 * from that folder, as files a new user would write, and drive them with
 * the official client in Chromium. Needs `npm run build` first (the
 * tarballs hold dist/).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser } from '../support/browser.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let browser: Browser;
const children: ChildProcess[] = [];
const outputs: (() => string)[] = [];

function codeBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(heading);
  const block = /```js\n([\s\S]*?)```/.exec(markdown.slice(at));
  if (at < 0 || !block?.[1]) throw new Error(`no js block after ${heading}`);
  return block[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `node file` in the fresh folder and waits until its port answers. */
async function start(file: string, port: number): Promise<string> {
  const child = spawn(process.execPath, [file], { cwd: dir, env: { ...process.env, PORT: String(port), NODE_ENV: 'development' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  outputs.push(() => output);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${file} exited ${child.exitCode}: ${output}`);
    try {
      await fetch(url);
      return url;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${file} did not answer: ${output}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-install-'));
  const packs = join(dir, 'packs');
  await mkdir(packs);
  await run('npm', ['pack', '--workspaces', '--pack-destination', packs, '--silent'], { cwd: repo, maxBuffer: 16 << 20 });
  const tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz')).map((f) => join(packs, f));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'new-app', private: true, version: '1.0.0' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: dir, maxBuffer: 16 << 20 });
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('installed from the tarballs, outside the workspace', () => {
  it('installed every package from its tarball, with no link back to the workspace', async () => {
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; link?: boolean }> };
    for (const name of ['inletjs', '@inletjs/client', '@inletjs/s3', '@inletjs/redis', '@inletjs/express', '@inletjs/fastify', '@inletjs/hono', '@inletjs/koa', '@inletjs/otel']) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, name).toBeDefined();
      expect(entry?.link, name).toBeUndefined();
      expect(entry?.resolved, name).toMatch(/^file:.*\.tgz$/);
    }
  });

  it("runs the README's first view: the counter counts in Chromium", async () => {
    const readme = await readFile(join(repo, 'README.md'), 'utf8');
    const code = codeBlockAfter(readme, '## A first view').replace('server.listen(4000)', 'server.listen(Number(process.env.PORT))');
    expect(code).toContain('Number(process.env.PORT)');
    await writeFile(join(dir, 'counter.mjs'), code);
    const url = await start('counter.mjs', await freePort());
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await gotoLive(page, url);
    expect(await page.textContent('h1')).toBe('Count: 0');
    await page.click('button');
    await page.waitForFunction('document.querySelector("h1").textContent === "Count: 1"');
    expect(errors.unexpected()).toEqual([]);
    await page.close();
  });

  it('runs the first upload example of docs/uploads.md: a photo lands byte-exact', async () => {
    const docs = await readFile(join(repo, 'docs', 'uploads.md'), 'utf8');
    const view = codeBlockAfter(docs, '# Uploads');
    await writeFile(
      join(dir, 'gallery.mjs'),
      `import { createLiveView, html, live_file_input, live_img_preview, uploadErrorMessages } from 'inletjs';\n` +
        `import { createServer } from 'inletjs/node';\n${view}\n` +
        `await createServer({ routes: { '/': Gallery } }).listen(Number(process.env.PORT));\n`,
    );
    // A PNG head (what the content sniffer reads) and random bytes: the example accepts .png.
    const photo = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000ffff49444154', 'hex'), randomBytes(300_000)]);
    await writeFile(join(dir, 'photo.png'), photo);
    const url = await start('gallery.mjs', await freePort());
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await gotoLive(page, url);
    await page.setInputFiles('input[type=file]', join(dir, 'photo.png'));
    await page.waitForSelector('progress'); // the entry, with its preview; it uploads on submit
    await page.click('button[type=submit]');
    await page.waitForFunction('document.querySelectorAll("progress").length === 0').catch(async (e: unknown) => {
      throw new Error(`${String(e)}\npage: ${await page.content()}\nserver: ${outputs.at(-1)?.() ?? ''}`);
    });
    const stored = await readFile(join(dir, 'public', 'uploads', 'photo.png'));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(createHash('sha256').update(photo).digest('hex'));
    expect(errors.unexpected()).toEqual([]);
    await page.close();
  });
});
