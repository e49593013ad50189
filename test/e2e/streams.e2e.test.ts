/**
 * Streams in headless Chromium with the official client: what the user sees
 * in phx-update="stream" containers after inserts, updates, deletes, resets,
 * limits, component streams, nested streams, live patches and reconnects.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createLiveView, html, repeat, type LiveStream } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { mountLive } from 'inletjs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser, startExample, type PageErrors } from '../support/browser.js';

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

interface Item {
  id: string;
  text: string;
}

/** The children of `#parent`: id and first text node (the item's name, without its buttons). */
const children = (parent: string) => (): Promise<Item[]> =>
  page.evaluate(
    `Array.from(document.querySelectorAll(${JSON.stringify(`#${parent} > *`)})).map((el) => ({ id: el.id, text: (el.childNodes[0]?.nodeValue ?? '').trim() }))`,
  ) as Promise<Item[]>;

/** `ul > li` items as the user reads them. */
const listItems = (): Promise<Item[]> =>
  page.evaluate(`Array.from(document.querySelectorAll('ul > li')).map((el) => ({ id: el.id, text: el.innerText }))`) as Promise<Item[]>;

const item = (id: string, text: string): Item => ({ id, text });
const letters = (prefix: string, s: string) => [...s].map((c) => item(`${prefix}-${c.toLowerCase()}`, c));
const button = (name: string, within?: string) => (within ? page.locator(within) : page).getByRole('button', { name, exact: true });

/** Clicks and waits for the server's reply to be applied (the client drops its loading class). */
async function click(locator: ReturnType<typeof button>): Promise<void> {
  await locator.click();
  await page.waitForFunction(`!document.querySelector('.phx-click-loading, .phx-submit-loading')`);
}

