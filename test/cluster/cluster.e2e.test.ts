/**
 * Several Inlet nodes behind one address, in Chromium with the official
 * client: three node processes, HAProxy round-robin with no affinity, a real
 * redis-server (test/cluster/topology.ts). Each page's live socket lands on
 * whichever node the proxy picks; what one view broadcasts must still reach
 * views held by the other nodes.
 *
 * With the shared radosgw, the nodes also share the chunk receiver's
 * sessions (Redis) and bytes (S3 multipart): an UpChunk upload's chunks are
 * balanced over the nodes one by one, survive a node killed mid-upload, and
 * a Redis restart mid-upload either completes byte-exact or fails in plain
 * words. Every object is read back from S3 and compared by sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser, MAIN_CONNECTED, WEBSOCKET_DOWN_ERRORS, type PageErrors } from '../support/browser.js';
import { makeRandomFile } from '../support/files.js';
import { disposeS3TestEnv, getS3TestEnv, RGW_SKIP_MESSAGE, s3TestClient, type S3TestEnv } from '../support/rgw.js';
import { startCluster, type Cluster } from './topology.js';

const MiB = 1024 * 1024;
let browser: Browser;
let cluster: Cluster;
let s3: S3TestEnv | null;
let dir: string;
const prefix = `cluster-${randomBytes(4).toString('hex')}/`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-cluster-e2e-'));
  s3 = await getS3TestEnv();
  const env: Record<string, string> = s3
    ? { INLET_S3_BUCKET: s3.bucket, INLET_S3_ENDPOINT: s3.endpoint, INLET_S3_REGION: s3.region, INLET_S3_ACCESS_KEY: s3.accessKeyId, INLET_S3_SECRET: s3.secretAccessKey, INLET_S3_PREFIX: prefix }
    : {};
  [browser, cluster] = await Promise.all([launchBrowser(), startCluster({ nodes: 3, env })]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
  await disposeS3TestEnv(s3).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

interface OpenPage {
  page: Page;
  context: BrowserContext;
  node: string;
  errors: PageErrors;
}

/** Opens `path` in fresh browser contexts until one page is live on each of `want` distinct nodes. */
async function pagesOnDistinctNodes(path: string, want: number): Promise<OpenPage[]> {
  const byNode = new Map<string, OpenPage>();
  const spare: OpenPage[] = [];
  for (let i = 0; i < 12 && byNode.size < want; i++) {
    // A page costs the same number of requests each time (page, client bundle, socket), so with
    // round-robin every socket would land on one node; one extra request shifts the rotation.
    await (await fetch(`${cluster.url}/__node`)).arrayBuffer();
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await gotoLive(page, `${cluster.url}${path}`);
    const node = (await page.textContent('#node'))?.trim() ?? '';
    const open = { page, context, node, errors };
    if (node && !byNode.has(node)) byNode.set(node, open);
    else spare.push(open);
  }
  await Promise.all(spare.map((o) => o.context.close()));
  return [...byNode.values()];
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#say input[name=text]', text);
  await page.click('#say button');
}

