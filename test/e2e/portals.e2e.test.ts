/**
 * Portals and phx-update="ignore" through the official client in headless
 * Chromium (the /portals example): teleported content lives only in its
 * target and follows patches; events from it reach the view, a component
 * (a stream prepended from a teleported button) or a child view; toggled and
 * nested portals come and go; navigating away removes everything
 * teleported. An ignored element keeps the browser's children and takes the
 * server's data-* attributes only.
 */
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { browserSuite, settled as settledPage } from '../support/suite.js';

const s = browserSuite();
let page: Page;
beforeEach(() => {
  page = s.page;
});
const settled = () => settledPage(page);
const count = (selector: string) => page.locator(selector).count();

async function open(): Promise<void> {
  await page.goto(`${s.server.url}/portals`);
  await settled();
  await page.waitForSelector('#nested.phx-connected');
}

describe('portals', () => {
  it('shows teleported content only in its target, patched with the view', async () => {
    await open();
    expect(await count('#app-portal #my-modal')).toBe(1);
    expect(await count('main #my-modal')).toBe(0);
    expect(await page.getAttribute('#_lv_portal_wrap_modal-source', 'data-phx-teleported-src')).toBe('modal-source');
    await page.click('#tick');
    await page.waitForSelector('#modal-text >> text=DOM patching works as expected: 1');
    // A click inside the teleported modal reaches the view that owns it.
    await page.click('#modal-tick');
    await page.waitForSelector('#modal-text >> text=DOM patching works as expected: 2');
    await page.click('#toggle-modal');
    await page.waitForFunction(() => document.querySelector('#my-modal') === null);
    await page.click('#toggle-modal');
    await page.waitForSelector('#app-portal #my-modal >> text=DOM patching works as expected: 2');
  });

  it('a component inside a portal gets the events of its teleported button, and its stream grows', async () => {
    await open();
    expect(await count('body > #_lv_portal_wrap_lc-source #stream-in-lc li')).toBe(2);
    await page.click('#lc-prepend');
    await page.waitForFunction(() => document.querySelectorAll('#stream-in-lc li').length === 3);
    await page.click('#lc-prepend');
    await page.waitForFunction(() => document.querySelectorAll('#stream-in-lc li').length === 4);
    expect((await page.locator('#stream-in-lc li').allTextContents())[0]).toMatch(/^item \d+$/);
    expect(await page.locator('#stream-in-lc li').last().textContent()).toBe('two');
  });

  it('nested portals follow patches and leave together', async () => {
    await open();
    expect(await count('#app-portal #outer-portal')).toBe(1);
    expect(await count('body > #_lv_portal_wrap_inner-source #inner-portal')).toBe(1);
    await page.click('#tick');
    await page.waitForSelector('#inner-portal >> text=Tick count: 1');
    await page.click('#toggle-nested');
    await page.waitForFunction(() => !document.querySelector('#outer-portal') && !document.querySelector('#inner-portal'));
    await page.click('#toggle-nested');
    await page.waitForSelector('#inner-portal >> text=Tick count: 1');
  });

  it('a child view shown through a portal handles its own clicks', async () => {
    await open();
    await page.click('#nested-click');
    await page.click('#nested-click');
    await page.waitForSelector('#nested-clicks >> text=2');
    expect(await page.textContent('#modal-text')).toContain(': 0');
  });

  it('navigating away removes everything teleported', async () => {
    await open();
    expect(await count('[data-phx-teleported-src]')).toBeGreaterThanOrEqual(4);
    await page.click('a[href="/counter"]');
    await page.waitForSelector('#count');
    await settled();
    expect(await count('[data-phx-teleported-src]')).toBe(0);
    expect(await count('#stream-in-lc, #inner-portal, #nested-body')).toBe(0);
  });
});

describe('phx-update="ignore"', () => {
  it("keeps the browser's children and takes only the server's data-* attributes", async () => {
    await open();
    expect(await page.textContent('#ignored-text')).toBe('server text 0');
    await page.click('#write-ignored');
    await page.click('#tick');
    await page.waitForSelector('#modal-text >> text=: 1');
    expect(await page.getAttribute('#ignored', 'data-count')).toBe('1');
    expect(await page.textContent('#ignored-text')).toBe('written by the browser');
    expect(await page.getAttribute('#ignored', 'title')).toBe('server title 0');
  });
});
