/**
 * Navigation over real sockets (port 0), frame by frame: live sessions and
 * the joins they allow, a view that navigates away ending with phx_close,
 * leave answered by phx_close, the patch-loop guard, live actions, route
 * containers, flash carried across redirects (join param and cookie), and
 * live-session onMount hooks.
 */
import { createLiveView, html, HttpError, liveRoute, liveSession } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPage, PhoenixClient, type PageInfo } from '../support/phoenix-ws.js';

const A = createLiveView<{ param: string }>({
  mount: (s) => s.assign({ param: '' }),
  handleParams: (url, s) => {
    s.assign({ param: url.searchParams.get('p') ?? '' });
    if (url.searchParams.get('loop')) s.pushPatch('/a?loop=1');
  },
  handleEvent: (e, s) => {
    if (e.type === 'go-b') s.pushNavigate('/b', { replace: e.replace === 'yes' });
    if (e.type === 'go-other') s.pushNavigate('/other');
    if (e.type === 'flash-b') {
      s.putFlash('info', 'from A');
      s.pushNavigate('/b');
    }
    if (e.type === 'flash-away') {
      s.putFlash('info', 'bye');
      s.redirect('/b');
    }
  },
  render: ({ param, flash }) => html`<p id="a">A ${param}</p><p id="flash">${flash.info ?? ''}</p>`,
});
const B = createLiveView({
  render: ({ flash }, meta) => html`<p id="b">B ${meta.liveAction ?? '-'}</p><p id="flash">${flash.info ?? ''}</p>`,
  handleEvent: (e, s) => {
    if (e.type === 'patch-show') s.pushPatch('/b/7');
  },
});
const Other = createLiveView({ render: () => html`<p id="other">other</p>` });
const Guarded = createLiveView({ render: () => html`<p>secret</p>` });
const Contained = createLiveView({ container: ['section', { class: 'page wide', hidden: false }], render: () => html`<p>in a section</p>` });
const Throws = createLiveView({
  mount: (s, _session, params) => {
    if (params.dead === '1' || s.connected) throw new HttpError(params.status ? Number(params.status) : 500, 'nope');
  },
  render: () => html`<p>never</p>`,
});

let server: InletServer;
const logged: string[] = [];

beforeAll(async () => {
  server = createServer({
    secret: 'navigation-test-secret-0123456789abcdef',
    log: (m: string) => logged.push(m),
    routes: {
      '/a': A,
      '/b': liveRoute(B, { action: 'index' }),
      '/b/:id': liveRoute(B, { action: 'show' }),
      '/contained': Contained,
      '/throws': Throws,
      ...liveSession('other', { '/other': Other }),
      ...liveSession('guarded', { '/guarded': Guarded }, { onMount: (s, session) => { if (!session.admin) s.redirect('/a'); } }),
    },
  });
  await server.listen(0);
});
afterAll(() => server.close());

async function open(path: string, cookie?: string) {
  const res = await fetch(server.url + path, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  const text = await res.text();
  const page = await fetchPageFrom(res, text);
  const client = await PhoenixClient.connect(server.url, page);
  const { joinRef, topic, reply } = await client.joinView(server.url, page, path);
  return { page, client, joinRef, topic, reply };
}

async function fetchPageFrom(res: Response, html: string): Promise<PageInfo> {
  const id = /id="([^"]+)" data-phx-main/.exec(html)?.[1];
  const session = /data-phx-session="([^"]+)"/.exec(html)?.[1];
  const stat = /data-phx-static="([^"]+)"/.exec(html)?.[1];
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
  const cookie = (res.headers.getSetCookie().find((c) => c.startsWith('_inlet_csrf=')) ?? '').split(';')[0] ?? '';
  if (!id || !session || !stat || !csrf) throw new Error(`no live page: ${res.status} ${html.slice(0, 200)}`);
  return { id, session, static: stat, csrf, cookie, html };
}

