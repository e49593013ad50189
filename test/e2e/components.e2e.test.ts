/**
 * Stateful components through the official client in headless Chromium:
 * sendUpdate and updateMany, nested components removed and revived while
 * the client's destroy is in flight, events for removed components, root id
 * changes, locked re-renders, a form in a component recovered after a
 * reconnect, and an upload a component owns.
 */
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { browserSuite, reconnect, settled } from '../support/suite.js';

const s = browserSuite();
let page: Page;
beforeEach(() => {
  page = s.page;
});

async function open(path: string): Promise<void> {
  await page.goto(`${s.server.url}${path}`);
  await settled(page);
}

const text = (selector: string) => () => page.textContent(selector);

describe('updates', () => {
  it('sendUpdate from handleInfo reaches each component, whose root id changed meanwhile', async () => {
    await open('/components/updates');
    for (let i = 0; i < 10; i++) {
      await page.click('#bump');
      await settled(page);
    }
    for (let cid = 1; cid <= 10; cid++) await expect.poll(() => page.locator(`[data-phx-component="${cid}"]`).textContent()).toBe('10');
    expect(await page.getAttribute('[data-phx-component="10"]', 'id')).toBe('hello-10-1');
  });

  it('a component that sends an update to itself from update() shows the new record each time', async () => {
    await open('/components/updates');
    const values = () => page.locator('#record-loader input[type=text]').evaluateAll((list) => list.map((i) => (i as unknown as { value: string }).value));
    for (const name of ['a', 'b', 'z']) {
      await page.click(`#select-${name}`);
      await settled(page);
      await expect.poll(values).toEqual([`Record ${name}`, `Record ${name}`]);
      expect(await page.textContent('#record-loader')).toContain('Column (c3)');
    }
  });

  it('updateMany gets every instance placed with new props in a render at once', async () => {
    await open('/components/updates');
    expect(await page.locator('#batch li').allTextContents()).toEqual(['row-1 (batch of 3)', 'row-2 (batch of 3)', 'row-3 (batch of 3)']);
    await page.click('#more-rows');
    await settled(page);
    // Only the new row was placed with new props, so it came alone.
    expect(await page.locator('#batch li').allTextContents()).toEqual(['row-1 (batch of 3)', 'row-2 (batch of 3)', 'row-3 (batch of 3)', 'row-4 (batch of 1)']);
  });
});