describe('cluster in Chromium', () => {
  it('a broadcast from a view on one node updates views on the other nodes', async () => {
    const open = await pagesOnDistinctNodes('/room?room=e2e-broadcast', 3);
    expect(open.map((o) => o.node).sort()).toEqual(['n1', 'n2', 'n3']);
    const [a, b, c] = open as [OpenPage, OpenPage, OpenPage];
    try {
      await say(a.page, `hello from ${a.node}`);
      for (const o of open) {
        await expect.poll(() => o.page.textContent('#messages'), { timeout: 10_000 }).toContain(`hello from ${a.node}`);
        expect(await o.page.getAttribute('#messages li', 'data-from')).toBe(a.node);
      }
      await say(c.page, 'and back <b>');
      await expect.poll(() => b.page.locator('#messages li').allTextContents()).toEqual([`hello from ${a.node}`, 'and back <b>']);
      await expect.poll(() => a.page.locator('#messages li').allTextContents()).toEqual([`hello from ${a.node}`, 'and back <b>']);
      for (const o of open) expect(o.errors.unexpected()).toEqual([]);
    } finally {
      await Promise.all(open.map((o) => o.context.close()));
    }
  });

  it('Redis restarted mid-run: pages stay live and broadcasts between nodes resume', async () => {
    const open = await pagesOnDistinctNodes('/room?room=e2e-redis-restart', 2);
    const [a, b] = open as [OpenPage, OpenPage];
    try {
      await say(a.page, 'before');
      await expect.poll(() => b.page.locator('#messages li').allTextContents(), { timeout: 10_000 }).toEqual(['before']);
      await cluster.redis.restart(500);
      // The nodes re-subscribe by themselves; until they have, a broadcast may miss the other node.
      let n = 0;
      await expect
        .poll(
          async () => {
            await say(a.page, `after ${++n}`);
            return (await b.page.locator('#messages li').allTextContents()).some((t) => t.startsWith('after'));
          },
          { timeout: 20_000, interval: 500 },
        )
        .toBe(true);
      // Both pages kept their sockets: no remount (the earlier message is still there) and no error.
      expect((await b.page.locator('#messages li').allTextContents())[0]).toBe('before');
      await expect.poll(() => a.page.locator('#messages li').count()).toBe(n + 1);
      for (const o of open) expect(o.errors.unexpected()).toEqual([]);
    } finally {
      await Promise.all(open.map((o) => o.context.close()));
    }
  });

  it('a node killed under a live page: the client reconnects through the proxy to another node and remounts', async () => {
    const open = await pagesOnDistinctNodes('/room?room=e2e-node-kill', 2);
    const [a, b] = open as [OpenPage, OpenPage];
    const victim = cluster.nodes.find((n) => n.name === a.node);
    if (!victim) throw new Error(`no node ${a.node}`);
    try {
      await victim.kill();
      // The view remounts on a survivor: its node changes and it is connected again.
      await expect.poll(() => a.page.textContent('#node'), { timeout: 20_000 }).not.toBe(victim.name);
      await a.page.waitForSelector(MAIN_CONNECTED, { timeout: 20_000 });
      const survivor = (await a.page.textContent('#node'))?.trim();
      expect(['n1', 'n2', 'n3'].filter((n) => n !== victim.name)).toContain(survivor);
      // And it is a working member of the room again, both ways.
      await say(a.page, 'back from the dead node');
      await expect.poll(() => b.page.locator('#messages li').allTextContents(), { timeout: 10_000 }).toContain('back from the dead node');
      await say(b.page, 'welcome back');
      await expect.poll(() => a.page.locator('#messages li').allTextContents(), { timeout: 10_000 }).toContain('welcome back');
      expect(a.errors.unexpected([...WEBSOCKET_DOWN_ERRORS, /ERR_EMPTY_RESPONSE|502|503/])).toEqual([]);
      expect(b.errors.unexpected()).toEqual([]);
    } finally {
      await Promise.all(open.map((o) => o.context.close()));
      await victim.start();
    }
  });
});

/** One chunk request (UpChunk's PUT) as the page saw it: the node HAProxy sent it to, and the answer. */
interface ChunkAnswer {
  node: string;
  status: number;
  at: number;
  /** The page's other requests through the proxy (a late favicon, say) sent before this chunk: each moves the round-robin on. */
  othersBefore: number;
}

/** Watches the page's chunk requests; `failed` counts those that got no answer at all. */
function watchChunks(page: Page): { answers: ChunkAnswer[]; failed: number; onRequest?: () => void } {
  const seen: { answers: ChunkAnswer[]; failed: number; onRequest?: () => void } = { answers: [], failed: 0 };
  const isChunk = (url: string, method: string) => url.includes('/_inlet/uploads/') && method === 'PUT';
  let others = 0;
  const othersAt = new Map<object, number>();
  page.on('request', (r) => {
    if (isChunk(r.url(), r.method())) {
      othersAt.set(r, others);
      seen.onRequest?.();
    } else if (r.url().startsWith('http')) others++;
  });
  page.on('response', (r) => {
    if (isChunk(r.url(), r.request().method())) {
      seen.answers.push({ node: r.headers()['x-inlet-node'] ?? '?', status: r.status(), at: Date.now(), othersBefore: othersAt.get(r.request()) ?? 0 });
    }
  });
  page.on('requestfailed', (r) => {
    if (isChunk(r.url(), r.method())) seen.failed++;
  });
  return seen;
}

