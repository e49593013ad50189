import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createLiveComponent, createLiveView, liveComponent } from './view.js';
import { html } from '../render/template.js';
import { live_file_input } from '../uploads/helpers.js';
import { mountLive } from '../testing/index.js';
import type { ComponentSocket, LiveComponent } from './view.js';

const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('sendUpdate', () => {
  const Counter = createLiveComponent<{ counter: number; id: string }>({
    mount: (s) => s.assign({ counter: 0 }),
    render: ({ id, counter }) => html`<div id="${id}">${counter}</div>`,
  });
  const View = createLiveView<{ ids: string[] }>({
    mount: (s) => s.assign({ ids: ['a', 'b'] }),
    handleEvent: (e, s) => {
      if (e.type === 'bump') s.sendUpdate(Counter, { id: 'b', counter: 10 });
      if (e.type === 'later') s.sendUpdateAfter(Counter, { id: 'a', counter: 5 }, 30);
      if (e.type === 'missing') s.sendUpdate(Counter, { id: 'zzz', counter: 1 });
      if (e.type === 'by-cid') s.sendUpdate(1, { counter: 7 });
    },
    render: ({ ids }) => html`<main>${ids.map((id) => html`<p>${liveComponent(Counter, { id })}</p>`)}</main>`,
  });

  it('updates the component by definition and id, as its own diff after the reply', async () => {
    const view = await mountLive({ routes: { '/': View } }, '/');
    const reply = await view.click('bump');
    expect(reply).toEqual({});
    const pushed = await view.socket.next((f) => f[3] === 'diff');
    expect(pushed[4]).toEqual({ c: { 2: { 1: '10' } } });
    expect(view.html()).toContain('<div id="b">10</div>');
  });

  it('by cid, and after a delay', async () => {
    const view = await mountLive({ routes: { '/': View } }, '/');
    await view.click('by-cid');
    await until(() => view.html().includes('>7</div>'));
    await view.click('later');
    expect(view.html()).toContain('<div id="a">7</div>');
    await until(() => view.html().includes('<div id="a">5</div>'));
  });

  it('a component that is not there is skipped', async () => {
    const view = await mountLive({ routes: { '/': View } }, '/');
    await view.click('missing');
    await view.click('bump');
    await until(() => view.html().includes('>10</div>'));
    expect(view.serverErrors).toEqual([]);
  });

  it('a component updates itself from update() (Phoenix issue 3169: a chain of updates)', async () => {
    const Loader = createLiveComponent<{ record?: string; selected?: string; action?: string }, { id: string; selected?: string; action?: string }>({
      update: (props, s) => {
        if (props.action) return s.assign({ record: `Record ${props.action}` });
        if (props.selected) {
          s.sendUpdate(Loader, { id: props.id, action: props.selected });
          return s.assign({ record: undefined });
        }
        return undefined;
      },
      render: ({ record }) => html`<div>${record ? html`<input value="${record}">` : 'loading'}</div>`,
    });
    const Home = createLiveView<{ selected?: string }>({
      mount: (s) => s.assign({ selected: undefined }),
      handleEvent: (e, s) => s.assign({ selected: String(e.name) }),
      render: ({ selected }) => html`<section>${liveComponent(Loader, { id: 'l', selected })}</section>`,
    });
    const view = await mountLive({ routes: { '/': Home } }, '/');
    await view.click('select', { name: 'a' });
    await until(() => view.html().includes('value="Record a"'));
    await view.click('select', { name: 'z' });
    await until(() => view.html().includes('value="Record z"'));
  });
});

