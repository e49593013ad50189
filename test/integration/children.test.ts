/**
 * Child and sticky views through the in-process client (the real channel
 * code and serializer): markup in the HTTP and connected renders, joins,
 * crash isolation both ways, linked children, messages to the parent,
 * patches forwarded to the root, stickies outliving their page, and a child
 * joining while its parent navigates away.
 */
import { createLiveView, html, liveRender } from 'inletjs';
import { mountLive, ViewCrashError, type LiveTestView } from 'inletjs/testing';
import { describe, expect, it } from 'vitest';

const Child = createLiveView<{ n: number; label: string }, { bump: number }>({
  mount: (s, session) => {
    if (session.fail === 'mount' && s.connected) throw new Error('child mount failed');
    s.assign({ n: 0, label: String(session.label ?? 'none') });
  },
  handleEvent: (e, s) => {
    if (e.type === 'boom') throw new Error('child exploded');
    if (e.type === 'tell') s.sendParent({ from: 'child', n: s.assigns.n });
    if (e.type === 'patch') s.pushPatch('/parent?tab=2');
    if (e.type === 'go') s.pushNavigate('/other');
    s.assign({ n: s.assigns.n + 1 });
  },
  render: ({ n, label }, meta) => html`<p id="child-n">${n}</p><p id="label">${label}</p><p id="conn">${meta.connected ? 'live' : 'dead'}</p>`,
});

interface ParentAssigns {
  heard: string;
  show: boolean;
  tick: number;
  tab: string;
}
const Parent = createLiveView<ParentAssigns, { from: string; n: number } | 'navigate-later'>({
  mount: (s, _session, params) => s.assign({ heard: '', show: true, tick: 0, tab: String(params.tab ?? '1') }),
  handleParams: (url, s) => s.assign({ tab: url.searchParams.get('tab') ?? '1' }),
  handleEvent: (e, s) => {
    if (e.type === 'boom') throw new Error('parent exploded');
    if (e.type === 'toggle') s.assign({ show: !s.assigns.show });
    if (e.type === 'tick') s.assign({ tick: s.assigns.tick + 1 });
    if (e.type === 'slow-navigate') s.sendInfo('navigate-later');
  },
  handleInfo: async (info, s) => {
    if (info === 'navigate-later') {
      await new Promise((r) => setTimeout(r, 150));
      s.pushNavigate('/other');
      return;
    }
    s.assign({ heard: `${info.from}:${info.n}` });
  },
  render: ({ heard, show, tick, tab }, meta) => html`<main>
<p id="heard">${heard}</p><p id="tick">${tick}</p><p id="tab">${tab}</p>
${show ? liveRender(Child, { id: 'kid', session: { label: 'hello' } }) : ''}
${liveRender(Child, { id: 'linked', session: { label: 'linked', fail: meta.url.searchParams.get('fail') ?? '' }, link: true })}
${liveRender(Child, { id: 'sticky', sticky: true, container: ['aside', { class: 'player' }] })}
</main>`,
});
const Other = createLiveView({ render: () => html`<p>other</p>` });
const routes = { '/parent': Parent, '/other': Other };

const frames = (view: LiveTestView, topic: string) => view.socket.sent.filter((f) => f[2] === topic).map((f) => f[3]);

describe('child view markup', () => {
  it('the HTTP render holds each child rendered in place, the connected render only its container', async () => {
    const view = await mountLive({ routes }, '/parent');
    const page = await view.app.renderPage(new URL('http://localhost/parent'), {}, 'csrf');
    if (page.status !== 200) throw new Error('no page');
    const dead = page.html;
    expect(dead).toMatch(/<div id="kid" data-phx-session="" data-phx-static="[^"]+" data-phx-parent-id="phx-[^"]+"><p id="child-n">0<\/p><p id="label">hello<\/p><p id="conn">dead<\/p><\/div>/);
    expect(dead).toMatch(/<aside id="sticky" data-phx-session="[^"]+" data-phx-static="[^"]+" data-phx-sticky class="player"><p id="child-n">0/);
    const live = view.html();
    expect(live).toMatch(new RegExp(`<div id="kid" data-phx-session="[^"]+" data-phx-static="" data-phx-parent-id="${view.topic.slice(3)}"></div>`));
    expect(live).toMatch(/<aside id="sticky" data-phx-session="[^"]+" data-phx-static="" data-phx-sticky class="player"><\/aside>/);
  });

  it('re-renders of the parent keep the child container unchanged (no diff for it)', async () => {
    const view = await mountLive({ routes }, '/parent');
    const r = await view.click('tick');
    expect(JSON.stringify(r.diff)).not.toContain('data-phx-session');
  });

  it('a live patch of the parent (a new URL) re-sends no child container either', async () => {
    const view = await mountLive({ routes }, '/parent');
    const r = await view.push(view.topic, 'live_patch', { url: 'http://localhost/parent?tab=2' });
    expect(r.status).toBe('ok');
    expect(JSON.stringify(r.response.diff)).toContain('2');
    expect(JSON.stringify(r.response.diff)).not.toContain('data-phx-session');
  });
});