describe('a view with two streams and a component stream', () => {
  const users = children('users');
  const admins = children('admins');
  const cUsers = children('c_users');

  beforeEach(async () => {
    await gotoLive(page, `${server.url}/streams`);
  });

  it('renders each stream in its container', async () => {
    expect(await users()).toEqual([item('users-1', 'chris'), item('users-2', 'callan'), item('users-empty', 'No users.')]);
    expect(await cUsers()).toEqual([item('c_users-1', 'chris'), item('c_users-2', 'callan')]);
    expect(await admins()).toEqual([item('admins-1', 'chris-admin'), item('admins-2', 'callan-admin')]);
    await expect.poll(() => page.isVisible('#users-empty')).toBe(false);
  });

  it('updates items in place and deletes them, leaving the other streams alone', async () => {
    await click(button('update', '#users-1'));
    await expect.poll(users).toEqual([item('users-1', 'updated'), item('users-2', 'callan'), item('users-empty', 'No users.')]);
    await click(button('update', '#users-2'));
    await expect.poll(users).toEqual([item('users-1', 'updated'), item('users-2', 'updated'), item('users-empty', 'No users.')]);
    expect(await cUsers()).toEqual([item('c_users-1', 'chris'), item('c_users-2', 'callan')]);
    expect(await admins()).toEqual([item('admins-1', 'chris-admin'), item('admins-2', 'callan-admin')]);
    await click(button('delete', '#users-1'));
    await expect.poll(users).toEqual([item('users-2', 'updated'), item('users-empty', 'No users.')]);
  });

  it('moves an item by deleting and re-inserting it at 0 or -1', async () => {
    await click(button('make first', '#users-2'));
    await expect.poll(users).toEqual([item('users-2', 'updated'), item('users-1', 'chris'), item('users-empty', 'No users.')]);
    await click(button('make last', '#users-2'));
    await expect.poll(users).toEqual([item('users-1', 'chris'), item('users-2', 'updated'), item('users-empty', 'No users.')]);
    await click(button('make first', '#admins-2'));
    await expect.poll(admins).toEqual([item('admins-2', 'updated'), item('admins-1', 'chris-admin')]);
  });

  it('a component updates, deletes and reorders its own stream', async () => {
    await click(button('update', '#c_users-1'));
    await expect.poll(cUsers).toEqual([item('c_users-1', 'updated'), item('c_users-2', 'callan')]);
    await click(button('make first', '#c_users-2'));
    await expect.poll(cUsers).toEqual([item('c_users-2', 'updated'), item('c_users-1', 'updated')]);
    await click(button('delete', '#c_users-1'));
    await expect.poll(cUsers).toEqual([item('c_users-2', 'updated')]);
    expect((await users()).map((u) => u.id)).toEqual(['users-1', 'users-2', 'users-empty']);
    await click(button('Reset component users'));
    await expect.poll(cUsers).toEqual([]);
  });

  it('a reset empties the stream and keeps the container’s own children', async () => {
    await click(button('Reset users'));
    await expect.poll(users).toEqual([item('users-empty', 'No users.')]);
    await expect.poll(() => page.isVisible('#users-empty')).toBe(true);
    // Appended items go before the non-stream child.
    await click(button('Append users'));
    await expect.poll(users).toEqual([item('users-4', 'foo'), item('users-3', 'last_user'), item('users-empty', 'No users.')]);
    await expect.poll(() => page.isVisible('#users-empty')).toBe(false);
  });

  it('a reset with items reorders them and re-renders kept ones', async () => {
    expect(await page.getAttribute('#users-1', 'data-count')).toBe('0');
    await click(button('Reorder users'));
    await expect.poll(users).toEqual([item('users-3', 'peter'), item('users-1', 'chris'), item('users-4', 'mona'), item('users-empty', 'No users.')]);
    for (const id of ['users-1', 'users-3', 'users-4']) expect(await page.getAttribute(`#${id}`, 'data-count')).toBe('1');
    // A stream untouched by the event keeps its items as they were rendered.
    expect(await page.getAttribute('#admins-1', 'data-count')).toBe('0');
  });

  it('prepends and appends new items', async () => {
    await click(button('Prepend a user'));
    await click(button('Add a user'));
    await expect.poll(async () => (await users()).map((u) => u.id)).toEqual(['users-10', 'users-1', 'users-2', 'users-11', 'users-empty']);
  });

  it('keeps what JS commands did to items across a reconnect', async () => {
    await page.locator('#users-1').getByRole('button', { name: 'JS Hide' }).click();
    await expect.poll(() => page.isVisible('#users-1')).toBe(false);
    await page.evaluate('new Promise((resolve) => window.liveSocket.disconnect(resolve))');
    await page.evaluate('window.liveSocket.connect()');
    await page.waitForSelector('[data-phx-main].phx-connected');
    expect(await users()).toEqual([item('users-1', 'chris'), item('users-2', 'callan'), item('users-empty', 'No users.')]);
    expect(await page.isVisible('#users-1')).toBe(false);
  });
});