/** Joins `to` on the same topic with `redirect`, as the client does after live navigation. */
function navigate(client: PhoenixClient, page: PageInfo, to: string, extra: Record<string, unknown> = {}) {
  const joinRef = client.nextRef();
  const ref = joinRef;
  const topic = `lv:${page.id}`;
  const reply = client.waitFor((f) => f[1] === ref && f[3] === 'phx_reply');
  client.sendRaw(JSON.stringify([joinRef, ref, topic, 'phx_join', { redirect: server.url + to, params: { _csrf_token: page.csrf, _mounts: 0 }, session: page.session, static: page.static, ...extra }]));
  return reply.then((f) => ({ joinRef, reply: f[4] as { status: string; response: Record<string, unknown> } }));
}

const click = (client: PhoenixClient, joinRef: string, topic: string, event: string, value: Record<string, unknown> = {}) =>
  client.request(joinRef, topic, 'event', { type: 'click', event, value });

describe('leaving and navigating away', () => {
  it('answers phx_leave, then closes the channel with phx_close', async () => {
    const { client, joinRef, topic } = await open('/a');
    const closed = client.waitFor((f) => f[2] === topic && f[3] === 'phx_close');
    const reply = await client.request(joinRef, topic, 'phx_leave', {});
    expect(reply.status).toBe('ok');
    expect(await closed).toEqual([joinRef, joinRef, topic, 'phx_close', {}]);
    const events = client.frames.filter((f) => f[2] === topic).map((f) => f[3]);
    expect(events.slice(-2)).toEqual(['phx_reply', 'phx_close']);
    client.close();
  });

  it('a view that pushNavigates replies live_redirect (push or replace) and then ends with phx_close', async () => {
    const { client, joinRef, topic } = await open('/a');
    const closed = client.waitFor((f) => f[2] === topic && f[3] === 'phx_close');
    const reply = await click(client, joinRef, topic, 'go-b', { replace: 'yes' });
    expect(reply.response.live_redirect).toEqual({ to: '/b', kind: 'replace' });
    expect((await closed)[0]).toBe(joinRef);
    // Events after the close reach nothing: unmatched topic, never the next view.
    const late = await click(client, joinRef, topic, 'go-b');
    expect(late).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
    client.close();
  });
});

