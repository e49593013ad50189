/**
 * The example app in headless Chromium with the official client
 * (phoenix_live_view 1.2.12): what a user sees after clicks, form input,
 * live patches and navigation, keyed-list updates, and reconnects.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { renderToString, type Template } from 'inletjs';
import type { InletServer } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  closeWithin,
  collectPageErrors,
  gotoLive,
  launchBrowser,
  MAIN_CONNECTED,
  recordFrames,
  startExample,
  waitForConnected,
  WEBSOCKET_DOWN_ERRORS,
  type PageErrors,
} from '../support/browser.js';

/** A fixed secret, so a restarted server accepts the pages the first one rendered. */
const SECRET = 'e2e-core-secret-0123456789abcdef-0123456789';

let browser: Browser;
let server: InletServer;
let context: BrowserContext;
let page: Page;
let errors: PageErrors;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startExample({ secret: SECRET });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  context = await browser.newContext();
  page = await context.newPage();
  errors = collectPageErrors(page);
});

afterEach(async () => {
  await closeWithin(context);
});

const text = (selector: string) => () => page.textContent(selector);
const path = () => {
  const url = new URL(page.url());
  return url.pathname + url.search;
};

/** Sets a global in the page; it only survives while no full page load happens. */
async function markWindow(): Promise<void> {
  await page.evaluate('window.__e2eMarker = "still here"');
}
async function windowMarker(): Promise<unknown> {
  return page.evaluate('window.__e2eMarker');
}

describe('counter', () => {
  it('updates the count on each click and shows the view title', async () => {
    await gotoLive(page, `${server.url}/counter`);
    expect(await page.title()).toBe('Counter');
    expect(await page.textContent('#count')).toBe('0');

    await page.click('#inc');
    await expect.poll(text('#count')).toBe('1');
    await page.click('#inc');
    await page.click('#inc');
    await expect.poll(text('#count')).toBe('3');
    await page.click('#dec');
    await expect.poll(text('#count')).toBe('2');
    await page.click('#reset');
    await expect.poll(text('#count')).toBe('0');

    expect(errors.unexpected()).toEqual([]);
  });
});

describe('form', () => {
  it('shows errors while typing, clears them when fixed, and flashes on submit', async () => {
    await gotoLive(page, `${server.url}/form`);
    expect(await page.locator('.error').count()).toBe(0);

    await page.fill('#user_name', 'A');
    await expect.poll(text('#name-error')).toBe('Name must be at least 2 characters.');
    expect(await page.getAttribute('#user_name', 'aria-invalid')).toBe('true');

    await page.fill('#user_email', 'ada@');
    await expect.poll(text('#email-error')).toBe('Enter a valid email address.');

    await page.fill('#user_name', 'Ada');
    await expect.poll(() => page.locator('#name-error').count()).toBe(0);
    expect(await page.getAttribute('#user_name', 'aria-invalid')).toBe('false');
    expect(await page.textContent('#email-error')).toBe('Enter a valid email address.');

    await page.fill('#user_email', 'ada@example.com');
    await expect.poll(() => page.locator('.error').count()).toBe(0);

    await page.click('#signup button[type=submit]');
    await expect.poll(text('.flash.info')).toBe('Welcome, Ada!');
    expect(await page.textContent('#saved')).toBe('Ada <ada@example.com>');
    expect(await page.locator('.flash.error').count()).toBe(0);

    // The flash goes away when clicked (lv:clear-flash).
    await page.click('.flash.info');
    await expect.poll(() => page.locator('.flash').count()).toBe(0);

    expect(errors.unexpected()).toEqual([]);
  });

  it('shows what the user typed as text, never as markup', async () => {
    const name = '<b id="injected">Ada</b> & "Bob"';
    await gotoLive(page, `${server.url}/form`);
    await page.fill('#user_name', name);
    await page.fill('#user_email', 'ada@example.com');
    await expect.poll(() => page.getAttribute('#user_name', 'aria-invalid')).toBe('false');
    await page.click('#signup button[type=submit]');
    await expect.poll(text('.flash.info')).toBe(`Welcome, ${name}!`);
    expect(await page.textContent('#saved')).toBe(`${name} <ada@example.com>`);
    expect(await page.locator('#injected').count()).toBe(0);
    expect(errors.unexpected()).toEqual([]);
  });

  it('submitting an empty form shows every error and an error flash', async () => {
    await gotoLive(page, `${server.url}/form`);
    await page.click('#signup button[type=submit]');
    await expect.poll(text('.flash.error')).toBe('Please fix the errors below.');
    expect(await page.textContent('#name-error')).toBe('Name must be at least 2 characters.');
    expect(await page.textContent('#email-error')).toBe('Enter a valid email address.');
    expect(await page.textContent('#saved')).toBe('');
    expect(errors.unexpected()).toEqual([]);
  });
});

