/**
 * Child views and navigation through the official client in headless
 * Chromium (the /children example): a child on its own channel with
 * sendParent, a crashing child rejoining alone, a crashing parent taking its
 * child along, a sticky view keeping its state across live navigation,
 * pushPatch with push and replace (and the back button), flash carried by
 * pushNavigate and cleared with lv:clear-flash, a live session boundary
 * (full page load), and a connected mount failing with 404.
 */
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { browserSuite, sentFrames, settled as settledPage } from '../support/suite.js';

// The crashes are on purpose; the client logs the rejoin of a crashed view.
const s = browserSuite({ log: () => undefined } as never);
let page: Page;
beforeEach(() => {
  page = s.page;
});
const settled = () => settledPage(page);
const text = (selector: string) => page.textContent(selector);

async function open(path: string): Promise<void> {
  await page.goto(`${s.server.url}${path}`);
  await settled();
  await page.waitForSelector('#counter.phx-connected');
  await page.waitForSelector('#player.phx-connected');
  // A page load would lose this; live navigation keeps it.
  await page.evaluate('window.__samePage = true');
}
const samePage = () => page.evaluate('window.__samePage === true');

describe('child views', () => {
  it('a child handles its own events on its own channel and reports to its parent', async () => {
    const frames = sentFrames(page);
    await open('/children');
    await page.click('#child-inc');
    await page.waitForSelector('#child-count >> text=1');
    await page.waitForSelector('#from-child >> text=1');
    expect(await text('#parent-count')).toBe('0');
    const click = frames.find((f) => f.includes('"event"') && f.includes('"inc"'));
    expect(JSON.parse(click as string)[2]).toBe('lv:counter');
  });

  it('a child that crashes rejoins alone: the parent keeps its state', async () => {
    await open('/children');
    await page.click('#parent-inc');
    await page.click('#parent-inc');
    await page.waitForSelector('#parent-count >> text=2');
    await page.click('#child-inc');
    await page.waitForSelector('#child-count >> text=1');
    await page.click('#child-crash');
    // The child remounts (its count starts over); the parent was never touched.
    await page.waitForSelector('#child-count >> text=0');
    await page.waitForSelector('#counter.phx-connected');
    expect(await text('#parent-count')).toBe('2');
    expect(await samePage()).toBe(true);
    await page.click('#child-inc');
    await page.waitForSelector('#child-count >> text=1');
  });

  it('a parent that crashes remounts, and its child with it', async () => {
    await open('/children');
    await page.click('#parent-inc');
    await page.click('#child-inc');
    await page.waitForSelector('#child-count >> text=1');
    await page.waitForSelector('#parent-count >> text=1');
    await page.click('#parent-crash');
    await page.waitForSelector('#parent-count >> text=0');
    await page.waitForSelector('#child-count >> text=0');
    await settled();
    expect(await samePage()).toBe(true);
  });

  it('a child that cannot mount is given up after three tries, without a reload; the parent stays joined', async () => {
    const frames = sentFrames(page);
    let gets = 0;
    page.on('request', (r) => r.url().includes('/children?broken') && gets++);
    await page.goto(`${s.server.url}/children?broken`);
    await page.waitForSelector('[data-phx-main].phx-error');
    const joins = (topic: string) => frames.filter((f) => f.includes(`"${topic}","phx_join"`)).length;
    expect(joins('lv:broken')).toBe(3);
    await page.waitForTimeout(500);
    expect(joins('lv:broken')).toBe(3);
    // One page load, one join of the parent: it was never taken down.
    expect(gets).toBe(1);
    expect(frames.filter((f) => /"lv:phx-[^"]+","phx_join"/.test(f))).toHaveLength(1);
    // The client logs that it gave up; that is the point here.
    expect(s.errors.unexpected([/giving up trying to mount/])).toEqual([]);
    s.errors.clear();
  });

  it('a sticky view keeps its state across live navigation, both ways', async () => {
    await open('/children');
    await page.click('#play');
    await page.click('#play');
    await page.waitForSelector('#plays >> text=2');
    await page.click('a[href="/children/other"]');
    await page.waitForSelector('#other');
    expect(await text('#plays')).toBe('2');
    await page.click('#play');
    await page.waitForSelector('#plays >> text=3');
    await page.click('a[href="/children"]');
    await page.waitForSelector('#parent-count');
    await page.waitForSelector('#counter.phx-connected');
    expect(await text('#plays')).toBe('3');
    expect(await samePage()).toBe(true);
  });
});

describe('navigation', () => {
  it('patches push or replace history entries, and the back button runs handleParams again', async () => {
    await open('/children');
    const length = () => page.evaluate('history.length') as Promise<number>;
    await page.click('#child-inc');
    await page.waitForSelector('#child-count >> text=1');
    const start = await length();
    await page.click('a[href="/children?tab=two"]');
    await page.waitForSelector('#tab >> text=two');
    expect(await length()).toBe(start + 1);
    await page.click('#tab-three');
    await page.waitForSelector('#tab >> text=three');
    expect(new URL(page.url()).search).toBe('?tab=three');
    expect(await length()).toBe(start + 2);
    await page.click('#tab-four');
    await page.waitForSelector('#tab >> text=four');
    expect(await length()).toBe(start + 2);
    await page.goBack();
    await page.waitForSelector('#tab >> text=two');
    expect(new URL(page.url()).search).toBe('?tab=two');
    // The child lived through every patch, with its state.
    expect(await samePage()).toBe(true);
    expect(await text('#child-count')).toBe('1');
    await page.click('#child-inc');
    await page.waitForSelector('#child-count >> text=2');
  });

  it('carries a flash through pushNavigate, and lv:clear-flash clears it', async () => {
    await open('/children');
    await page.click('#away-with-flash');
    await page.waitForSelector('#other');
    expect(await text('.flash.info')).toBe('Welcome to the other page.');
    await page.click('.flash.info');
    await page.waitForFunction(() => document.querySelector('.flash.info') === null);
    expect(await samePage()).toBe(true);
  });

  it('loads the page in full for a route of another live session', async () => {
    await open('/children');
    await page.click('a[href="/children/admin"]');
    await page.waitForSelector('#admin');
    await settled();
    expect(await samePage()).toBe(false);
  });

  it('a connected mount failing with 404 makes the client reload into the 404 page', async () => {
    await open('/children');
    const notFound = page.waitForResponse((r) => new URL(r.url()).pathname === '/children/missing' && r.status() === 404);
    await page.click('a[href="/children/missing"]');
    await notFound;
    await page.waitForLoadState('load');
    expect(await page.textContent('body')).toContain('Not Found');
    // The 404 page's own load is what Chromium reports; nothing else.
    expect(s.errors.unexpected([/status of 404 \(Not Found\)/])).toEqual([]);
    s.errors.clear();
  });
});
