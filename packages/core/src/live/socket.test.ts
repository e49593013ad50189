import { describe, expect, it } from 'vitest';
import { html } from '../render/template.js';
import { mountLive } from '../testing/index.js';
import { MemoryPubSub } from './pubsub.js';
import { createLiveView } from './view.js';
import { LiveApp } from './app.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('socket effects', () => {
  it('delivers broadcasts to every subscribed view through handleInfo', async () => {
    const Room = createLiveView<{ messages: string[] }, { text: string }>({
      mount: (s) => {
        s.assign({ messages: [] });
        if (s.connected) s.subscribe('room:1');
      },
      handleEvent: (e, s) => s.broadcast('room:1', { text: String(e.text) }),
      handleInfo: (info, s) => s.assign({ messages: [...s.assigns.messages, info.text] }),
      render: ({ messages }) => html`<ul>${messages.map((m) => html`<li>${m}</li>`)}</ul>`,
    });
    const a = await mountLive({ routes: { '/': Room } }, '/');
    const b = await mountLive({ routes: { '/': Room } }, '/', { app: a.app });
    const elsewhere = await mountLive({ routes: { '/': Room } }, '/');
    await a.click('say', { text: 'hello <b>' });
    await b.click('say', { text: 'hi' });
    await wait(20);
    expect(a.html()).toBe('<ul><li>hello &lt;b&gt;</li><li>hi</li></ul>');
    expect(b.html()).toBe('<ul><li>hello &lt;b&gt;</li><li>hi</li></ul>');
    expect(elsewhere.html()).toBe('<ul></ul>');
    await b.leave();
    await a.click('say', { text: 'after leave' });
    await wait(20);
    expect(a.html()).toContain('after leave');
    expect(b.html()).not.toContain('after leave');
  });

  it('shares broadcasts between views of one app', async () => {
    const pubsub = new MemoryPubSub();
    const got: unknown[] = [];
    const off = await pubsub.subscribe('t', (m) => got.push(m));
    await pubsub.broadcast('t', 1);
    await pubsub.broadcast('t', 2);
    await wait(0);
    off();
    await pubsub.broadcast('t', 3);
    await wait(0);
    expect(got).toEqual([1, 2]);
    expect(pubsub.topicCount).toBe(0);
  });

  it('runs sendInfo now and later, pushes events and replies to hooks', async () => {
    const V = createLiveView<{ ticks: number }, string>({
      mount: (s) => s.assign({ ticks: 0 }),
      handleEvent: (e, s) => {
        if (e.type === 'start') {
          s.sendInfo('tick');
          s.sendInfo('tick', 30);
        }
        if (e.type === 'ask') {
          s.pushEvent('highlight', { id: 7 });
          s.reply({ answer: 42 });
        }
      },
      handleInfo: (_i, s) => s.assign({ ticks: s.assigns.ticks + 1 }),
      render: ({ ticks }) => html`<p>${ticks}</p>`,
    });
    const view = await mountLive({ routes: { '/': V } }, '/');
    await view.click('start');
    await wait(80);
    expect(view.html()).toBe('<p>2</p>');
    const reply = await view.hook('ask', {});
    expect(reply).toEqual({ diff: { e: [['highlight', { id: 7 }]], r: { answer: 42 } } });
  });

  it('patches, navigates and redirects from the server', async () => {
    const Other = createLiveView({ render: () => html`<p>other</p>` });
    const V = createLiveView<{ page: string }>({
      mount: (s) => s.assign({ page: '?' }),
      handleParams: (url, s) => {
        s.assign({ page: url.searchParams.get('page') ?? '1' });
        s.pageTitle(`Page ${s.assigns.page}`);
      },
      handleEvent: (e, s) => {
        if (e.type === 'next') s.pushPatch(`/list?page=${Number(s.assigns.page) + 1}`);
        if (e.type === 'away') {
          s.putFlash('info', 'Moved <away>');
          s.pushNavigate('/other', { replace: true });
        }
        if (e.type === 'out') s.redirect('https://example.com/');
      },
      render: ({ page }) => html`<p>page ${page}</p>`,
    });
    const routes = { '/list': V, '/other': Other };
    const view = await mountLive({ routes }, '/list?page=3');
    expect(view.html()).toBe('<p>page 3</p>');
    const patched = await view.click('next');
    expect(patched).toEqual({ diff: { 0: '4', t: 'Page 4' }, live_patch: { to: '/list?page=4', kind: 'push' } });
    const nav = await view.click('away');
    const liveRedirect = nav.live_redirect as { to: string; kind: string; flash: string };
    expect(liveRedirect).toMatchObject({ to: '/other', kind: 'replace' });
    expect(view.app.signer.verify('flash', liveRedirect.flash)).toEqual({ info: 'Moved <away>' });
    expect(await view.click('out')).toMatchObject({ redirect: { to: 'https://example.com/' } });
  });

  it('redirects with 302 when mount redirects during the HTTP render, and answers live_patch for a foreign URL', async () => {
    const Guard = createLiveView({ mount: (s) => s.redirect('/login'), render: () => html`<p>secret</p>` });
    const Login = createLiveView({ render: () => html`<p>login</p>` });
    const app = new LiveApp({ routes: { '/secret': Guard, '/login': Login }, secret: 's'.repeat(32), clientPath: '/c.js' });
    expect(await app.renderPage(new URL('http://x/secret'), {}, 'csrf')).toEqual({ status: 302, location: '/login' });
    expect((await app.renderPage(new URL('http://x/missing'), {}, 'csrf')).status).toBe(404);
    const view = await mountLive({ routes: { '/login': Login, '/secret': Guard } }, '/login');
    expect((await view.push(view.topic, 'live_patch', { url: 'http://localhost/secret' })).response).toEqual({ link_redirect: true });
  });

  it('only re-renders when an assign really changed', async () => {
    let renders = 0;
    const V = createLiveView<{ n: number; list: number[] }>({
      mount: (s) => s.assign({ n: 1, list: [] }),
      handleEvent: (e, s) => {
        if (e.type === 'same') s.assign({ n: 1 });
        if (e.type === 'obj') s.assign({ list: s.assigns.list });
      },
      render: ({ n }) => {
        renders++;
        return html`<p>${n}</p>`;
      },
    });
    const view = await mountLive({ routes: { '/': V } }, '/');
    const before = renders;
    expect(await view.click('same')).toEqual({});
    expect(renders).toBe(before);
    await view.click('obj');
    expect(renders).toBe(before + 1);
  });
});