describe('live navigation', () => {
  it('a live patch changes #tab and the URL without a remount', async () => {
    const frames = recordFrames(page);
    await gotoLive(page, `${server.url}/pages/one`);
    expect(await page.textContent('#tab')).toBe('a');
    await markWindow();
    const joinsBefore = frames.filter((f) => f.event === 'phx_join').length;

    await page.click('a:text("Tab B")');
    await expect.poll(text('#tab')).toBe('b');
    expect(path()).toBe('/pages/one?tab=b');
    await expect.poll(() => page.title()).toBe('Page one (b)');

    // Back in history patches again, still in the same view.
    await page.goBack();
    await expect.poll(text('#tab')).toBe('a');
    expect(path()).toBe('/pages/one');

    await page.click('a:text("Tab B")');
    await expect.poll(text('#tab')).toBe('b');
    await page.click('a:text("Tab A")');
    await expect.poll(text('#tab')).toBe('a');
    expect(path()).toBe('/pages/one?tab=a');

    expect(frames.filter((f) => f.event === 'phx_join').length).toBe(joinsBefore);
    expect(frames.filter((f) => f.event === 'live_patch' && f.direction === 'sent').length).toBe(4);
    expect(await windowMarker()).toBe('still here');
    expect(errors.unexpected()).toEqual([]);
  });

  it('navigates to page two and back without a page load', async () => {
    await gotoLive(page, `${server.url}/pages/one`);
    await markWindow();

    await page.click('a:text("Go to page two")');
    await page.waitForSelector('#page-two');
    await waitForConnected(page);
    expect(path()).toBe('/pages/two');
    await expect.poll(() => page.title()).toBe('Page two');
    expect(await page.locator('#page-one').count()).toBe(0);

    await page.click('a:text("Back to page one")');
    await page.waitForSelector('#page-one');
    await waitForConnected(page);
    expect(path()).toBe('/pages/one');
    expect(await page.textContent('#tab')).toBe('a');
    await expect.poll(() => page.title()).toBe('Page one (a)');

    // The browser's back button returns to page two, live as well.
    await page.goBack();
    await page.waitForSelector('#page-two');
    expect(path()).toBe('/pages/two');

    expect(await windowMarker()).toBe('still here');
    expect(errors.unexpected()).toEqual([]);
  });

  it('follows a navigation pushed by the server (#go-two)', async () => {
    await gotoLive(page, `${server.url}/pages/one?tab=b`);
    expect(await page.textContent('#tab')).toBe('b');
    await markWindow();

    await page.click('#go-two');
    await page.waitForSelector('#page-two');
    await waitForConnected(page);
    expect(path()).toBe('/pages/two');
    await expect.poll(() => page.title()).toBe('Page two');

    expect(await windowMarker()).toBe('still here');
    expect(errors.unexpected()).toEqual([]);
  });
});

interface Row {
  id: number;
  label: string;
  value: number;
  tick: number;
}
interface RowsAssigns {
  rows: Row[];
  nextId: number;
  updates: number;
}
interface RowsModule {
  Rows: {
    mount(socket: unknown): void;
    handleEvent(event: Record<string, unknown>, socket: unknown): void;
    render(context: RowsAssigns & { flash: Record<string, string> }, meta: Record<string, unknown>): Template;
  };
}

/**
 * The rows view run in Node with a stand-in socket: after the same events,
 * its full HTML render is what the browser's patched DOM must equal.
 */
