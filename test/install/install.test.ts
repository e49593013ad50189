/**
 * The install test: `npm pack` every package, install the tarballs with npm
 * in a fresh folder outside the workspace (dependencies, and Express 5,
 * Fastify 5, Hono with @hono/node-server and Koa 3, from the registry), then
 * run from that folder, as files a new user would write, the README's first
 * view, the first example of docs/uploads.md, and each framework's example
 * of docs/frameworks.md serving a counter, a socket upload and a chunked
 * receiver upload; the official client drives them in Chromium. Needs
 * `npm run build` first (the tarballs hold dist/).
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
import { makeRandomFile, sha256OfFile } from '../support/files.js';

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

/** The js block after `heading`, with `find` replaced by `replace` (which must occur). */
function edited(block: string, edits: [find: string | RegExp, replace: string][]): string {
  let code = block;
  for (const [find, replace] of edits) {
    const next = code.replace(find, replace);
    if (next === code) throw new Error(`${String(find)} not found in:\n${block}`);
    code = next;
  }
  return code;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-install-'));
  const packs = join(dir, 'packs');
  await mkdir(packs);
  await run('npm', ['pack', '--workspaces', '--pack-destination', packs, '--silent'], { cwd: repo, maxBuffer: 16 << 20 });
  const tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz')).map((f) => join(packs, f));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'new-app', private: true, version: '1.0.0' }));
  // The frameworks at the peer ranges the adapters name, as a user's app would have them.
  const frameworks = ['express@^5', 'fastify@^5', 'hono@^4', '@hono/node-server@^2', 'koa@^3'];
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...frameworks], { cwd: dir, maxBuffer: 16 << 20 });
  await writeViews();
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

/**
 * The views the framework apps mount: the README's counter, the gallery of
 * docs/uploads.md (socket upload on submit), and a chunked upload to the
 * receiver (docs/external-uploads.md) that stores each finished file.
 */
async function writeViews(): Promise<void> {
  const readme = await readFile(join(repo, 'README.md'), 'utf8');
  const counter = /const Counter = createLiveView\([\s\S]*?\n\}\);\n/.exec(codeBlockAfter(readme, '## A first view'))?.[0];
  if (!counter) throw new Error("no Counter in the README's first view");
  const gallery = codeBlockAfter(await readFile(join(repo, 'docs', 'uploads.md'), 'utf8'), '# Uploads');
  await writeFile(
    join(dir, 'views.mjs'),
    `import { chunkedUpload, createLiveView, html, live_file_input, live_img_preview, uploadErrorMessages } from 'inletjs';\n` +
      `${counter}\n${gallery}\n` +
      `const Chunked = createLiveView({
  mount: (socket) => {
    socket.assign({ saved: [] });
    socket.allowUpload('video', { accept: 'any', maxFileSize: 2e9, autoUpload: true,
      external: chunkedUpload({ chunkSizeKiB: 5120 }),
      progress: async (name, entry, s) => {
        if (!entry.done) return;
        await s.consumeUploadedEntry(name, entry, (meta) => meta.fileSystem.moveInto('./stored', entry.clientName, meta.path));
        s.assign({ saved: [...s.assigns.saved, entry.clientName] });
      },
    });
  },
  handleEvent: () => {},
  render: ({ saved }, { uploads }) => html\`<form phx-change="validate">\${live_file_input(uploads.video)}</form>
    <ul id="saved">\${saved.map((n) => html\`<li>\${n}</li>\`)}</ul>\`,
});
export { Counter, Gallery, Chunked };
`,
  );
}

const FRAMEWORK_SECTIONS = { express: '## Express 5', fastify: '## Fastify 5', hono: '## Hono (on @hono/node-server)', koa: '## Koa 3' } as const;

describe.each(Object.entries(FRAMEWORK_SECTIONS))("installed, mounted in %s as docs/frameworks.md shows", (name, heading) => {
  let url: string;

  beforeAll(async () => {
    const block = codeBlockAfter(await readFile(join(repo, 'docs', 'frameworks.md'), 'utf8'), heading);
    const code = edited(block, [
      [/\{ '\/counter': Counter \}/, "{ '/counter': Counter, '/gallery': Gallery, '/chunked': Chunked }"],
      [/3000/, 'Number(process.env.PORT)'],
    ]);
    await writeFile(join(dir, `${name}.mjs`), `import { Counter, Gallery, Chunked } from './views.mjs';\n${code}`);
    url = await start(`${name}.mjs`, await freePort());
  }, 60_000);

  it("answers the framework's own route next to Inlet's", async () => {
    expect(await (await fetch(`${url}/api/health`)).json()).toEqual({ ok: true });
    expect((await fetch(`${url}/inlet/inlet-client.js`)).headers.get('content-type')).toMatch(/javascript/);
  });

  it('runs the counter, uploads over the socket and in chunks to the receiver, byte-exact', async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await gotoLive(page, `${url}/counter`);
    await page.click('button');
    await page.waitForFunction('document.querySelector("h1").textContent === "Count: 1"');

    const photo = await makeRandomFile(dir, `photo-${name}.png`, 400_000);
    await gotoLive(page, `${url}/gallery`);
    await page.setInputFiles('input[type=file]', photo.path);
    await page.waitForSelector('progress');
    await page.click('button[type=submit]');
    await page.waitForFunction('document.querySelectorAll("progress").length === 0');
    expect(await sha256OfFile(join(dir, 'public', 'uploads', `photo-${name}.png`))).toBe(photo.sha);

    // Two 5 MiB chunks and a short last one, each a PUT with Content-Range through the framework.
    const video = await makeRandomFile(dir, `video-${name}.bin`, 10 * 1024 * 1024 + 321);
    await gotoLive(page, `${url}/chunked`);
    await page.setInputFiles('input[type=file]', video.path);
    await page.waitForSelector('#saved li', { timeout: 60_000 }).catch(async (e: unknown) => {
      throw new Error(`${String(e)}\npage: ${await page.content()}\nserver: ${outputs.at(-1)?.() ?? ''}`);
    });
    expect(await page.textContent('#saved li')).toBe(`video-${name}.bin`);
    expect(await sha256OfFile(join(dir, 'stored', `video-${name}.bin`))).toBe(video.sha);
    expect(errors.unexpected()).toEqual([]);
    await page.close();
  }, 90_000);
});