describe('reset, reorder and insert at an index', () => {
  const abcd = letters('items', 'ABCD');

  it('filters and resets', async () => {
    await gotoLive(page, `${server.url}/streams/reset`);
    expect(await listItems()).toEqual(abcd);
    await click(button('Filter'));
    await expect.poll(listItems).toEqual(letters('items', 'BCD'));
    await click(button('Reset'));
    await expect.poll(listItems).toEqual(abcd);
  });

  it('reorders with a reset', async () => {
    await gotoLive(page, `${server.url}/streams/reset`);
    await click(button('Reorder'));
    await expect.poll(listItems).toEqual(letters('items', 'BACD'));
  });

  it('prepends and appends after a filter, and a reset removes them again', async () => {
    await gotoLive(page, `${server.url}/streams/reset`);
    await click(button('Filter'));
    await click(button('Prepend'));
    await expect.poll(async () => (await listItems()).slice(1)).toEqual(letters('items', 'BCD'));
    expect((await listItems())[0]?.id).toMatch(/^items-a\d+$/);
    await click(button('Reset'));
    await expect.poll(listItems).toEqual(abcd);
    await click(button('Append'));
    await expect.poll(async () => (await listItems()).length).toBe(5);
    expect((await listItems()).slice(0, 4)).toEqual(abcd);
    expect((await listItems())[4]?.id).toMatch(/^items-a\d+$/);
  });

  it('bulk-inserts at an index', async () => {
    await gotoLive(page, `${server.url}/streams/reset`);
    await click(button('Bulk insert'));
    await expect.poll(listItems).toEqual(letters('items', 'AEFGBCD'));
  });

  it('inserting an item already shown updates it in place; delete + insert moves it', async () => {
    await gotoLive(page, `${server.url}/streams/reset`);
    for (const name of ['Prepend C', 'Append C', 'Insert C at 1']) {
      await click(button(name));
      expect(await listItems()).toEqual(abcd);
    }
    await click(button('Insert at 1'));
    await expect.poll(async () => (await listItems()).length).toBe(5);
    const after = await listItems();
    expect(after[1]?.id).toMatch(/^items-a\d+$/);
    expect([after[0], ...after.slice(2)]).toEqual(abcd);
    await click(button('Reset'));
    await expect.poll(listItems).toEqual(abcd);
    await click(button('Delete C and insert at 1'));
    await expect.poll(listItems).toEqual(letters('items', 'ACBD'));
  });

  it('updateOnly updates an existing item and never adds a new one', async () => {
    await gotoLive(page, `${server.url}/streams/reset`);
    await click(button('Add E (update only)'));
    expect(await listItems()).toEqual(abcd);
    await click(button('Update C (update only)'));
    await expect.poll(async () => (await listItems())[2]?.text).toMatch(/^C \d+$/);
    expect((await listItems()).map((i) => i.id)).toEqual(abcd.map((i) => i.id));
  });

  it('removed items with phx-remove come back on reset', async () => {
    await gotoLive(page, `${server.url}/streams/reset?phx-remove`);
    await click(button('Filter'));
    await expect.poll(listItems).toEqual(letters('items', 'BCD'));
    await click(button('Reset'));
    await expect.poll(listItems).toEqual(abcd);
  });
});

describe('limits', () => {
  const ids = (...ns: number[]) => ns.map((n) => item(`items-${n}`, String(n)));
  const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

  async function recreate(at: number, limit: number): Promise<void> {
    await page.fill("input[name='at']", String(at));
    await page.fill("input[name='limit']", String(limit));
    await click(button('recreate stream'));
    await expect.poll(() => page.textContent('#configured')).toBe(`configured with at: ${at}, limit: ${limit}`);
  }

  it('applies the limit when the browser joins, not in the HTML render', async () => {
    const html = await (await fetch(`${server.url}/streams/limit`)).text();
    for (let i = 1; i <= 10; i++) expect(html).toContain(`id="items-${i}"`);
    await gotoLive(page, `${server.url}/streams/limit`);
    await expect.poll(listItems).toEqual(ids(...range(6, 10)));
  });

  it('appending with a negative limit drops items at the front', async () => {
    await gotoLive(page, `${server.url}/streams/limit`);
    expect(await page.inputValue("input[name='at']")).toBe('-1');
    expect(await page.inputValue("input[name='limit']")).toBe('-5');
    await click(button('add 1'));
    await expect.poll(listItems).toEqual(ids(...range(7, 11)));
    await click(button('add 10'));
    await expect.poll(listItems).toEqual(ids(...range(17, 21)));
  });

  it('prepending with a positive limit drops items at the back', async () => {
    await gotoLive(page, `${server.url}/streams/limit`);
    await recreate(0, 5);
    await expect.poll(listItems).toEqual(ids(...range(10, 6)));
    await click(button('add 1'));
    await expect.poll(listItems).toEqual(ids(...range(11, 7)));
    await click(button('add 10'));
    await expect.poll(listItems).toEqual(ids(...range(21, 17)));
  });

  it('appending past a positive limit (or prepending past a negative one) adds nothing', async () => {
    await gotoLive(page, `${server.url}/streams/limit`);
    for (const [at, limit] of [
      [-1, 5],
      [0, -5],
    ] as const) {
      await recreate(at, limit);
      await click(button('clear'));
      await expect.poll(listItems).toEqual([]);
      const expected: Item[] = [];
      for (let i = 1; i <= 5; i++) {
        await click(button('add 1'));
        if (at === -1) expected.push(...ids(i));
        else expected.unshift(...ids(i));
        await expect.poll(listItems).toEqual(expected);
      }
      await click(button('add 1'));
      await click(button('add 10'));
      expect(await listItems()).toEqual(expected);
    }
  });

  it('inserts at an arbitrary index within the limit', async () => {
    await gotoLive(page, `${server.url}/streams/limit`);
    await recreate(1, 5);
    await expect.poll(listItems).toEqual(ids(1, 10, 9, 8, 7));
    await click(button('add 10'));
    await expect.poll(listItems).toEqual(ids(1, 20, 19, 18, 17));
    await recreate(1, -5);
    await expect.poll(listItems).toEqual(ids(10, 5, 4, 3, 2));
    await click(button('add 10'));
    await expect.poll(listItems).toEqual(ids(20, 5, 4, 3, 2));
  });

  it('does not accumulate empty text nodes', async () => {
    await gotoLive(page, `${server.url}/streams/limit`);
    const nodes = () => page.evaluate(`document.getElementById('items').childNodes.length`);
    const before = await nodes();
    for (let i = 0; i < 10; i++) await click(button('add 10'));
    expect(await nodes()).toBe(before);
  });
});

