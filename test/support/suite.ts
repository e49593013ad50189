/**
 * One Chromium and one example server per e2e file, a fresh context and page
 * per test, and the checks Phoenix's own suite runs after every test: no
 * page errors and no `data-phx-skip` placeholder left in the DOM.
 *
 * @example
 * const s = browserSuite()
 * it('counts', async () => { await s.page.goto(`${s.server.url}/counter`) })
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { InletServer } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { closeWithin, collectPageErrors, launchBrowser, startExample, type ExampleOverrides, type PageErrors } from './browser.js';

export interface BrowserSuite {
  readonly browser: Browser;
  readonly server: InletServer;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly errors: PageErrors;
}

export function browserSuite(overrides: ExampleOverrides = {}, after?: () => void | Promise<void>): BrowserSuite {
  const s = {} as { -readonly [K in keyof BrowserSuite]: BrowserSuite[K] };
  beforeAll(async () => {
    s.browser = await launchBrowser();
    s.server = await startExample(overrides);
  });
  afterAll(async () => {
    await s.browser?.close();
    await s.server?.close();
  });
  beforeEach(async () => {
    s.context = await s.browser.newContext();
    s.page = await s.context.newPage();
    s.errors = collectPageErrors(s.page);
  });
  afterEach(async () => {
    await after?.();
    expect(s.errors.unexpected()).toEqual([]);
    expect(await s.page.locator('[data-phx-skip]').count()).toBe(0);
    await closeWithin(s.context);
  });
  return s;
}

/** Waits until the view is connected and no push awaits its reply (no loading class left): Phoenix's `syncLV`. */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(
    `document.querySelector('.phx-connected') !== null && !document.querySelector('.phx-change-loading, .phx-click-loading, .phx-submit-loading')`,
  );
}

/** Every text frame the page sends from now on, as it went on the wire. */
export function sentFrames(page: Page): string[] {
  const sent: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => typeof f.payload === 'string' && sent.push(f.payload)));
  return sent;
}

/** Disconnects the socket, waits for the loading state, connects again and waits until settled. */
export async function reconnect(page: Page): Promise<void> {
  await page.evaluate('new Promise((resolve) => window.liveSocket.disconnect(resolve))');
  await page.waitForSelector('.phx-loading');
  await page.evaluate('window.liveSocket.connect()');
  await settled(page);
  expect(await page.locator('.phx-loading').count()).toBe(0);
}
