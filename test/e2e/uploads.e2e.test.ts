/**
 * Uploads through the official client in headless Chromium, on the example
 * pages: what a user does (choose, drop, cancel, save) and what they see.
 * Every stored file's sha256 must equal the source's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gotoLive } from '../support/browser.js';
import { headFor, makeRandomFile, sha256OfFile } from '../support/files.js';
import { uploadSuite } from '../support/upload-suite.js';

const s = uploadSuite({ prefix: 'inlet-e2e-up-' });

const shaOfFile = sha256OfFile;
const makeFile = (name: string, size: number) => makeRandomFile(s.files, name, size);

async function stored(dir: 'uploads' | 'files'): Promise<Record<string, string>> {
  const names = await readdir(join(s.store, dir)).catch(() => [] as string[]);
  const out: Record<string, string> = {};
  for (const n of names) out[n] = await shaOfFile(join(s.store, dir, n));
  return out;
}

async function tmpLeft(): Promise<number> {
  let n = 0;
  for (const d of await readdir(s.uploadTmp).catch(() => [] as string[])) n += (await readdir(join(s.uploadTmp, d)).catch(() => [])).length;
  return n;
}

const entryNames = () => s.page.$$eval('.entry', (els) => els.map((e) => e.getAttribute('data-name')));
const errorTexts = () => s.page.$$eval('.error', (els) => els.map((e) => (e.textContent ?? '').trim()));

describe('photo gallery', () => {
  it('uploads one file with a preview, and shows it in the gallery', async () => {
    const f = await makeFile('one.png', 300_000);
    await gotoLive(s.page, `${s.server.url}/uploads/gallery`);
    await s.page.setInputFiles('input[type=file]', f.path);
    await s.page.waitForSelector('.entry img[src^="blob:"]');
    await s.page.click('#save');
    await s.page.waitForSelector('#gallery img[alt="one.png"]');
    expect(await s.page.textContent('.flash.info')).toBe('Saved 1 file.');
    expect(await entryNames()).toEqual([]);
    expect(await stored('uploads')).toEqual({ 'one.png': f.sha });
    expect(await tmpLeft()).toBe(0);
  });

  it('uploads several files at once', async () => {
    const fs = await Promise.all(['a.jpg', 'b.gif', 'c.webp'].map((n, i) => makeFile(n, 100_000 * (i + 1) + 7)));
    await gotoLive(s.page, `${s.server.url}/uploads/gallery`);
    await s.page.setInputFiles('input[type=file]', fs.map((f) => f.path));
    await s.page.waitForFunction(() => document.querySelectorAll('.entry').length === 3);
    await s.page.click('#save');
    await s.page.waitForFunction(() => document.querySelectorAll('#gallery img').length === 3);
    expect(await stored('uploads')).toEqual({ 'a.jpg': fs[0]!.sha, 'b.gif': fs[1]!.sha, 'c.webp': fs[2]!.sha });
  });

  it('takes files dropped on the drop target', async () => {
    const bytes = randomBytes(50_000);
    headFor('dropped.png').copy(bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    await gotoLive(s.page, `${s.server.url}/uploads/gallery`);
    await s.page.evaluate(`(() => {
      const bin = atob(${JSON.stringify(bytes.toString('base64'))});
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], 'dropped.png', { type: 'image/png' }));
      const target = document.getElementById('drop');
      target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, dataTransfer: dt }));
      target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    })()`);
    await s.page.waitForSelector('.entry[data-name="dropped.png"]');
    await s.page.click('#save');
    await s.page.waitForSelector('#gallery img[alt="dropped.png"]');
    expect(await stored('uploads')).toEqual({ 'dropped.png': sha });
  });

  it('explains too large and wrong type, and saves nothing while they are listed', async () => {
    const big = await makeFile('big.png', 11 * 1024 * 1024);
    const txt = await makeFile('notes.txt', 1000);
    await gotoLive(s.page, `${s.server.url}/uploads/gallery`);
    await s.page.setInputFiles('input[type=file]', [big.path, txt.path]);
    await s.page.waitForFunction(() => document.querySelectorAll('.error').length === 2);
    expect(await errorTexts()).toEqual([
      'The file is too large (the limit is 10 MiB).',
      'This type of file is not accepted (allowed: .png, .jpg, .jpeg, .gif, .webp).',
    ]);
    await s.page.click('#save');
    await s.page.waitForTimeout(300);
    expect(await stored('uploads')).toEqual({});
  });

  it('reports too many files, and saves once the user removes one', async () => {
    const fs = await Promise.all(['1.png', '2.png', '3.png', '4.png'].map((n) => makeFile(n, 20_000)));
    await gotoLive(s.page, `${s.server.url}/uploads/gallery`);
    await s.page.setInputFiles('input[type=file]', fs.map((f) => f.path));
    await s.page.waitForSelector('text=Too many files: choose at most 3.');
    await s.page.click('button[aria-label="Cancel 4.png"]');
    await s.page.waitForFunction(() => document.querySelectorAll('.error').length === 0);
    await s.page.click('#save');
    await s.page.waitForFunction(() => document.querySelectorAll('#gallery img').length === 3);
    expect(await stored('uploads')).toEqual({ '1.png': fs[0]!.sha, '2.png': fs[1]!.sha, '3.png': fs[2]!.sha });
  });

  it('auto-uploads and saves as soon as files are chosen', async () => {
    const f = await makeFile('auto.png', 2_500_000);
    await gotoLive(s.page, `${s.server.url}/uploads/auto`);
    await s.page.setInputFiles('input[type=file]', f.path);
    await s.page.waitForSelector('#gallery img[alt="auto.png"]');
    expect(await stored('uploads')).toEqual({ 'auto.png': f.sha });
    expect(await tmpLeft()).toBe(0);
  });
});

describe('large files', () => {
  it('cancels an upload mid-way: the entry goes and nothing is kept', async () => {
    const f = await makeFile('cancel-me.bin', 150 * 1024 * 1024);
    await gotoLive(s.page, `${s.server.url}/uploads/large`);
    await s.page.setInputFiles('input[type=file]', f.path);
    await s.page.waitForSelector('.entry');
    await s.page.click('#save');
    await s.page.waitForFunction(() => {
      const p = document.querySelector('.entry progress');
      const v = p ? Number(p.getAttribute('value')) : 0;
      return v > 0 && v < 60;
    });
    await s.page.click('button[aria-label="Cancel cancel-me.bin"]');
    await s.page.waitForFunction(() => document.querySelectorAll('.entry').length === 0);
    await s.page.waitForTimeout(300);
    expect(await stored('files')).toEqual({});
    expect(await tmpLeft()).toBe(0);
  });

  it('uploads a 200 MB file byte-exact', async () => {
    const f = await makeFile('two-hundred.bin', 200 * 1024 * 1024);
    await gotoLive(s.page, `${s.server.url}/uploads/large`);
    await s.page.setInputFiles('input[type=file]', f.path);
    await s.page.waitForSelector('.entry');
    await s.page.click('#save');
    await s.page.waitForSelector('#saved li', { timeout: 120_000 });
    expect(await s.page.getAttribute('#saved li', 'data-sha256')).toBe(f.sha);
    expect(await stored('files')).toEqual({ 'two-hundred.bin': f.sha });
    expect(await tmpLeft()).toBe(0);
  }, 180_000);
});