describe('components as stream items, with streams of their own', () => {
  const nested = (id: string) => (): Promise<Item[]> =>
    page.evaluate(`Array.from(document.querySelectorAll('#items-${id} div[phx-update=stream] > *')).map((el) => ({ id: el.id, text: el.innerText }))`) as Promise<Item[]>;
  const nestedOf = (id: string, s: string) => [...s].map((c) => item(`nested-items-${id}-${c.toLowerCase()}`, `N-${c}`));

  it('reorders a nested stream alone, then the parent stream keeps it', async () => {
    // The HTML render streams N-E to N-H, the live mount N-A to N-D: only the live ones may stay.
    const dead = await (await fetch(`${server.url}/streams/components`)).text();
    expect(dead).toContain('id="nested-items-a-h"');
    await gotoLive(page, `${server.url}/streams/components`);
    expect((await listItems()).map((i) => i.id)).toEqual(['items-a', 'items-b', 'items-c', 'items-d']);
    for (const id of 'abcd') expect(await nested(id)()).toEqual(nestedOf(id, 'ABCD'));

    await click(page.locator('#items-a button'));
    await expect.poll(nested('a')).toEqual(nestedOf('a', 'EAFG'));
    for (const id of 'bcd') expect(await nested(id)()).toEqual(nestedOf(id, 'ABCD'));

    await click(page.locator('#parent-reorder'));
    await expect.poll(async () => (await listItems()).map((i) => i.id)).toEqual(['items-e', 'items-a', 'items-f', 'items-g']);
    for (const id of 'efg') expect(await nested(id)()).toEqual(nestedOf(id, 'ABCD'));
    // The kept component's nested stream is still in the order it had.
    expect(await nested('a')()).toEqual(nestedOf('a', 'EAFG'));
  });
});

describe('streams and navigation', () => {
  it('a reset in handleParams replaces the items on live patch', async () => {
    await gotoLive(page, `${server.url}/streams/healthy/fruits`);
    const names = () => page.textContent('#items');
    expect(await page.textContent('h1')).toBe('Fruits');
    await page.click('a:text("Switch")');
    await expect.poll(() => page.textContent('h1')).toBe('Veggies');
    expect(new URL(page.url()).pathname).toBe('/streams/healthy/veggies');
    await expect.poll(names).toMatch(/Carrots[\s\S]*Tomatoes/);
    expect(await names()).not.toMatch(/Apples|Oranges/);
    await page.click('a:text("Switch")');
    await expect.poll(() => page.textContent('h1')).toBe('Fruits');
    await expect.poll(names).toMatch(/Apples[\s\S]*Oranges/);
    expect(await names()).not.toMatch(/Carrots|Tomatoes/);
  });

  it('a stream inside a comprehension, filled after mount', async () => {
    await gotoLive(page, `${server.url}/streams/inside-for`);
    await expect.poll(listItems).toEqual(letters('items', 'ABCD'));
  });
});