async function objectSha(key: string): Promise<string> {
  const env = s3!;
  const out = await s3TestClient(env).send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
  return createHash('sha256').update(await out.Body!.transformToByteArray()).digest('hex');
}

async function objectKeys(): Promise<string[]> {
  const env = s3!;
  const out = await s3TestClient(env).send(new ListObjectsV2Command({ Bucket: env.bucket, Prefix: prefix }));
  return (out.Contents ?? []).flatMap((o) => (o.Key && !o.Key.includes('/.inlet-uploads/') ? [o.Key] : []));
}

/** What a finished upload left: the page's entry for it and the object, or the error it shows. */
async function outcome(page: Page, name: string): Promise<{ saved?: { key: string; sha: string; node: string }; error?: string }> {
  const li = page.locator(`#saved li:has-text("${name}")`);
  const msg = page.locator(`.entry[data-name="${name}"] .msg`);
  await expect.poll(async () => (await li.count()) > 0 || ((await msg.count()) > 0 && (await msg.textContent())?.trim() !== ''), { timeout: 150_000, interval: 250 }).toBe(true);
  if ((await li.count()) > 0) {
    return { saved: { key: (await li.getAttribute('data-key')) ?? '', sha: (await li.getAttribute('data-sha')) ?? '', node: (await li.getAttribute('data-node')) ?? '' } };
  }
  return { error: (await msg.textContent())?.trim() ?? '' };
}

async function openChunked(): Promise<OpenPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await gotoLive(page, `${cluster.url}/chunked`);
  return { page, context, node: (await page.textContent('#node'))?.trim() ?? '', errors };
}

