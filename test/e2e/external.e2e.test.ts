/**
 * External uploads through the official client in headless Chromium: direct
 * POSTs to a real S3 gateway (Ceph radosgw, which enforces policies) and
 * chunked UpChunk uploads to the built-in receiver, on disk and on S3
 * multipart. Stored bytes are checked by sha256 (objects through GetObject).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createLiveView, html, live_file_input, uploadErrorMessages } from 'inletjs';
import type { InletServer } from 'inletjs/node';
import { presignPost } from '@inletjs/s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { s3Helpers } from '../../examples/s3.js';
import { collectPageErrors, gotoLive, launchBrowser, startExample, type PageErrors } from '../support/browser.js';
import { getS3TestEnv, RGW_SKIP_MESSAGE, s3TestClient, type S3TestEnv } from '../support/rgw.js';
import { makeRandomFile } from '../support/files.js';

let root: string;
let browser: Browser;
let server: InletServer;
let page: Page;
let errors: PageErrors;
let s3env: S3TestEnv | null;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const makeFile = (name: string, size: number) => makeRandomFile(join(root, 'src'), name, size);

/** Delays every receiver request, so a test can act while an upload is under way; returns the request count. */
async function throttleReceiver(target: Page, delayMs = 400): Promise<{ count: number }> {
  const seen = { count: 0 };
  await target.route('**/_inlet/uploads/**', async (route) => {
    seen.count++;
    await new Promise((r) => setTimeout(r, delayMs));
    await route.continue().catch(() => undefined);
  });
  return seen;
}

const progressStarted = () =>
  page.waitForFunction(() => Number(document.querySelector('.entry progress')?.getAttribute('value') ?? 0) > 0, null, { timeout: 30_000 });

async function objectSha(key: string): Promise<string> {
  const env = s3env!;
  const out = await s3TestClient(env).send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
  return sha(Buffer.from(await out.Body!.transformToByteArray()));
}

async function objectCount(): Promise<number> {
  const env = s3env!;
  return (await s3TestClient(env).send(new ListObjectsV2Command({ Bucket: env.bucket }))).KeyCount ?? 0;
}

