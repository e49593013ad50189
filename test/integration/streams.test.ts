/**
 * Streams through the real channel code (in-process test client): the server
 * forgets stream items once they are rendered, memory stays flat while many
 * items pass through, and misuse gives clear errors without hurting the view.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLiveComponent, createLiveView, html, liveComponent, type LiveStream } from 'inletjs';
import { mountLive } from 'inletjs/testing';
import { describe, expect, it } from 'vitest';

type Row = { id: number; body: string };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const Feed = createLiveView<{ next: number; streams: { rows: LiveStream<Row> } }>({
  mount: (socket) => {
    socket.assign({ next: 0 });
    socket.stream('rows', []);
  },
  handleEvent: (event, socket) => {
    const n = Number(event.n ?? 1);
    const { next } = socket.assigns;
    const rows: Row[] = Array.from({ length: n }, (_, i) => ({ id: next + i, body: `${next + i}:`.padEnd(1024, 'x') }));
    if (event.type === 'add') socket.stream('rows', rows, { at: 0, limit: 50 });
    if (event.type === 'bad') socket.streamInsert('nope' as 'rows', rows[0] as Row);
    socket.assign({ next: next + n });
  },
  render: ({ next, streams }) =>
    html`<p id="next">${next}</p><ul id="rows" phx-update="stream">${streams.rows.map((r, id) => html`<li id="${id}">${r.body}</li>`)}</ul>`,
});

type ChannelLike = { instance: { currentHtml(): string; socket: { assigns: { streams: Record<string, LiveStream> } } } };

describe('stream items are pruned after render', () => {
  it('the server keeps neither pending items nor rendered entries', async () => {
    const view = await mountLive({ routes: { '/': Feed } }, '/');
    await view.click('add', { n: 3 });
    const channel = view.connection.channels.get(view.topic) as unknown as ChannelLike;
    expect(channel.instance.socket.assigns.streams.rows?.size).toBe(0);
    expect(channel.instance.currentHtml()).toBe('<p id="next">3</p><ul id="rows" phx-update="stream"></ul>');
    // The client has them.
    expect(view.streamIds('rows')).toEqual(['rows-2', 'rows-1', 'rows-0']);
    expect(view.html()).toContain('<li id="rows-2">2:xx');
    await view.leave();
  });

  it('memory stays flat while 20,000 items of 1 KiB pass through one view', async () => {
    const view = await mountLive({ routes: { '/': Feed } }, '/');
    await view.click('add', { n: 100 });
    view.socket.sent.length = 0;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200; i++) {
      await view.click('add', { n: 100 });
      view.socket.sent.length = 0; // the test socket's own frame log, not the server's memory
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // 20 MiB went through; the test client keeps the 50 the limit leaves.
    expect(view.streamIds('rows')).toHaveLength(50);
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    await view.leave();
  });

  it('misuse throws a clear error and ends only that view', async () => {
    const view = await mountLive({ routes: { '/': Feed } }, '/');
    const crashed = view.socket.next((f) => f[3] === 'phx_error');
    view.connection.receive(JSON.stringify([view.joinRef, '90', view.topic, 'event', { type: 'click', event: 'bad', value: {} }]), false);
    expect((await crashed)[4]).toEqual({ reason: 'channel_crash' });
    const other = await mountLive({ routes: { '/': Feed } }, '/');
    await other.click('add', { n: 1 });
    expect(other.streamIds('rows')).toEqual(['rows-0']);
  });
});

const Counter = createLiveComponent<{ items: LiveStream<{ id: number }>; streams: { items: LiveStream<{ id: number }> } }>({
  mount: (socket) => socket.stream('items', [{ id: 1 }]),
  handleEvent: (_e, socket) => socket.streamInsert('items', { id: Date.now() % 100000 }, { at: 0 }),
  render: ({ streams }, { myself }) =>
    html`<div id="c"><ul id="citems" phx-update="stream">${streams.items.map((i, id) => html`<li id="${id}">${i.id}</li>`)}</ul><button phx-click="x" phx-target="${myself}">x</button></div>`,
});

describe('component streams', () => {
  it('refs carry the cid and the component keeps nothing after render', async () => {
    const Host = createLiveView({ render: () => html`<main>${liveComponent(Counter, { id: 'c' })}</main>` });
    const frames: unknown[] = [];
    const view = await mountLive({ routes: { '/': Host } }, '/', { onFrame: (f) => frames.push(f) });
    expect(JSON.stringify(frames)).toContain('"stream":["1-0",[["items-1",-1,null,false]],[]]');
    await view.click('x', {}, 1);
    expect(view.streamIds({ ref: '1-0' })).toHaveLength(2);
    expect(view.html()).toMatch(/<ul id="citems" phx-update="stream"><li id="items-\d+">\d+<\/li><li id="items-1">1<\/li><\/ul>/);
    await view.leave();
  });
});

describe('streams handed to components', () => {
  type Item = { id: number };
  const List = createLiveComponent<{ items: LiveStream<Item> }>({
    render: ({ id, items }: { id?: string; items: LiveStream<Item> }) =>
      html`<ul id="${id}" phx-update="stream">${items.map((i, domId) => html`<li id="${domId}">${i.id}</li>`)}</ul>`,
  });
  const Wrapper = createLiveComponent<{ streams: { inner: LiveStream<Item> } }>({
    mount: (socket) => socket.stream('inner', [{ id: 10 }]),
    handleEvent: (_e, socket) => socket.streamInsert('inner', { id: 11 }),
    render: ({ streams }, { myself }) =>
      html`<section id="wrap" data-myself="${myself}">${liveComponent(List, { id: 'inner-list', items: streams.inner })}</section>`,
  });
  const Host = createLiveView<{ streams: { outer: LiveStream<Item> } }>({
    mount: (socket) => socket.stream('outer', [{ id: 1 }]),
    handleEvent: (_e, socket) => socket.streamInsert('outer', { id: 2 }, { at: 0 }),
    render: ({ streams }) => html`<main>${liveComponent(List, { id: 'outer-list', items: streams.outer })}${liveComponent(Wrapper, { id: 'w' })}</main>`,
  });

  it('a view’s or a component’s stream rendered by a component it places', async () => {
    const view = await mountLive({ routes: { '/': Host } }, '/');
    expect(view.html()).toBe(
      '<main><ul id="outer-list" phx-update="stream"><li id="outer-1">1</li></ul><section id="wrap" data-myself="2"><ul id="inner-list" phx-update="stream"><li id="inner-10">10</li></ul></section></main>',
    );
    await view.click('add');
    await view.click('add', {}, 2);
    expect(view.streamIds({ ref: '0' })).toEqual(['outer-2', 'outer-1']);
    expect(view.streamIds({ ref: '2-0' })).toEqual(['inner-10', 'inner-11']);
    await view.leave();
  });
});
