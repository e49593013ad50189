/**
 * Uploads through the official client in headless Chromium, on the example
 * pages: what a user does (choose, drop, cancel, save) and what they see.
 * Every stored file's sha256 must equal the source's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { InletServer } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser, startExample, type PageErrors } from '../support/browser.js';
import { headFor, makeRandomFile, sha256OfFile } from '../support/files.js';

let root: string;
let store: string;
let uploadTmp: string;
let files: string;
let browser: Browser;
let server: InletServer;
let page: Page;
let errors: PageErrors;

const shaOfFile = sha256OfFile;
const makeFile = (name: string, size: number) => makeRandomFile(files, name, size);

async function stored(dir: 'uploads' | 'files'): Promise<Record<string, string>> {
  const names = await readdir(join(store, dir)).catch(() => [] as string[]);
  const out: Record<string, string> = {};
  for (const n of names) out[n] = await shaOfFile(join(store, dir, n));
  return out;
}

async function tmpLeft(): Promise<number> {
  let n = 0;
  for (const d of await readdir(uploadTmp).catch(() => [] as string[])) n += (await readdir(join(uploadTmp, d)).catch(() => [])).length;
  return n;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-e2e-up-'));
  store = join(root, 'store');
  uploadTmp = join(root, 'tmp');
  files = join(root, 'src');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(files);
  browser = await launchBrowser();
  server = await startExample({ storeRoot: store, uploadTmpDir: uploadTmp } as never);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  page = await browser.newPage();
  errors = collectPageErrors(page);
  await rm(store, { recursive: true, force: true });
});

afterEach(async () => {
  expect(errors.unexpected()).toEqual([]);
  await page.close();
});

const entryNames = () => page.$$eval('.entry', (els) => els.map((e) => e.getAttribute('data-name')));
const errorTexts = () => page.$$eval('.error', (els) => els.map((e) => (e.textContent ?? '').trim()));

describe('photo gallery', () => {
  it('uploads one file with a preview, and shows it in the gallery', async () => {
    const f = await makeFile('one.png', 300_000);
    await gotoLive(page, `${server.url}/uploads/gallery`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('.entry img[src^="blob:"]');
    await page.click('#save');
    await page.waitForSelector('#gallery img[alt="one.png"]');
    expect(await page.textContent('.flash.info')).toBe('Saved 1 file.');
    expect(await entryNames()).toEqual([]);
    expect(await stored('uploads')).toEqual({ 'one.png': f.sha });
    expect(await tmpLeft()).toBe(0);
  });

  it('uploads several files at once', async () => {
    const fs = await Promise.all(['a.jpg', 'b.gif', 'c.webp'].map((n, i) => makeFile(n, 100_000 * (i + 1) + 7)));
    await gotoLive(page, `${server.url}/uploads/gallery`);
    await page.setInputFiles('input[type=file]', fs.map((f) => f.path));
    await page.waitForFunction(() => document.querySelectorAll('.entry').length === 3);
    await page.click('#save');
    await page.waitForFunction(() => document.querySelectorAll('#gallery img').length === 3);
    expect(await stored('uploads')).toEqual({ 'a.jpg': fs[0]!.sha, 'b.gif': fs[1]!.sha, 'c.webp': fs[2]!.sha });
  });

  it('takes files dropped on the drop target', async () => {
    const bytes = randomBytes(50_000);
    headFor('dropped.png').copy(bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    await gotoLive(page, `${server.url}/uploads/gallery`);
    await page.evaluate(`(() => {
      const bin = atob(${JSON.stringify(bytes.toString('base64'))});
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], 'dropped.png', { type: 'image/png' }));
      const target = document.getElementById('drop');
      target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, dataTransfer: dt }));
      target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    })()`);
    await page.waitForSelector('.entry[data-name="dropped.png"]');
    await page.click('#save');
    await page.waitForSelector('#gallery img[alt="dropped.png"]');
    expect(await stored('uploads')).toEqual({ 'dropped.png': sha });
  });

  it('explains too large and wrong type, and saves nothing while they are listed', async () => {
    const big = await makeFile('big.png', 11 * 1024 * 1024);
    const txt = await makeFile('notes.txt', 1000);
    await gotoLive(page, `${server.url}/uploads/gallery`);
    await page.setInputFiles('input[type=file]', [big.path, txt.path]);
    await page.waitForFunction(() => document.querySelectorAll('.error').length === 2);
    expect(await errorTexts()).toEqual([
      'The file is too large (the limit is 10 MiB).',
      'This type of file is not accepted (allowed: .png, .jpg, .jpeg, .gif, .webp).',
    ]);
    await page.click('#save');
    await page.waitForTimeout(300);
    expect(await stored('uploads')).toEqual({});
  });

  it('reports too many files, and saves once the user removes one', async () => {
    const fs = await Promise.all(['1.png', '2.png', '3.png', '4.png'].map((n) => makeFile(n, 20_000)));
    await gotoLive(page, `${server.url}/uploads/gallery`);
    await page.setInputFiles('input[type=file]', fs.map((f) => f.path));
    await page.waitForSelector('text=Too many files: choose at most 3.');
    await page.click('button[aria-label="Cancel 4.png"]');
    await page.waitForFunction(() => document.querySelectorAll('.error').length === 0);
    await page.click('#save');
    await page.waitForFunction(() => document.querySelectorAll('#gallery img').length === 3);
    expect(await stored('uploads')).toEqual({ '1.png': fs[0]!.sha, '2.png': fs[1]!.sha, '3.png': fs[2]!.sha });
  });

  it('auto-uploads and saves as soon as files are chosen', async () => {
    const f = await makeFile('auto.png', 2_500_000);
    await gotoLive(page, `${server.url}/uploads/auto`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('#gallery img[alt="auto.png"]');
    expect(await stored('uploads')).toEqual({ 'auto.png': f.sha });
    expect(await tmpLeft()).toBe(0);
  });
});

describe('large files', () => {
  it('cancels an upload mid-way: the entry goes and nothing is kept', async () => {
    const f = await makeFile('cancel-me.bin', 150 * 1024 * 1024);
    await gotoLive(page, `${server.url}/uploads/large`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('.entry');
    await page.click('#save');
    await page.waitForFunction(() => {
      const p = document.querySelector('.entry progress');
      const v = p ? Number(p.getAttribute('value')) : 0;
      return v > 0 && v < 60;
    });
    await page.click('button[aria-label="Cancel cancel-me.bin"]');
    await page.waitForFunction(() => document.querySelectorAll('.entry').length === 0);
    await page.waitForTimeout(300);
    expect(await stored('files')).toEqual({});
    expect(await tmpLeft()).toBe(0);
  });

  it('uploads a 200 MB file byte-exact', async () => {
    const f = await makeFile('two-hundred.bin', 200 * 1024 * 1024);
    await gotoLive(page, `${server.url}/uploads/large`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('.entry');
    await page.click('#save');
    await page.waitForSelector('#saved li', { timeout: 120_000 });
    expect(await page.getAttribute('#saved li', 'data-sha256')).toBe(f.sha);
    expect(await stored('files')).toEqual({ 'two-hundred.bin': f.sha });
    expect(await tmpLeft()).toBe(0);
  }, 180_000);
});