describe('trees', () => {
  it('a component shown again while cids_destroyed is in flight keeps its subtree wired (Phoenix issue 4350)', async () => {
    let sent!: () => void;
    let release!: () => void;
    let handled!: () => void;
    const destroyedSent = new Promise<void>((r) => (sent = r));
    const released = new Promise<void>((r) => (release = r));
    const destroyedHandled = new Promise<void>((r) => (handled = r));
    await page.routeWebSocket(/\/live\//, (ws) => {
      const server = ws.connectToServer();
      let ref: string | null = null;
      ws.onMessage(async (message) => {
        if (typeof message === 'string' && message.includes('cids_destroyed')) {
          ref = (JSON.parse(message) as unknown[])[1] as string;
          sent();
          await released;
        }
        server.send(message);
      });
      server.onMessage((message) => {
        if (ref !== null && typeof message === 'string' && (JSON.parse(message) as unknown[])[1] === ref) handled();
        ws.send(message);
      });
    });
    await open('/components/tree');
    await page.click('#leaf-bump');
    await expect.poll(text('#leaf-count')).toBe('1');
    await page.click('#tick');
    await settled(page);
    expect(await page.textContent('#branch')).toContain('tick: 1');
    const leafCid = await page.getAttribute('#leaf', 'data-phx-component');
    await page.click('#hide');
    await expect.poll(() => page.locator('#wrapper').count()).toBe(0);
    await destroyedSent;
    await page.click('#show');
    await expect.poll(() => page.locator('#wrapper').count()).toBe(1);
    await settled(page);
    release();
    await destroyedHandled;
    expect(await page.getAttribute('#leaf', 'data-phx-component')).toBe(leafCid);
    await page.click('#leaf-bump');
    await expect.poll(text('#leaf-count')).toBe('2');
  });

  it('a hook pushing to a component removed meanwhile does not disturb the view (Phoenix issue 4066)', async () => {
    await open('/components/tree?delay=100');
    const renderTime = await page.textContent('#render-time');
    await page.fill('#pusher', '123');
    await page.click('#toggle-pusher');
    await settled(page);
    expect(await page.isVisible('#pusher')).toBe(false);
    await page.waitForSelector('body[data-pushed=yes]', { state: 'attached' });
    await page.click('#toggle-pusher');
    await settled(page);
    expect(await page.isVisible('#pusher')).toBe(true);
    expect(await page.textContent('#render-time')).toBe(renderTime);
  });

  it('a component root whose id changes is a new element: its hook mounts again and its new children show', async () => {
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    await open('/components/tree');
    expect(logs.filter((l) => l.includes('RootLogger'))).toEqual(['RootLogger mounted']);
    await page.click('#change-root');
    await settled(page);
    await expect.poll(() => logs.filter((l) => l.includes('RootLogger'))).toEqual(['RootLogger mounted', 'RootLogger mounted']);
    expect(await page.isVisible('text=The new child is visible')).toBe(true);
  });

  it('a component re-rendered while the view locks its form gets the patch once unlocked (Phoenix issue 3684)', async () => {
    await open('/components/tree');
    expect(await page.getAttribute('#dewey', 'checked')).toBeNull();
    await page.click('#dewey');
    await settled(page);
    await expect.poll(() => page.getAttribute('#dewey', 'checked')).toBe('');
  });
});

describe('a form in a component', () => {
  it('is recovered after a reconnect, through a selector phx-target (Phoenix issue 3200)', async () => {
    await open('/components/tabs/settings');
    await page.getByRole('link', { name: 'Messages' }).click();
    await settled(page);
    await page.waitForURL(/\/components\/tabs\/messages$/);
    await page.fill('#new_message_input', 'Hello');
    await settled(page);
    await reconnect(page);
    expect(await page.inputValue('#new_message_input')).toBe('Hello');
  });
});

describe('an upload owned by a component', () => {
  const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);

  async function drop(names: string[]): Promise<void> {
    const bytes = [...PNG];
    const dataTransfer = await page.evaluateHandle(
      ([list, data]) => {
        const dt = new DataTransfer();
        for (const name of list) dt.items.add(new File([new Uint8Array(data)], name, { type: 'image/png' }));
        return dt;
      },
      [names, bytes] as const,
    );
    await page.dispatchEvent('#dropzone', 'drop', { dataTransfer });
    await dataTransfer.dispose();
    await settled(page);
  }

  it('two files are too many, one new drop replaces them, and submit uploads its bytes (Phoenix issue 3368)', async () => {
    await open('/components/uploads');
    await drop(['first.png', 'second.png']);
    await expect.poll(() => page.locator('.upload-error').allTextContents()).toEqual(['too_many_files']);
    await drop(['replacement.png']);
    await expect.poll(() => page.locator('.upload-error').count()).toBe(0);
    expect(await page.locator('.upload-entry').allTextContents()).toEqual(['replacement.png']);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect.poll(text('#saved-files')).toBe(`replacement.png:${createHash('sha256').update(PNG).digest('hex')}`);
    expect(await page.locator('.upload-entry').count()).toBe(0);
  });

  it('removing the component drops its entries; shown again, it starts empty', async () => {
    await open('/components/uploads');
    const ref = await page.getAttribute('input[type=file]', 'id');
    await drop(['kept.png']);
    expect(await page.locator('.upload-entry').allTextContents()).toEqual(['kept.png']);
    await page.click('#toggle');
    await settled(page);
    await page.click('#toggle');
    await settled(page);
    expect(await page.locator('.upload-entry').count()).toBe(0);
    expect(await page.getAttribute('input[type=file]', 'id')).not.toBe(ref);
  });
});
