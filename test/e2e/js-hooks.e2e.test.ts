/**
 * JS commands rendered by the server, colocated hooks and scripts, the
 * server's pushEvent to hooks and replies to hook pushes, in headless
 * Chromium with the official client.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { InletServer } from 'inletjs/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser, recordFrames, startExample, type PageErrors } from '../support/browser.js';

let browser: Browser;
let server: InletServer;
let context: BrowserContext;
let page: Page;
let errors: PageErrors;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startExample();
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
  expect(errors.unexpected()).toEqual([]);
  await context.close();
});

interface Mutation {
  attr: string;
  oldValue: string | null;
  newValue: string | null;
}

/** Starts recording attribute changes of `selector`; the returned function stops and returns them. */
async function attributeMutations(selector: string): Promise<() => Promise<Mutation[]>> {
  await page.evaluate(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    window.__mutations = [];
    window.__observer = new MutationObserver((list) => list.forEach((m) =>
      window.__mutations.push({ attr: m.attributeName, oldValue: m.oldValue, newValue: el.getAttribute(m.attributeName) })));
    window.__observer.observe(el, { attributes: true, attributeOldValue: true });
  })()`);
  return async () => (await page.evaluate(`(() => { window.__observer.disconnect(); return window.__mutations; })()`)) as Mutation[];
}

const button = (name: string) => page.getByRole('button', { name, exact: true });
const visible = (selector: string) => () => page.isVisible(selector);
const attr = (selector: string, name: string) => () => page.getAttribute(selector, name);

describe('JS commands', () => {
  beforeEach(async () => {
    await gotoLive(page, `${server.url}/js`);
  });

  it('show and hide with transitions, set and remove attributes', async () => {
    expect(await page.isVisible('#my-modal')).toBe(false);
    let changes = await attributeMutations('#my-modal');
    await button('show modal').click();
    await page.waitForTimeout(150);
    expect(await changes()).toEqual(
      expect.arrayContaining([
        { attr: 'style', oldValue: 'display: none;', newValue: 'display: block;' },
        { attr: 'aria-expanded', oldValue: 'false', newValue: 'true' },
        { attr: 'open', oldValue: null, newValue: 'true' },
        expect.objectContaining({ attr: 'class', newValue: 'fade-in' }),
        expect.objectContaining({ attr: 'class', oldValue: 'fade-in' }),
      ]),
    );
    expect(await page.isVisible('#my-modal')).toBe(true);
    expect(await page.getAttribute('#my-modal', 'class')).not.toContain('fade-in');

    changes = await attributeMutations('#my-modal');
    await button('hide modal').click();
    await page.waitForTimeout(150);
    expect(await changes()).toEqual(
      expect.arrayContaining([
        { attr: 'style', oldValue: 'display: block;', newValue: 'display: none;' },
        { attr: 'aria-expanded', oldValue: 'true', newValue: 'false' },
        { attr: 'open', oldValue: 'true', newValue: null },
        expect.objectContaining({ attr: 'class', newValue: 'fade-out' }),
      ]),
    );
    expect(await page.isVisible('#my-modal')).toBe(false);
  });

  it('toggle with in and out transitions, toggle attributes between values', async () => {
    await button('toggle modal').click();
    await expect.poll(visible('#my-modal')).toBe(true);
    await expect.poll(attr('#my-modal', 'aria-expanded')).toBe('true');
    expect(await page.getAttribute('#my-modal', 'open')).toBe('true');
    await page.waitForTimeout(100);
    await button('toggle modal').click();
    await expect.poll(visible('#my-modal')).toBe(false);
    await expect.poll(attr('#my-modal', 'aria-expanded')).toBe('false');
    expect(await page.getAttribute('#my-modal', 'open')).toBeNull();
  });

  it('exec runs the commands stored in another element’s attribute', async () => {
    await button('show modal').click();
    await expect.poll(visible('#my-modal')).toBe(true);
    await page.waitForTimeout(100);
    await button('exec close').click();
    await expect.poll(visible('#my-modal')).toBe(false);
    expect(await page.getAttribute('#my-modal', 'aria-expanded')).toBe('false');
  });

  it('classes: add, remove, toggle, a timed transition, and `closest` scoping', async () => {
    await button('add class').click();
    await expect.poll(attr('#box', 'class')).toBe('box highlight big');
    await button('remove class').click();
    await expect.poll(attr('#box', 'class')).toBe('box big');
    await button('toggle class').click();
    await expect.poll(attr('#box', 'class')).toBe('box big dim');
    await button('toggle class').click();
    await expect.poll(attr('#box', 'class')).toBe('box big');
    await button('shake').click();
    await expect.poll(attr('#box', 'class')).toContain('shake');
    await expect.poll(attr('#box', 'class')).toBe('box big');
    await button('pick this one').click();
    await expect.poll(() => page.evaluate(`Array.from(document.querySelectorAll('#scoped li')).map((li) => li.className)`)).toEqual(['', 'picked']);
  });

  it('class changes made by JS survive server patches of the element', async () => {
    await button('add class').click();
    await expect.poll(attr('#box', 'class')).toBe('box highlight big');
    await page.click('#add5');
    await expect.poll(() => page.textContent('#count')).toBe('5');
    expect(await page.getAttribute('#box', 'class')).toBe('box highlight big');
  });

  it('ignoreAttributes keeps an open <details> open across patches', async () => {
    expect(await page.getAttribute('details', 'open')).toBeNull();
    await page.click('details summary');
    await expect.poll(attr('details', 'open')).toBe('');
    await page.click('#increment');
    await expect.poll(() => page.textContent('#increment')).toBe('1');
    expect(await page.getAttribute('details', 'open')).toBe('');
  });

  it('push sends its value, and targets a component with `target: myself`', async () => {
    const frames = recordFrames(page);
    await gotoLive(page, `${server.url}/js`);
    await page.click('#add5');
    await expect.poll(() => page.textContent('#count')).toBe('5');
    await page.click('#add-and-blink');
    await expect.poll(() => page.textContent('#count')).toBe('6');
    await page.click('#hit');
    await expect.poll(() => page.textContent('#hits')).toBe('2');
    expect(await page.textContent('#count')).toBe('6');
    expect(frames.filter((f) => f.direction === 'sent' && f.event === 'event')).toHaveLength(3);
  });

  it('push with `loading` marks those elements, with `pageLoading` fires the page loading events', async () => {
    await page.evaluate(`window.__pageLoading = []; ['phx:page-loading-start', 'phx:page-loading-stop'].forEach((n) =>
      window.addEventListener(n, (e) => window.__pageLoading.push(n + ':' + e.detail.kind)))`);
    await page.click('#slow-loading');
    const countClass = async () => (await page.getAttribute('#count', 'class')) ?? '';
    await expect.poll(countClass).toContain('phx-click-loading');
    await expect.poll(() => page.textContent('#slow')).toBe('1');
    await expect.poll(countClass).not.toContain('phx-click-loading');
    await page.click('#slow-page');
    await expect.poll(() => page.textContent('#slow')).toBe('2');
    await expect.poll(() => page.evaluate('window.__pageLoading')).toEqual(expect.arrayContaining(['phx:page-loading-start:element', 'phx:page-loading-stop:element']));
  });

  it('dispatch sends a DOM event with its detail to the target', async () => {
    await page.evaluate(`window.__dispatched = null; document.querySelector('#copy-src').addEventListener('app:copy', (e) =>
      window.__dispatched = { target: e.target.id, via: e.detail.via, dispatcher: e.detail.dispatcher.id, bubbles: e.bubbles })`);
    await page.click('#dispatch');
    await expect.poll(() => page.evaluate('window.__dispatched')).toEqual({ target: 'copy-src', via: 'JS.dispatch', dispatcher: 'dispatch', bubbles: true });
  });

  it('patch changes the URL in place (push or replace); navigate goes to another view', async () => {
    const historyLength = () => page.evaluate('history.length') as Promise<number>;
    const before = await historyLength();
    await page.click('#patch');
    await expect.poll(() => page.textContent('#tab')).toBe('two');
    expect(new URL(page.url()).search).toBe('?tab=two');
    expect(await historyLength()).toBe(before + 1);
    await page.click('#patch-replace');
    await expect.poll(() => page.textContent('#tab')).toBe('three');
    expect(await historyLength()).toBe(before + 1);
    await page.evaluate('window.__sameDocument = true');
    await page.click('#navigate');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/counter');
    await page.waitForSelector('#count');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  });

  it('focus, focusFirst, and pushFocus/popFocus return focus where it was', async () => {
    const focused = () => page.evaluate('document.activeElement && document.activeElement.id');
    await page.click('#focus-name');
    await expect.poll(focused).toBe('name');
    await page.focus('#open-dialog');
    await page.keyboard.press('Enter');
    await expect.poll(visible('#dialog')).toBe(true);
    await expect.poll(focused).toBe('dialog-first');
    await page.click('#close-dialog');
    await expect.poll(visible('#dialog')).toBe(false);
    await expect.poll(focused).toBe('open-dialog');
  });
});

describe('colocated hooks and scripts', () => {
  beforeEach(async () => {
    await gotoLive(page, `${server.url}/hooks`);
  });

  it('a hook written beside its view runs in the page', async () => {
    await page.fill('#user-phone-number', '1234567890');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#phone')).toBe('123-456-7890');
  });

  it('a hook’s pushEvent resolves with the server’s reply', async () => {
    await page.click('#ping');
    await expect.poll(() => page.textContent('#ping')).toBe('pong 101');
    await page.click('#ping');
    await expect.poll(() => page.textContent('#ping')).toBe('pong 102');
  });

  it('the server’s pushEvent reaches the hook’s handleEvent', async () => {
    await page.click('#notify');
    await expect.poll(() => page.textContent('#notice')).toBe('notice from the server at step 1');
  });

  it('a component’s hook pushes to its component and gets the component’s reply', async () => {
    await page.click('#ask');
    await expect.poll(() => page.textContent('#ask')).toBe('answer 42');
  });

  it('pushEvent with dispatch "before" fires before the patch, the default after it', async () => {
    await page.evaluate(`window.__phases = []; for (const p of ['before', 'after'])
      window.addEventListener('phx:phase-' + p, () => window.__phases.push(p + ':' + document.getElementById('phase-count').textContent))`);
    await page.click('#phases');
    await expect.poll(() => page.evaluate('window.__phases')).toEqual(['before:0', 'after:1']);
  });

  it('a hook inlined in the template as a runtime hook mounts', async () => {
    await expect.poll(visible('#runtime')).toBe(true);
    // It is not in the page's bundle: the client found it through the inline script.
    expect(await page.evaluate('Object.keys(window.__inletColocated.hooks).includes("Runtime")')).toBe(false);
  });

  it('a colocated script runs JS commands the server pushes', async () => {
    expect(await page.isVisible('#hello')).toBe(true);
    await page.click('#push-js');
    await expect.poll(visible('#hello')).toBe(false);
    await page.click('#push-js');
    await expect.poll(visible('#hello')).toBe(true);
  });

  it('hooks are loaded after live navigation from another page too', async () => {
    await gotoLive(page, `${server.url}/`);
    await page.click('a:text("Colocated hooks")');
    await page.waitForSelector('#ping');
    await page.waitForSelector('[data-phx-main].phx-connected');
    await page.click('#ping');
    await expect.poll(() => page.textContent('#ping')).toBe('pong 101');
  });

  it('colocated CSS is linked by the page', async () => {
    expect(await page.evaluate(`getComputedStyle(document.getElementById('global-css')).backgroundColor`)).toBe('rgb(255, 0, 0)');
  });

  it('the script is served with a content hash and cached', async () => {
    const html = await (await fetch(`${server.url}/hooks`)).text();
    const src = /<script defer src="([^"]+)"><\/script>/.exec(html)?.[1] ?? '';
    expect(src).toMatch(/^\/inlet\/colocated\.js\?v=[\w-]{16}$/);
    const res = await fetch(`${server.url}${src}`);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('immutable');
    const again = await fetch(`${server.url}${src}`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
  });
});