describe('updateMany', () => {
  it('gets every instance placed in one render, in order, instead of update', async () => {
    const calls: string[][] = [];
    const Row = createLiveComponent<{ id: string; label: string }, { id: string }>({
      updateMany: (list) => {
        calls.push(list.map(([props]) => props.id));
        for (const [props, socket] of list) socket.assign({ id: props.id, label: `row ${props.id}` });
      },
      render: ({ id, label }) => html`<li id="${id}">${label}</li>`,
    });
    const View = createLiveView<{ n: number }>({
      mount: (s) => s.assign({ n: 3 }),
      handleEvent: (_e, s) => s.assign({ n: 4 }),
      render: ({ n }) => html`<ul>${Array.from({ length: n }, (_, i) => liveComponent(Row, { id: `r${i}` }))}</ul>`,
    });
    const view = await mountLive({ routes: { '/': View } }, '/');
    // The HTTP render and the join each render once.
    expect(calls).toEqual([
      ['r0', 'r1', 'r2'],
      ['r0', 'r1', 'r2'],
    ]);
    await view.click('more');
    // Only the new one: the others are placed with the same props (Phoenix's change tracking skips them).
    expect(calls.at(-1)).toEqual(['r3']);
    expect(view.html()).toContain('<li id="r3">row r3</li>');
  });
});

describe('destroy and revive', () => {
  const Leaf = createLiveComponent<{ count: number }>({
    mount: (s) => s.assign({ count: 0 }),
    handleEvent: (_e, s) => s.assign({ count: s.assigns.count + 1 }),
    render: ({ count }, { myself }) => html`<div id="leaf">count: <span id="leaf-count">${count}</span><button phx-target="${myself}">bump</button></div>`,
  });
  const Branch = createLiveComponent<{ tick: number }>({
    render: ({ tick }) => html`<div id="branch">tick: ${tick} ${liveComponent(Leaf, { id: 'leaf' })}</div>`,
  });
  const View = createLiveView<{ show: boolean; tick: number }>({
    mount: (s) => s.assign({ show: true, tick: 0 }),
    handleEvent: (e, s) => {
      if (e.type === 'tick') s.assign({ tick: s.assigns.tick + 1 });
      if (e.type === 'hide') s.assign({ show: false });
      if (e.type === 'show') s.assign({ show: true });
    },
    render: ({ show, tick }) => html`<main>${show ? html`<div id="wrapper">${liveComponent(Branch, { id: 'branch', tick })}</div>` : ''}</main>`,
  });

  it('a component used again between cids_will_destroy and cids_destroyed is revived with its whole subtree (Phoenix issue 4350)', async () => {
    const view = await mountLive({ routes: { '/': View } }, '/');
    await view.click('bump', {}, 2);
    await view.click('tick');
    await view.click('hide');
    await view.push(view.topic, 'cids_will_destroy', { cids: [1, 2] });
    const shown = await view.click('show');
    // The branch comes back whole, and so does the leaf it places.
    const c = (shown.diff as { c: Record<string, { s?: unknown }> }).c;
    expect(Object.keys(c).sort()).toEqual(['1', '2']);
    expect(c['1']?.s).toBeDefined();
    expect(c['2']?.s).toBeDefined();
    const destroyed = await view.push(view.topic, 'cids_destroyed', { cids: [1, 2] });
    expect(destroyed.response).toEqual({ cids: [] });
    const bumped = await view.click('bump', {}, 2);
    expect(JSON.stringify(bumped)).toContain('"2"');
    expect(view.html()).toContain('<span id="leaf-count">2</span>');
  });

  it('deleted components are forgotten; placing the id again mounts a new cid', async () => {
    const view = await mountLive({ routes: { '/': View } }, '/');
    await view.click('hide');
    await view.push(view.topic, 'cids_will_destroy', { cids: [1, 2] });
    expect((await view.push(view.topic, 'cids_destroyed', { cids: [1, 2] })).response).toEqual({ cids: [1, 2] });
    const shown = await view.click('show');
    expect(Object.keys((shown.diff as { c: object }).c).sort()).toEqual(['3', '4']);
  });

  it('an event for a removed component is answered with nothing and reaches no view handler', async () => {
    let viewEvents = 0;
    const Other = createLiveView({ handleEvent: () => void viewEvents++, render: () => html`<p>x</p>` });
    const view = await mountLive({ routes: { '/': Other } }, '/');
    expect(await view.click('bump', {}, 99)).toEqual({});
    expect(viewEvents).toBe(0);
  });

  it('placing one component twice in a render is refused', async () => {
    const Twice = createLiveView({ render: () => html`<p>${liveComponent(Leaf, { id: 'x' })}${liveComponent(Leaf, { id: 'x' })}</p>` });
    await expect(mountLive({ routes: { '/': Twice } }, '/')).rejects.toThrow();
  });
});