/** A view whose POST policy allows less than the view itself: S3, not Inlet, must refuse. */
function strictPolicyView(env: S3TestEnv) {
  const client = s3TestClient(env);
  return createLiveView({
    mount: (socket) =>
      socket.allowUpload('files', {
        accept: 'any',
        maxFileSize: 50 * 1024 * 1024,
        autoUpload: true,
        external: (entry) => presignPost({ client, bucket: env.bucket, key: `strict/${randomUUID()}`, contentType: entry.clientType || 'application/octet-stream', maxFileSize: 1024 * 1024 }),
      }),
    handleEvent: () => undefined,
    render: (_c, { uploads }) =>
      html`<form phx-change="validate">${live_file_input(uploads.files!)}</form>${uploads.files!.entries.map(
        (e) => html`<div class="entry">${e.clientName}: <span class="msg">${uploadErrorMessages(uploads.files!, e).join(' ')}</span></div>`,
      )}`,
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-e2e-ext-'));
  await mkdir(join(root, 'src'));
  s3env = await getS3TestEnv();
  browser = await launchBrowser();
  const s3 = s3env
    ? s3Helpers({ endpoint: s3env.endpoint, region: s3env.region, bucket: s3env.bucket, accessKeyId: s3env.accessKeyId, secretAccessKey: s3env.secretAccessKey, maxFileSize: 60 * 1024 * 1024 })
    : undefined;
  const extra = s3env ? { '/strict': strictPolicyView(s3env) } : {};
  const { exampleOptions } = await import('../../examples/app.js');
  const options = exampleOptions({ storeRoot: join(root, 'store'), uploadTmpDir: join(root, 'tmp'), s3 } as never);
  server = await startExample({ ...options, routes: { ...options.routes, ...extra } } as never);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  page = await browser.newPage();
  errors = collectPageErrors(page);
});

afterEach(async () => {
  await page.close();
});

describe('direct to S3 (presigned POST)', () => {
  it('uploads a 20 MB file to the gateway', async (ctx) => {
    ctx.skip(!s3env, RGW_SKIP_MESSAGE);
    const f = await makeFile('twenty.bin', 20 * 1024 * 1024);
    await gotoLive(page, `${server.url}/uploads/s3`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('.entry');
    await page.click('#save');
    await page.waitForSelector('#saved li', { timeout: 60_000 });
    const key = (await page.getAttribute('#saved li', 'data-key'))!;
    expect(key).toMatch(/^uploads\/[0-9a-f-]{36}\/twenty\.bin$/);
    expect(await objectSha(key)).toBe(f.sha);
    expect(errors.unexpected()).toEqual([]);
  });

  it('shows S3 rejecting a file over the policy limit, with S3 own reason', async (ctx) => {
    ctx.skip(!s3env, RGW_SKIP_MESSAGE);
    const before = await objectCount();
    const f = await makeFile('too-big-for-policy.bin', 2 * 1024 * 1024);
    await gotoLive(page, `${server.url}/strict`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('.entry .msg:has-text("EntityTooLarge")', { timeout: 30_000 });
    expect(await page.textContent('.entry .msg')).toMatch(/^The upload failed: EntityTooLarge/);
    expect(await objectCount()).toBe(before);
  });
});

describe('chunked upload to the built-in receiver (UpChunk)', () => {
  it('uploads 50 MB to local disk', async () => {
    const f = await makeFile('fifty.bin', 50 * 1024 * 1024);
    await gotoLive(page, `${server.url}/uploads/chunked`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('#saved li', { timeout: 90_000 });
    expect(await page.getAttribute('#saved li', 'data-sha256')).toBe(f.sha);
    expect(sha(await readFile(join(root, 'store', 'chunked', 'fifty.bin')))).toBe(f.sha);
    expect(server.receiver.size).toBe(0);
    expect(errors.unexpected()).toEqual([]);
  }, 120_000);

  it('uploads 50 MB to S3 multipart', async (ctx) => {
    ctx.skip(!s3env, RGW_SKIP_MESSAGE);
    const f = await makeFile('fifty-s3.bin', 50 * 1024 * 1024);
    await gotoLive(page, `${server.url}/uploads/chunked?store=s3`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('#saved li', { timeout: 90_000 });
    const key = (await page.getAttribute('#saved li', 'data-key'))!;
    expect(key).toMatch(/^uploads\//);
    expect(await objectSha(key)).toBe(f.sha);
    expect(errors.unexpected()).toEqual([]);
  }, 120_000);

  it('resumes to the right bytes when the network drops requests mid-upload', async () => {
    const f = await makeFile('flaky.bin', 24 * 1024 * 1024);
    let n = 0;
    const dropped: number[] = [];
    await page.route('**/_inlet/uploads/**', async (route) => {
      n++;
      if (n === 2) {
        // The server stores the chunk, then the response is lost: the resend must not duplicate bytes.
        dropped.push(n);
        await route.fetch();
        await route.abort('connectionreset');
      } else if (n === 4 || n === 5) {
        // The request never arrives (twice in a row for the same chunk).
        dropped.push(n);
        await route.abort('connectionreset');
      } else await route.continue();
    });
    await gotoLive(page, `${server.url}/uploads/chunked`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('#saved li', { timeout: 90_000 });
    expect(dropped).toEqual([2, 4, 5]);
    expect(await page.getAttribute('#saved li', 'data-sha256')).toBe(f.sha);
  }, 120_000);

  it('tells the uploader to stop when the user cancels', async () => {
    const f = await makeFile('cancelled.bin', 40 * 1024 * 1024);
    const requests = await throttleReceiver(page);
    await gotoLive(page, `${server.url}/uploads/chunked`);
    await page.setInputFiles('input[type=file]', f.path);
    await progressStarted();
    await page.click('button[aria-label="Cancel cancelled.bin"]');
    await page.waitForFunction(() => document.querySelectorAll('.entry').length === 0);
    const atCancel = requests.count;
    await page.waitForTimeout(1500);
    expect(requests.count - atCancel).toBeLessThanOrEqual(1);
    expect(server.receiver.size).toBe(0);
    expect(await page.$('#saved li')).toBeNull();
  }, 60_000);

  it('aborts the upload when the view is replaced by live navigation', async () => {
    const f = await makeFile('navigated.bin', 40 * 1024 * 1024);
    const requests = await throttleReceiver(page);
    await gotoLive(page, `${server.url}/uploads/chunked`);
    await page.evaluate('window.__sameDocument = true');
    await page.setInputFiles('input[type=file]', f.path);
    await progressStarted();
    await page.click('nav a');
    await page.waitForSelector('.examples');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    const atNavigation = requests.count;
    await page.waitForTimeout(1500);
    expect(requests.count - atNavigation).toBeLessThanOrEqual(1);
    await expect.poll(() => server.receiver.size).toBe(0);
  }, 60_000);
});