async function rowsOracle() {
  const { Rows } = (await import(new URL('../../examples/views/rows.js', import.meta.url).href)) as RowsModule;
  const socket = {
    assigns: {} as RowsAssigns,
    assign(values: Partial<RowsAssigns>) {
      Object.assign(this.assigns, values);
    },
    pageTitle() {},
  };
  Rows.mount(socket);
  return {
    event(type: string, fields: Record<string, unknown> = {}) {
      Rows.handleEvent({ ...fields, type }, socket);
    },
    /** The server's full render of `#rows tbody`, serialised by the browser's HTML parser. */
    async tbody(): Promise<string> {
      const html = renderToString(Rows.render({ ...socket.assigns, flash: {} }, { connected: true }));
      const parse = `(() => { const t = document.createElement('template'); t.innerHTML = ${JSON.stringify(html)};
        return t.content.querySelector('#rows tbody').innerHTML; })()`;
      return (await page.evaluate(parse)) as string;
    },
  };
}

/** The first row where two tbody serialisations differ, for a readable failure; undefined if equal. */
function firstRowDifference(actual: string, expected: string) {
  if (actual === expected) return undefined;
  const a = actual.split('</tr>');
  const e = expected.split('</tr>');
  const index = a.findIndex((row, i) => row !== e[i]);
  const at = index === -1 ? a.length : index;
  return { index: at, rows: { actual: a.length - 1, expected: e.length - 1 }, actual: a[at], expected: e[at] };
}

describe('1,000 keyed rows', () => {
  it('bump, bump every 10th, reverse, prepend and remove-first leave exactly the server-rendered table', async () => {
    const oracle = await rowsOracle();
    await gotoLive(page, `${server.url}/rows`);
    const rows = page.locator('#rows tbody tr');
    const cell = (rowId: number, col: number) => page.textContent(`#row-${rowId} td:nth-child(${col})`);
    const firstRowId = () => page.textContent('#rows tbody tr:first-child td:first-child');
    const sameAsServer = async () => firstRowDifference(await page.innerHTML('#rows tbody'), await oracle.tbody());

    expect(await rows.count()).toBe(1000);
    expect(await page.textContent('#row-count')).toBe('1000');
    expect(await sameAsServer()).toBeUndefined();

    // Row 1 starts at 0; row 11 at (10 * 7919) % 1000 = 190.
    await page.click('#bump');
    oracle.event('bump', { index: '0' });
    await expect.poll(text('#updates')).toBe('1');
    expect(await cell(1, 3)).toBe('1');
    expect(await cell(1, 4)).toBe('updated ×1');
    expect(await sameAsServer()).toBeUndefined();

    await page.click('#bump10');
    oracle.event('bump-every-10th');
    await expect.poll(text('#updates')).toBe('2');
    expect(await cell(1, 3)).toBe('2');
    expect(await cell(1, 4)).toBe('updated ×2');
    expect(await cell(11, 3)).toBe('191');
    expect(await cell(12, 4)).toBe('');
    expect(await page.locator('#rows em').count()).toBe(100);
    expect(await sameAsServer()).toBeUndefined();

    await page.click('#reverse');
    oracle.event('reverse');
    await expect.poll(firstRowId).toBe('1000');
    expect(await page.textContent('#rows tbody tr:last-child td:first-child')).toBe('1');
    expect(await rows.count()).toBe(1000);
    expect(await sameAsServer()).toBeUndefined();

    await page.click('#prepend');
    oracle.event('prepend');
    await expect.poll(firstRowId).toBe('1001');
    expect(await cell(1001, 2)).toBe('Row 1001');
    expect(await rows.count()).toBe(1001);
    expect(await page.textContent('#row-count')).toBe('1001');
    expect(await sameAsServer()).toBeUndefined();

    await page.click('#remove-first');
    oracle.event('remove-first');
    await expect.poll(firstRowId).toBe('1000');
    expect(await rows.count()).toBe(1000);
    expect(await page.textContent('#row-count')).toBe('1000');
    expect(await page.textContent('#updates')).toBe('5');
    expect(await sameAsServer()).toBeUndefined();

    expect(errors.unexpected()).toEqual([]);
  });

  it('applies events clicked back to back, before any reply, in order', async () => {
    const oracle = await rowsOracle();
    await gotoLive(page, `${server.url}/rows`);
    // One task: all five pushes leave before the first reply can arrive.
    const order = ['bump', 'reverse', 'prepend', 'bump10', 'remove-first'];
    await page.evaluate(`for (const id of ${JSON.stringify(order)}) document.getElementById(id).click()`);
    oracle.event('bump', { index: '0' });
    oracle.event('reverse');
    oracle.event('prepend');
    oracle.event('bump-every-10th');
    oracle.event('remove-first');

    await expect.poll(text('#updates')).toBe('5');
    expect(await page.textContent('#row-count')).toBe('1000');
    // Row 1001 was prepended, bumped and removed again. Row 1 was bumped, reversed to
    // the end, and sat at index 1000 (a multiple of 10) when every 10th row was bumped.
    expect(await page.locator('#row-1001').count()).toBe(0);
    expect(await page.textContent('#rows tbody tr:last-child')).toBe('1Row 12updated ×2');
    expect(firstRowDifference(await page.innerHTML('#rows tbody'), await oracle.tbody())).toBeUndefined();
    expect(errors.unexpected()).toEqual([]);
  });
});