type Op =
  | { op: 'insert'; id: number; at: number; limit: number | null; updateOnly: boolean }
  | { op: 'delete'; id: number }
  | { op: 'reset'; ids: number[] };

/** A stream driven by lists of operations, to compare the browser with the in-process test client. */
const Fuzz = createLiveView<{ step: number; streams: { items: LiveStream<{ id: number; step: number }> } }>({
  mount: (socket) => {
    socket.assign({ step: 0 });
    socket.stream('items', []);
  },
  handleEvent: (event, socket) => {
    for (const op of JSON.parse(String(event.ops)) as Op[]) {
      if (op.op === 'insert')
        socket.streamInsert('items', { id: op.id, step: socket.assigns.step }, { at: op.at, limit: op.limit ?? undefined, updateOnly: op.updateOnly });
      else if (op.op === 'delete') socket.streamDeleteByDomId('items', `items-${op.id}`);
      else socket.stream('items', op.ids.map((id) => ({ id, step: socket.assigns.step })), { reset: true });
    }
    socket.assign({ step: socket.assigns.step + 1 });
  },
  render: ({ step, streams }) =>
    html`<p id="step">${step}</p><ul id="fuzz" phx-update="stream">${streams.items.map((it, id) => html`<li id="${id}">${it.id}@${it.step}</li>`)}</ul>`,
});

/** Streams inside the entries of a keyed comprehension whose entries move. */
const Groups = createLiveView<{ order: string[]; step: number; streams: Record<'a' | 'b' | 'c', LiveStream<{ id: number }>> }>({
  mount: (s) => {
    s.assign({ order: ['a', 'b', 'c'], step: 0 });
    for (const g of ['a', 'b', 'c'] as const) s.stream(g, [{ id: 1 }]);
  },
  handleEvent: (e, s) => {
    if (e.type === 'rotate') s.assign({ order: [...s.assigns.order.slice(1), ...s.assigns.order.slice(0, 1)] });
    if (e.type === 'add') s.streamInsert(String(e.to) as 'a', { id: Number(e.id) }, { at: Number(e.at) });
    s.assign({ step: s.assigns.step + 1 });
  },
  render: ({ order, step, streams }) =>
    html`<p id="step">${step}</p><main id="groups">${repeat(
      order,
      (g) => g,
      (g) => html`<ul id="g-${g}" phx-update="stream">${streams[g as 'a'].map((i, id) => html`<li id="${id}">${i.id}</li>`)}</ul>`,
    )}</main>`,
});

function randomOps(seed: number, steps: number): Op[][] {
  // mulberry32: small, seeded, good enough low bits.
  let x = seed >>> 0;
  const rnd = (n: number) => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
  const pick = <T>(xs: readonly T[]) => xs[rnd(xs.length)] as T;
  return Array.from({ length: steps }, () =>
    Array.from({ length: 1 + rnd(3) }, (): Op => {
      const r = rnd(10);
      if (r < 6) return { op: 'insert', id: rnd(12), at: pick([-1, -1, 0, 1, 3, 20]), limit: pick([null, null, null, 4, -4, 8, -8]), updateOnly: rnd(8) === 0 };
      if (r < 9) return { op: 'delete', id: rnd(12) };
      return { op: 'reset', ids: Array.from({ length: rnd(5) }, () => rnd(12)) };
    }),
  );
}