describe('live sessions', () => {
  it('joins after live navigation within the session, with the route action and no container key', async () => {
    const { client, page } = await open('/a');
    const { reply } = await navigate(client, page, '/b/7');
    expect(reply.status).toBe('ok');
    expect(JSON.stringify(reply.response.rendered)).toContain('show');
    expect(reply.response.container).toBeUndefined();
    client.close();
  });

  it('refuses live navigation into another live session (the client then loads the page)', async () => {
    const { client, page } = await open('/a');
    const { reply } = await navigate(client, page, '/other');
    expect(reply).toEqual({ status: 'error', response: { reason: 'unauthorized' } });
    const { reply: back } = await navigate(client, page, '/b');
    expect(back.status).toBe('ok');
    client.close();
  });

  it('refuses a url join whose route is another view than the page was rendered with', async () => {
    const { page, client } = await open('/a');
    const joinRef = client.nextRef();
    const r = await client.request(joinRef, `lv:${page.id}`, 'phx_join', { url: `${server.url}/b`, params: { _mounts: 1 }, session: page.session, static: null });
    expect(r).toEqual({ status: 'error', response: { reason: 'unauthorized' } });
    client.close();
  });

  it('runs the session onMount hooks before mount: a redirect there stops the page', async () => {
    const res = await fetch(`${server.url}/guarded`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/a');
  });
});

describe('patches', () => {
  it('sets the live action from the route, and changes it on patch', async () => {
    const { client, joinRef, topic, reply } = await open('/b');
    expect(JSON.stringify(reply.response.rendered)).toContain('index');
    const r = await click(client, joinRef, topic, 'patch-show');
    expect(r.response.live_patch).toEqual({ to: '/b/7', kind: 'push' });
    expect(JSON.stringify(r.response.diff)).toContain('show');
    client.close();
  });

  it('crashes a view whose handleParams patches itself forever (phx_error), and stays up for others', async () => {
    const { client, joinRef, topic } = await open('/a');
    const ref = client.nextRef();
    const error = client.waitFor((f) => f[2] === topic && f[3] === 'phx_error');
    client.sendRaw(JSON.stringify([joinRef, ref, topic, 'live_patch', { url: `${server.url}/a?loop=1` }]));
    expect((await error)[4]).toEqual({ reason: 'channel_crash' });
    expect(logged.some((m) => m.includes('crashed'))).toBe(true);
    const again = await open('/a?p=fine');
    expect(again.reply.status).toBe('ok');
    again.client.close();
    client.close();
  });
});

describe('containers', () => {
  it('wraps the HTTP render in the view container and sends it on a redirect join', async () => {
    const res = await fetch(`${server.url}/contained`);
    const body = await res.text();
    expect(body).toMatch(/<section id="phx-[^"]+" data-phx-main data-phx-session="[^"]+" data-phx-static="[^"]+" class="page wide">/);
    const { client, page } = await open('/a');
    const { reply } = await navigate(client, page, '/contained');
    expect(reply.response.container).toEqual(['section', { class: 'page wide' }]);
    client.close();
  });
});

describe('flash across navigation', () => {
  it('carries flash into a live redirect (the join flash param)', async () => {
    const { client, joinRef, topic, page } = await open('/a');
    const r = await click(client, joinRef, topic, 'flash-b');
    const redirect = r.response.live_redirect as { to: string; flash: string };
    expect(redirect.to).toBe('/b');
    expect(typeof redirect.flash).toBe('string');
    const { reply } = await navigate(client, page, '/b', { flash: redirect.flash });
    expect(JSON.stringify(reply.response.rendered)).toContain('from A');
    client.close();
  });

  it('carries flash across a full redirect through the cookie, read once by the HTTP render and the first mount', async () => {
    const { client, joinRef, topic } = await open('/a');
    const r = await click(client, joinRef, topic, 'flash-away');
    const redirect = r.response.redirect as { to: string; flash: string };
    expect(redirect.to).toBe('/b');
    client.close();
    // What the client does: cookie, then GET.
    const res = await fetch(`${server.url}/b`, { headers: { cookie: `__phoenix_flash__=${redirect.flash}` } });
    const body = await res.text();
    expect(body).toContain('<p id="flash">bye</p>');
    expect(res.headers.getSetCookie().some((c) => /^__phoenix_flash__=;.*Max-Age=0/i.test(c))).toBe(true);
    const page = await fetchPageFrom(res, body);
    const c2 = await PhoenixClient.connect(server.url, page);
    const first = await c2.joinView(server.url, page, '/b');
    expect(JSON.stringify(first.reply.response.rendered)).toContain('bye');
    // A rejoin (_mounts > 0) no longer shows the HTTP render's flash.
    const again = await c2.request(c2.nextRef(), `lv:${page.id}`, 'phx_join', { url: `${server.url}/b`, params: { _mounts: 1 }, session: page.session, static: page.static });
    expect(JSON.stringify(again.response.rendered)).not.toContain('bye');
    c2.close();
  });

  it('ignores a forged flash cookie', async () => {
    const res = await fetch(`${server.url}/b`, { headers: { cookie: '__phoenix_flash__=forged.token' } });
    expect(await res.text()).toContain('<p id="flash"></p>');
  });
});

describe('error pages', () => {
  it('answers a throw in the HTTP render with its status and a bare page', async () => {
    const r500 = await fetch(`${server.url}/throws?dead=1`);
    expect(r500.status).toBe(500);
    expect(await r500.text()).toBe('Internal Server Error');
    const r404 = await fetch(`${server.url}/throws?dead=1&status=404`);
    expect(r404.status).toBe(404);
    expect(await r404.text()).toBe('Not Found');
  });

  it('answers a 4xx in the connected mount with reload; the reload cookie then yields that status', async () => {
    const { reply } = await open('/throws?status=403');
    expect(reply.status).toBe('error');
    expect(reply.response).toMatchObject({ reason: 'reload', status: 403 });
    const res = await fetch(`${server.url}/throws?status=403`, { headers: { cookie: `__phoenix_reload_status__=${reply.response.token as string}` } });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('Forbidden');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('__phoenix_reload_status__=;'))).toBe(true);
  });

  it('answers a 5xx in the connected mount with join crashed (the client reloads with backoff)', async () => {
    const { reply } = await open('/throws');
    expect(reply).toEqual({ status: 'error', response: { reason: 'join crashed' } });
  });
});
