/**
 * Conformance with the official client: every diff the server sends while
 * these scripts run is merged by phoenix_live_view's own `Rendered` code, and
 * the HTML must equal the server's full render of its new state.
 */
import fc from 'fast-check';
import { createLiveView, html, repeat, type LiveStream } from 'inletjs';
import { mountLive, type LiveTestView } from 'inletjs/testing';
import { describe, expect, it } from 'vitest';
import { routes } from '../../examples/app.js';
import { conformanceObserver } from '../support/conformance.js';

async function mounted(path: string, r: Record<string, unknown> = routes): Promise<{ view: LiveTestView; done: () => Promise<number> }> {
  const obs = conformanceObserver();
  const view = await mountLive({ routes: r as never }, path, { onFrame: obs.onFrame });
  obs.attach(view);
  return {
    view,
    done: async () => {
      await obs.log.settle();
      expect(obs.log.mismatches).toEqual([]);
      return obs.log.checked;
    },
  };
}

describe('official client conformance', () => {
  it('counter clicks', async () => {
    const { view, done } = await mounted('/counter');
    for (const e of ['inc', 'inc', 'dec', 'reset', 'inc']) await view.click(e);
    expect(view.html()).toContain('<output id="count">1</output>');
    expect(await done()).toBe(6);
  });

  it('form validation, errors appearing and disappearing, submit with flash', async () => {
    const { view, done } = await mounted('/form');
    await view.change('validate', { 'user[name]': 'A', 'user[email]': '' }, { target: 'user[name]' });
    expect(view.html()).toContain('Name must be at least 2 characters.');
    await view.change('validate', { 'user[name]': 'Ada', 'user[email]': 'ada@x.io' }, { target: 'user[email]' });
    await view.submit('save', { 'user[name]': 'Ada', 'user[email]': 'ada@x.io' });
    expect(view.html()).toContain('Welcome, Ada!');
    await view.click('lv:clear-flash', { key: 'info' });
    expect(view.html()).not.toContain('Welcome, Ada!');
    await done();
  });

  it('1,000-row keyed list: bump, bump every 10th, reverse, prepend, remove', async () => {
    const { view, done } = await mounted('/rows');
    for (const e of ['bump', 'bump-every-10th', 'reverse', 'prepend', 'remove-first', 'remove-first', 'bump', 'reverse']) await view.click(e, { index: '0' });
    expect(await done()).toBe(9);
  });

  it('stateful components: targeted events, add, rename, remove', async () => {
    const { view, done } = await mounted('/components');
    await view.click('like', {}, 1);
    await view.click('like', {}, 2);
    await view.click('like', {}, 2);
    expect(view.html()).toMatch(/id="card-b">[\s\S]*?<span class="likes">2<\/span>/);
    await view.click('add');
    await view.click('rename', { id: 'a' });
    await view.click('remove', { id: 'b' });
    const destroyed = await view.push(view.topic, 'cids_will_destroy', { cids: [2] });
    expect(destroyed.status).toBe('ok');
    const gone = await view.push(view.topic, 'cids_destroyed', { cids: [2] });
    expect(gone.response).toEqual({ cids: [2] });
    await view.click('add');
    expect(await done()).toBeGreaterThanOrEqual(7);
  });

  it('streams: inserts, moves, deletes, resets and a component stream', async () => {
    const { view, done } = await mounted('/streams');
    await view.click('update', { id: 'users-1' });
    await view.click('move-to-first', { id: 'users-2' });
    await view.click('admin-delete', { id: 'admins-1' });
    await view.click('add', { at: '0' });
    await view.click('reset-users-reorder');
    await view.click('reset-users');
    await view.click('append-users');
    await view.click('update', { id: 'c_users-1' }, 1);
    await view.click('reset', {}, 1);
    expect(view.streamIds('users')).toEqual(['users-4', 'users-3']);
    expect(view.streamIds({ ref: '1-0' })).toEqual([]);
    expect(await done()).toBe(10);
  });

  it('streams: components as items with nested streams, limits, inserts at an index', async () => {
    const nested = await mounted('/streams/components');
    await nested.view.click('reorder', {}, 1);
    await nested.view.click('reorder');
    expect(nested.view.streamIds('items')).toEqual(['items-e', 'items-a', 'items-f', 'items-g']);
    expect(nested.view.streamIds({ ref: '1-0' })).toEqual(['nested-items-a-e', 'nested-items-a-a', 'nested-items-a-f', 'nested-items-a-g']);
    await nested.done();
    const limit = await mounted('/streams/limit');
    await limit.view.click('insert-10');
    await limit.view.submit('configure', { at: '1', limit: '5' });
    await limit.view.click('insert-1');
    expect(limit.view.streamIds('items')).toEqual(['items-1', 'items-11', 'items-10', 'items-9', 'items-8']);
    await limit.done();
    const reset = await mounted('/streams/reset');
    for (const e of ['bulk-insert', 'delete-insert-existing-at-one', 'existing-update-only', 'new-update-only', 'filter']) await reset.view.click(e);
    expect(reset.view.streamIds('items')).toEqual(['items-b', 'items-c', 'items-d']);
    await reset.done();
  });

  it('streams inside a keyed comprehension: moves of the outer entries, inserts into the inner streams', async () => {
    type Item = { id: number };
    const Groups = createLiveView<{ order: string[]; streams: Record<'a' | 'b', LiveStream<Item>> }>({
      mount: (s) => {
        s.assign({ order: ['a', 'b'] });
        s.stream('a', [{ id: 1 }]);
        s.stream('b', [{ id: 2 }]);
      },
      handleEvent: (e, s) => {
        if (e.type === 'swap') s.assign({ order: [...s.assigns.order].reverse() });
        if (e.type === 'add') s.streamInsert(String(e.to) as 'a' | 'b', { id: Number(e.id) }, { at: 0 });
      },
      render: ({ order, streams }) =>
        html`<main>${repeat(
          order,
          (g) => g,
          (g) => html`<ul id="g-${g}" phx-update="stream">${streams[g as 'a' | 'b'].map((i, id) => html`<li id="${id}">${i.id}</li>`)}</ul>`,
        )}</main>`,
    });
    const { view, done } = await mounted('/', { '/': Groups });
    await view.click('add', { to: 'b', id: '3' });
    await view.click('swap');
    await view.click('add', { to: 'a', id: '4' });
    await view.click('swap');
    expect(view.streamIds('a')).toEqual(['a-4', 'a-1']);
    expect(view.streamIds('b')).toEqual(['b-3', 'b-2']);
    expect(view.html()).toBe('<main><ul id="g-a" phx-update="stream"><li id="a-4">4</li><li id="a-1">1</li></ul><ul id="g-b" phx-update="stream"><li id="b-3">3</li><li id="b-2">2</li></ul></main>');
    expect(await done()).toBe(5);
  });

  it('random list operations on nested, keyed and unkeyed templates (property)', async () => {
    type Item = { id: number; v: number; flag: boolean };
    const item = (i: Item) =>
      html`<li data-id="${i.id}">${i.v}${i.flag ? html`<b>${i.v * 2}</b>` : html`<i class="${i.id}">-</i>`}${i.v % 3 === 0 ? [html`<u>${i.id}</u>`, 'x'] : ''}</li>`;
    const Prop = createLiveView<{ items: Item[]; keyed: boolean; title: string }>({
      mount: (s) => s.assign({ items: [], keyed: true, title: 'T' }),
      handleEvent: (e, s) => s.assign(JSON.parse(String(e.state)) as never),
      render: ({ items, keyed, title }) =>
        html`<section><h2>${title}</h2>${keyed ? html`<ul>${repeat(items, (i) => i.id, item)}</ul>` : html`<ol>${items.map(item)}</ol>`}<p>${items.length}</p></section>`,
    });
    const arbItems = fc.uniqueArray(fc.record({ id: fc.integer({ min: 0, max: 30 }), v: fc.integer({ min: 0, max: 9 }), flag: fc.boolean() }), {
      selector: (i) => i.id,
      maxLength: 12,
    });
    const arbState = fc.record({ items: arbItems, keyed: fc.boolean(), title: fc.constantFrom('T', 'U', '<&>') });
    await fc.assert(
      fc.asyncProperty(fc.array(arbState, { minLength: 1, maxLength: 8 }), async (states) => {
        const { view, done } = await mounted('/', { '/': Prop });
        for (const st of states) await view.click('set', { state: JSON.stringify(st) });
        await done();
        await view.leave();
      }),
      { numRuns: 60 },
    );
  });
});