describe('random stream operations', () => {
  it('the browser shows what the in-process test client models', async () => {
    const { exampleOptions } = (await import(new URL('../../examples/app.js', import.meta.url).href)) as { exampleOptions: () => Record<string, unknown> };
    const fuzzServer = createServer({ ...exampleOptions(), routes: { '/fuzz': Fuzz, '/groups': Groups } } as never);
    await fuzzServer.listen(0, '127.0.0.1');
    try {
      for (const seed of [7, 1234, 99]) {
        const model = await mountLive({ routes: { '/fuzz': Fuzz } }, '/fuzz');
        await gotoLive(page, `${fuzzServer.url}/fuzz`);
        const ids = () => page.evaluate(`Array.from(document.querySelectorAll('#fuzz > li')).map((li) => li.id + ':' + li.textContent)`) as Promise<string[]>;
        for (const [step, ops] of randomOps(seed, 40).entries()) {
          const value = { ops: JSON.stringify(ops) };
          await model.click('ops', value);
          await page.evaluate(`window.liveSocket.main.pushEvent('click', document.body, null, 'ops', ${JSON.stringify(value)})`);
          await expect.poll(() => page.textContent('#step')).toBe(String(step + 1));
          const expected = [...model.html().matchAll(/<li id="([^"]*)">([^<]*)<\/li>/g)].map((m) => `${m[1]}:${m[2]}`);
          expect(expected.map((e) => e.split(':')[0])).toEqual(model.streamIds('items'));
          expect({ step, ops, ids: await ids() }).toEqual({ step, ops, ids: expected });
        }
        await model.leave();
      }
      // Streams inside a keyed comprehension whose entries move.
      const model = await mountLive({ routes: { '/groups': Groups } }, '/groups');
      await gotoLive(page, `${fuzzServer.url}/groups`);
      const events: [string, Record<string, string>][] = [
        ['add', { to: 'b', id: '2', at: '0' }],
        ['rotate', {}],
        ['add', { to: 'a', id: '3', at: '-1' }],
        ['rotate', {}],
        ['add', { to: 'c', id: '4', at: '1' }],
        ['rotate', {}],
      ];
      for (const [step, [event, value]] of events.entries()) {
        await model.click(event, value);
        await page.evaluate(`window.liveSocket.main.pushEvent('click', document.body, null, ${JSON.stringify(event)}, ${JSON.stringify(value)})`);
        await expect.poll(() => page.textContent('#step')).toBe(String(step + 1));
        const expected = /<main id="groups">(.*)<\/main>/.exec(model.html())?.[1];
        expect(await page.evaluate(`document.getElementById('groups').innerHTML.replace(/ data-phx-stream="[^"]*"/g, '')`)).toBe(expected);
      }
      expect(model.streamIds('c')).toEqual(['c-1', 'c-4']);
      await model.leave();
    } finally {
      await fuzzServer.close();
    }
  });
});

describe('1,000 rows as a stream', () => {
  const rowIds = () => page.evaluate(`Array.from(document.querySelectorAll('#rows-body tr')).map((tr) => tr.id)`) as Promise<string[]>;

  it('patches only what each event names', async () => {
    await gotoLive(page, `${server.url}/rows-stream`);
    expect((await rowIds()).length).toBe(1000);
    await click(button('Bump row 1'));
    await expect.poll(() => page.textContent('#row-1 em')).toBe('updated ×1');
    await click(button('Prepend'));
    await expect.poll(async () => (await rowIds()).slice(0, 2)).toEqual(['row-1001', 'row-1']);
    await click(button('Remove first'));
    await expect.poll(async () => (await rowIds())[0]).toBe('row-1');
    await click(button('Bump every 10th'));
    await expect.poll(() => page.locator('#rows-body em').count()).toBe(100);
    expect(await page.textContent('#row-1 em')).toBe('updated ×2');
    await click(button('Reverse'));
    await expect.poll(async () => (await rowIds())[0]).toBe('row-1000');
    const ids = await rowIds();
    expect(ids.length).toBe(1000);
    expect(ids[999]).toBe('row-1');
    expect(await page.textContent('#row-count')).toBe('1000');
  });
});