describe('reconnecting', () => {
  it('remounts after the client disconnects and connects again', async () => {
    await gotoLive(page, `${server.url}/counter`);
    await page.click('#inc');
    await page.click('#inc');
    await expect.poll(text('#count')).toBe('2');
    await markWindow();

    await page.evaluate('window.liveSocket.disconnect()');
    await page.waitForSelector('[data-phx-main].phx-error');
    await page.evaluate('window.liveSocket.connect()');
    await waitForConnected(page);

    // A fresh mount on the server: the count is back to its mount value.
    await expect.poll(text('#count')).toBe('0');
    await page.click('#inc');
    await expect.poll(text('#count')).toBe('1');
    expect(await windowMarker()).toBe('still here');
    expect(errors.unexpected()).toEqual([]);
  });

  it('remounts when the server closes an idle socket and stays up', async () => {
    // The client heartbeats every 30 s, so a 1.5 s idle limit makes the server close the socket.
    const idle = await startExample({ secret: SECRET, idleTimeoutMs: 1_500 });
    try {
      const frames = recordFrames(page);
      await gotoLive(page, `${idle.url}/counter`);
      await page.click('#inc');
      await expect.poll(text('#count')).toBe('1');
      await markWindow();

      await expect.poll(() => frames.filter((f) => f.event === 'phx_join').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      await waitForConnected(page);
      await expect.poll(text('#count')).toBe('0');
      expect(await windowMarker()).toBe('still here');
      expect(errors.unexpected()).toEqual([]);
    } finally {
      await idle.close();
    }
  });

  it('remounts when the server restarts on the same port (same secret)', async () => {
    const port = Number(new URL(server.url).port);
    await gotoLive(page, `${server.url}/counter`);
    await page.click('#inc');
    await expect.poll(text('#count')).toBe('1');
    await markWindow();

    await server.close();
    // The user sees the error state while the server is away.
    await page.waitForSelector('[data-phx-main].phx-error');
    expect(await page.locator(MAIN_CONNECTED).count()).toBe(0);

    server = await startExample({ secret: SECRET }, port);
    await waitForConnected(page, 15_000);
    await expect.poll(text('#count')).toBe('0');
    await page.click('#inc');
    await expect.poll(text('#count')).toBe('1');

    // No page load: the client rejoined with the tokens it already had.
    expect(await windowMarker()).toBe('still here');
    expect(errors.unexpected(WEBSOCKET_DOWN_ERRORS)).toEqual([]);
  });

  it('reloads the page when a restarted server no longer accepts its tokens (new secret)', async () => {
    const port = Number(new URL(server.url).port);
    await gotoLive(page, `${server.url}/counter`);
    await page.click('#inc');
    await expect.poll(text('#count')).toBe('1');
    await markWindow();
    const reloaded = page.waitForEvent('load', { timeout: 15_000 });

    await server.close();
    server = await startExample({ secret: `${SECRET}-rotated` }, port);
    try {
      // The join is refused as stale, so the client reloads the page, which connects afresh.
      await reloaded;
      await waitForConnected(page, 15_000);
      expect(await windowMarker()).toBeUndefined();
      expect(await page.textContent('#count')).toBe('0');
      await page.click('#inc');
      await expect.poll(text('#count')).toBe('1');
      expect(errors.unexpected(WEBSOCKET_DOWN_ERRORS)).toEqual([]);
    } finally {
      // Later tests expect the shared secret. The page leaves first, so it does not reconnect to the
      // restarted server with tokens it refuses and reload while the context closes.
      await page.goto('about:blank').catch(() => undefined);
      await server.close();
      server = await startExample({ secret: SECRET }, port);
    }
  });
});