describe('uploads owned by a component', () => {
  const received: string[] = [];
  const Uploader: LiveComponent<{ saved: string[] }> = createLiveComponent<{ saved: string[] }>({
    mount: (s: ComponentSocket<{ saved: string[] }>) => {
      s.assign({ saved: [] });
      s.allowUpload('doc', { accept: ['.txt'], maxEntries: 2 });
    },
    handleEvent: async (e, s) => {
      if (e.type !== 'save') return;
      const names = await s.consumeUploadedEntries('doc', async (meta, entry) => {
        received.push(entry.clientName);
        return `${entry.clientName}:${(await readFile(meta.path, 'utf8')).length}`;
      });
      s.assign({ saved: [...s.assigns.saved, ...names] });
    },
    render: ({ saved }, { myself, uploads }) => html`<form id="f" phx-change="validate" phx-submit="save" phx-target="${myself}">
${uploads.doc ? live_file_input(uploads.doc) : ''}
<ul>${(uploads.doc?.entries ?? []).map((e) => html`<li>${e.clientName} ${e.progress}</li>`)}</ul>
<p id="saved">${saved.join(',')}</p></form>`,
  });
  const Page = createLiveView<{ on: boolean }>({
    mount: (s) => s.assign({ on: true }),
    handleEvent: (_e, s) => s.assign({ on: false }),
    render: ({ on }) => html`<main>${on ? liveComponent(Uploader, { id: 'up' }) : ''}</main>`,
  });

  it('allowUpload in a component: entries, progress and consume go through its cid and re-render it', async () => {
    const view = await mountLive({ routes: { '/': Page } }, '/');
    const ref = /id="(phx-[^"]+)" type="file"/.exec(view.html())?.[1] as string;
    expect(ref).toBeTruthy();
    const out = await view.upload(ref, 'doc', [{ name: 'a.txt', content: Buffer.from('hello') }], { cid: 1 });
    expect(out.entries).toEqual([{ ref: expect.any(String) as string, ok: true }]);
    expect(view.html()).toContain('<li>a.txt 100</li>');
    await view.event({ type: 'form', event: 'save', value: '', meta: {}, cid: 1 });
    expect(view.html()).toContain('<p id="saved">a.txt:5</p>');
    expect(view.html()).not.toContain('<li>a.txt');
  });

  it('removing the component cancels its uploads', async () => {
    const view = await mountLive({ routes: { '/': Page } }, '/');
    const ref = /id="(phx-[^"]+)" type="file"/.exec(view.html())?.[1] as string;
    await view.change('validate', '', { target: 'doc', uploads: { [ref]: view.describeFiles('doc', [{ name: 'b.txt', content: Buffer.from('x') }]) }, cid: 1 });
    expect(view.html()).toContain('<li>b.txt 0</li>');
    await view.click('hide');
    await view.push(view.topic, 'cids_will_destroy', { cids: [1] });
    await view.push(view.topic, 'cids_destroyed', { cids: [1] });
    // Its config is gone: a preflight for it is refused.
    await until(() => true);
    const pre = await view.push(view.topic, 'allow_upload', { ref, entries: [] });
    expect(pre.response.error).toEqual([[ref, 'disallowed']]);
  });
});
