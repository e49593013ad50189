/**
 * Async work through the official client in headless Chromium (the /async
 * example, opened with ?gate so each task waits for the test): assigns
 * loading, then ok through their own diff push; refreshing keeps the shown
 * result; failures and cancels show the failed state while the view keeps
 * working; startAsync outcomes; streamAsync; components loading their own
 * data (Phoenix issues 3117 and 4027); tasks aborted when the view goes away.
 */
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { browserSuite, settled as settledPage } from '../support/suite.js';
import { gate } from '../../examples/views/gate.js';
import { asyncStats } from '../../examples/views/async.js';

const s = browserSuite({}, () => gate.reset());
let page: Page;
beforeEach(() => {
  page = s.page;
  asyncStats.reset();
});
const settled = () => settledPage(page);
const text = (selector: string) => page.textContent(selector);

/** Every text frame the page receives from now on. */
function receivedFrames(): string[] {
  const got: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => typeof f.payload === 'string' && got.push(f.payload)));
  return got;
}

async function open(path = '/async?gate'): Promise<void> {
  await page.goto(`${s.server.url}${path}`);
  await settled();
}

/** Lets the task waiting under `name` finish, then waits until `selector` shows `expected`. */
async function release(name: string, selector: string, expected: string): Promise<void> {
  await expect.poll(() => gate.waiting(`async:${name}`)).toBeGreaterThan(0);
  gate.release(`async:${name}`);
  await page.waitForFunction(
    ([sel, want]) => document.querySelector(sel as string)?.textContent?.includes(want as string) ?? false,
    [selector, expected],
  );
}

describe('assignAsync', () => {
  it('shows loading in the HTTP render and after the join, then the result through its own diff push', async () => {
    const response = await page.request.get(`${s.server.url}/async?gate`);
    expect(await response.text()).toContain('Loading the organisation…');
    const frames = receivedFrames();
    await open();
    expect(await text('#org')).toContain('Loading the organisation…');
    await release('org', '#org', 'Acme, 12 members');
    // The result came as a push ("diff" event, no ref) after the join reply, not in it.
    const join = frames.findIndex((f) => f.includes('"phx_reply"') && f.includes('"rendered"'));
    const push = frames.findIndex((f) => f.includes('"diff"') && f.includes('Acme'));
    expect(join).toBeGreaterThanOrEqual(0);
    expect(push).toBeGreaterThan(join);
    expect(JSON.parse(frames[join] as string)[4].response.rendered).not.toContain('Acme');
  });

  it('keeps the loaded result while refreshing, starts over when reset, and shows a failure while the view keeps working', async () => {
    await open();
    await release('org', '#org', 'Acme, 12 members');
    await page.click('text=Refresh');
    await page.waitForSelector('#org >> text=(refreshing)');
    expect(await text('#org')).toContain('Acme, 12 members');
    await release('org', '#org', 'Acme, 13 members');
    expect(await text('#org')).not.toContain('refreshing');

    await page.click('text=Reload from scratch');
    await page.waitForSelector('#org >> text=Loading the organisation…');
    await release('org', '#org', 'Acme, 13 members');

    await page.click('text=Load and fail');
    await page.waitForSelector('#org >> text=Loading the organisation…');
    await release('org', '#org', 'Could not load the organisation: the directory is unavailable');
    // Still connected and answering events: the failure was the assign's, not the view's.
    await page.click('#count');
    await page.waitForSelector('#count >> text=1');
    expect(await page.locator('.phx-error').count()).toBe(0);
  });

  it('cancelAsync fails the loading assign with the reason and aborts the task', async () => {
    await open();
    await release('org', '#org', 'Acme');
    await page.click('text=Reload from scratch');
    await page.waitForSelector('#org >> text=Loading the organisation…');
    await page.click('text=Cancel');
    await page.waitForSelector('#org >> text=Could not load the organisation: cancelled by the user');
    await expect.poll(() => asyncStats.aborted).toBe(1);
    // The cancelled task's gate opening later changes nothing.
    gate.release('async:org');
    await page.click('#count');
    await page.waitForSelector('#count >> text=1');
    expect(await text('#org')).toContain('cancelled by the user');
  });
});

describe('startAsync and streamAsync', () => {
  it('hands the result, a thrown error or a cancel to handleAsync', async () => {
    await open();
    await page.click('#count');
    await page.waitForSelector('#count >> text=1');
    await page.click('button:text-is("Report")');
    await page.waitForSelector('#report >> text=working…');
    await release('report', '#report', 'report ready (1 clicks)');
    await page.click('text=Failing report');
    await release('report', '#report', 'no report: the report failed');
    await page.click('button:text-is("Report")');
    await expect.poll(() => gate.waiting('async:report')).toBe(1);
    await page.click('text=Cancel report');
    await page.waitForSelector('#report >> text=no report: cancelled');
    expect(asyncStats.aborted).toBe(1);
  });

  it('streams the items once they arrive', async () => {
    await open();
    await page.click('text=Load songs');
    await page.waitForSelector('#songs-state >> text=loading songs…');
    expect(await page.locator('#songs li').count()).toBe(0);
    await release('songs', '#songs-state', 'songs loaded');
    expect(await page.locator('#songs li').allTextContents()).toEqual(['Blue in Green', 'So What']);
  });
});

describe('components that load their own data', () => {
  it('each component loads in the background; after a live navigation to the same view, their static markup is there (Phoenix 3117)', async () => {
    await open();
    expect(await page.locator('.row .loading').count()).toBe(2);
    await expect.poll(() => gate.waiting('async:row')).toBe(2);
    gate.release('async:row');
    gate.release('async:row');
    await page.waitForSelector('#row-b >> text=details of b');
    expect(await text('#row-a')).toContain('details of a');
    await page.click('text=This page again');
    await page.waitForFunction(() => location.search === '?nav');
    // Without ?gate the rows load after 80 ms on their own.
    await page.waitForSelector('#row-a >> text=details of a');
    await page.waitForSelector('#row-b >> text=details of b');
    expect(await page.locator('.row .static:visible').count()).toBe(2);
  });

  it('a keyed list inside a component follows the AsyncResult it is given (Phoenix 4027)', async () => {
    await open();
    await release('items', '#items', 'Third');
    expect(await page.locator('#items p.item').allTextContents()).toEqual(['First', 'Second', 'Third']);
    await page.click('text=Remove first entry');
    await release('items', '#items', 'Second');
    await page.waitForFunction(() => document.querySelectorAll('#items p.item').length === 2);
    expect(await page.locator('#items p.item').allTextContents()).toEqual(['Second', 'Third']);
  });
});

describe('when the view goes away', () => {
  it('navigating away aborts every task still running and nothing reaches the next page', async () => {
    await open();
    await page.click('button:text-is("Report")');
    await expect.poll(() => gate.waiting('async:report')).toBe(1);
    // org, items and both rows are still waiting too.
    const running = asyncStats.started;
    expect(running).toBe(5);
    await page.click('text=Go elsewhere');
    await page.waitForSelector('#elsewhere');
    await expect.poll(() => asyncStats.aborted).toBe(running);
    gate.reset();
    await new Promise((r) => setTimeout(r, 50));
    expect(await text('main')).toContain('Elsewhere');
  });
});
