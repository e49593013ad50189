/**
 * Several Inlet nodes behind one address, in Chromium with the official
 * client: three node processes, HAProxy round-robin with no affinity, a real
 * redis-server (test/cluster/topology.ts). Each page's live socket lands on
 * whichever node the proxy picks; what one view broadcasts must still reach
 * views held by the other nodes.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser, MAIN_CONNECTED, WEBSOCKET_DOWN_ERRORS, type PageErrors } from '../support/browser.js';
import { startCluster, type Cluster } from './topology.js';

let browser: Browser;
let cluster: Cluster;

beforeAll(async () => {
  [browser, cluster] = await Promise.all([launchBrowser(), startCluster({ nodes: 3 })]);
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
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