describe('joining children', () => {
  it('mounts a child with the parent session plus its own, and handles its events on its own topic', async () => {
    const view = await mountLive({ routes }, '/parent', { session: { user: 'ada' } });
    const kid = await view.liveChild('kid');
    expect(kid.html()).toContain('<p id="label">hello</p>');
    expect(kid.html()).toContain('<p id="conn">live</p>');
    await kid.click('inc');
    expect(kid.html()).toContain('<p id="child-n">1</p>');
    expect(frames(view, view.topic).filter((e) => e === 'diff')).toEqual([]);
  });

  it('delivers sendParent to the parent handleInfo', async () => {
    const view = await mountLive({ routes }, '/parent');
    const kid = await view.liveChild('kid');
    const diff = view.socket.next((f) => f[2] === view.topic && f[3] === 'diff');
    await kid.click('tell');
    await diff;
    expect(view.html()).toContain('<p id="heard">child:0</p>');
  });

  it('hands a child pushPatch to the root view (live_patch there, handleParams runs)', async () => {
    const view = await mountLive({ routes }, '/parent');
    const kid = await view.liveChild('kid');
    const patch = view.socket.next((f) => f[2] === view.topic && f[3] === 'live_patch');
    await kid.click('patch');
    expect((await patch)[4]).toEqual({ to: '/parent?tab=2', kind: 'push' });
    await expect.poll(() => view.html()).toContain('<p id="tab">2</p>');
  });

  it('refuses a child whose parent is not joined on the socket (stale)', async () => {
    const view = await mountLive({ routes }, '/parent');
    const html = view.html();
    await view.leave();
    const session = /id="kid" data-phx-session="([^"]+)"/.exec(html)?.[1];
    const r = await view.push('lv:kid', 'phx_join', { session, static: null, params: { _mounts: 0 } }, '90');
    expect(r.response).toEqual({ reason: 'stale' });
  });
});

describe('crash isolation', () => {
  it('a crashing child gets phx_error alone; the parent carries on and the child remounts', async () => {
    const view = await mountLive({ routes }, '/parent');
    const kid = await view.liveChild('kid');
    await expect(kid.click('boom')).rejects.toThrow(ViewCrashError);
    expect(frames(view, view.topic)).not.toContain('phx_error');
    await view.click('tick');
    expect(view.html()).toContain('<p id="tick">1</p>');
    const again = await view.liveChild('kid');
    expect(again.html()).toContain('<p id="child-n">0</p>');
  });

  it('a crashing parent ends its children with phx_close', async () => {
    const view = await mountLive({ routes }, '/parent');
    await view.liveChild('kid');
    const closed = view.socket.next((f) => f[2] === 'lv:kid' && f[3] === 'phx_close');
    await expect(view.click('boom')).rejects.toThrow(ViewCrashError);
    await closed;
    const order = view.socket.sent.filter((f) => f[3] === 'phx_error' || f[3] === 'phx_close').map((f) => `${f[2]} ${f[3]}`);
    expect(order).toEqual([`${view.topic} phx_error`, 'lv:kid phx_close']);
  });

  it('a linked child that crashes takes the parent down too', async () => {
    const view = await mountLive({ routes }, '/parent');
    const linked = await view.liveChild('linked');
    const parentError = view.socket.next((f) => f[2] === view.topic && f[3] === 'phx_error');
    await expect(linked.click('boom')).rejects.toThrow(ViewCrashError);
    await parentError;
    const order = view.socket.sent.filter((f) => f[3] === 'phx_error').map((f) => f[2]);
    expect(order).toEqual(['lv:linked', view.topic]);
  });

  it('a linked child whose mount throws fails its join, then the parent crashes', async () => {
    const view = await mountLive({ routes }, '/parent?fail=mount');
    const parentError = view.socket.next((f) => f[2] === view.topic && f[3] === 'phx_error');
    await expect(view.liveChild('linked')).rejects.toThrow(ViewCrashError);
    await parentError;
    const joinReply = view.socket.sent.findIndex((f) => f[2] === 'lv:linked' && f[3] === 'phx_reply');
    const crash = view.socket.sent.findIndex((f) => f[2] === view.topic && f[3] === 'phx_error');
    expect(joinReply).toBeGreaterThan(-1);
    expect(crash).toBeGreaterThan(joinReply);
  });
});

describe('sticky views', () => {
  it('outlive the view that rendered them, and stay up after their own live navigation', async () => {
    const view = await mountLive({ routes }, '/parent');
    const sticky = await view.liveChild('sticky');
    await view.leave();
    await sticky.click('inc');
    expect(sticky.html()).toContain('<p id="child-n">1</p>');
    const r = await sticky.click('go');
    expect(r.live_redirect).toEqual({ to: '/other', kind: 'push' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(frames(view, 'lv:sticky')).not.toContain('phx_close');
    await sticky.click('inc');
    expect(sticky.html()).toContain('<p id="child-n">3</p>');
  });
});

describe('a child joining while its parent navigates away (issue 4359)', () => {
  it('waits behind the parent and gets parent_redirect once it has gone', async () => {
    const view = await mountLive({ routes }, '/parent');
    await view.click('slow-navigate');
    const redirect = view.socket.next((f) => f[2] === view.topic && f[3] === 'live_redirect');
    await expect(view.liveChild('kid')).rejects.toThrow(/parent_redirect/);
    expect((await redirect)[4]).toEqual({ to: '/other', kind: 'push' });
  });
});