describe('UpChunk uploads across nodes (sessions in Redis, bytes in S3 multipart)', () => {
  it('consecutive chunks of one upload land on different nodes, and the object is byte-exact', async (ctx) => {
    ctx.skip(!s3, RGW_SKIP_MESSAGE);
    const f = await makeRandomFile(dir, 'alternating.bin', 27 * MiB + 12_345);
    const o = await openChunked();
    try {
      const chunks = watchChunks(o.page);
      await o.page.setInputFiles('input[type=file]', f.path);
      const done = await outcome(o.page, 'alternating.bin');
      expect(done.error).toBeUndefined();
      expect(await objectSha(done.saved!.key)).toBe(f.sha);
      expect(done.saved!.sha).toBe(f.sha);
      // 6 chunks of 5 MiB, each answered by the node after the previous one's (HAProxy round-robin, no affinity).
      expect(chunks.answers.map((a) => a.status)).toEqual([308, 308, 308, 308, 308, 201]);
      const nodes = chunks.answers.map((a) => a.node);
      expect(new Set(nodes).size).toBe(3);
      // A pair with another request of the page between them may share a node: that request took the turn in between.
      for (let i = 1; i < nodes.length; i++) {
        const between = chunks.answers[i]!.othersBefore - chunks.answers[i - 1]!.othersBefore;
        if (between === 0) expect(nodes[i], `chunk ${i} after chunk ${i - 1}`).not.toBe(nodes[i - 1]);
      }
      expect(o.errors.unexpected()).toEqual([]);
    } finally {
      await o.context.close();
    }
  }, 180_000);

  it('a node killed mid-upload: the next chunks go to the survivors and the upload completes byte-exact', async (ctx) => {
    ctx.skip(!s3, RGW_SKIP_MESSAGE);
    const f = await makeRandomFile(dir, 'killed.bin', 42 * MiB + 777);
    const o = await openChunked();
    // The victim is not the node holding the page's socket (that would end the view, and its entry with it).
    const victim = cluster.nodes.find((n) => n.name !== o.node)!;
    const order = cluster.nodes.map((n) => n.name);
    let killedAt = 0;
    try {
      const chunks = watchChunks(o.page);
      // Round-robin: once two chunks were answered, the request after one answered by the node before the
      // victim goes to the victim; kill it while that chunk is under way (its lease then has to lapse).
      chunks.onRequest = () => {
        const last = chunks.answers.at(-1);
        if (killedAt || chunks.answers.length < 2 || !last) return;
        // Should the rotation not be the servers' order, the kill still comes mid-upload.
        if (order[(order.indexOf(last.node) + 1) % order.length] !== victim.name && chunks.answers.length < 5) return;
        killedAt = Date.now();
        setTimeout(() => void victim.kill(), 150);
      };
      await o.page.setInputFiles('input[type=file]', f.path);
      const done = await outcome(o.page, 'killed.bin');
      expect(done.error).toBeUndefined();
      expect(killedAt).toBeGreaterThan(0);
      expect(await objectSha(done.saved!.key)).toBe(f.sha);
      expect(done.saved!.sha).toBe(f.sha);
      // Nothing answered by the victim once it was killed (150 ms after the request started), and the chunks went on.
      const after = chunks.answers.filter((a) => a.at > killedAt + 150);
      expect(after.length).toBeGreaterThan(0);
      expect(after.filter((a) => a.node === victim.name)).toEqual([]);
      expect(chunks.answers.filter((a) => a.status === 308 || a.status === 201).length).toBeGreaterThanOrEqual(9);
      console.log(`node killed mid-upload: ${victim.name}; answers ${chunks.answers.map((a) => `${a.node}:${a.status}`).join(' ')}; ${chunks.failed} request(s) with no answer`);
      expect(o.errors.unexpected([/50[234]/, /ERR_EMPTY_RESPONSE|ERR_CONNECTION|Failed to load resource/])).toEqual([]);
    } finally {
      await o.context.close();
      await victim.start();
    }
  }, 240_000);

  it('Redis restarted mid-upload: the upload completes byte-exact or fails in plain words; never a corrupt object', async (ctx) => {
    ctx.skip(!s3, RGW_SKIP_MESSAGE);
    const f = await makeRandomFile(dir, 'redis-restart.bin', 42 * MiB + 999);
    const o = await openChunked();
    const before = await objectKeys();
    try {
      const chunks = watchChunks(o.page);
      let restarted: Promise<void> | undefined;
      chunks.onRequest = () => {
        if (!restarted && chunks.answers.length >= 2) restarted = cluster.redis.restart(500);
      };
      await o.page.setInputFiles('input[type=file]', f.path);
      const done = await outcome(o.page, 'redis-restart.bin');
      await restarted;
      expect(restarted).toBeDefined();
      if (done.saved) {
        expect(await objectSha(done.saved.key)).toBe(f.sha);
        expect(done.saved.sha).toBe(f.sha);
      } else {
        // This Redis keeps nothing across a restart (no persistence), so the session is gone: the user is told so.
        expect(done.error).toMatch(/^The upload failed: .*The server lost this upload's session .* please upload the file again\.$/);
        expect((await objectKeys()).filter((k) => !before.includes(k))).toEqual([]);
      }
      console.log(`Redis restarted mid-upload: ${done.saved ? 'completed byte-exact' : `failed: ${done.error}`}; answers ${chunks.answers.map((a) => `${a.node}:${a.status}`).join(' ')}`);
      // The page is still live and working: a new upload now completes byte-exact.
      const g = await makeRandomFile(dir, 'after-restart.bin', 6 * MiB + 1);
      await o.page.setInputFiles('input[type=file]', g.path);
      const again = await outcome(o.page, 'after-restart.bin');
      expect(again.error).toBeUndefined();
      expect(await objectSha(again.saved!.key)).toBe(g.sha);
    } finally {
      await o.context.close();
    }
  }, 240_000);
});

