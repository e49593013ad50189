/**
 * The server over real sockets (port 0): join, events, heartbeat, and every
 * kind of bad input from the core issue. Bad input must get an error reply,
 * a phx_error or a closed socket, and never disturb other views.
 */
import { createLiveView, html } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleOptions, routes } from '../../examples/app.js';
import { fetchPage, PhoenixClient } from '../support/phoenix-ws.js';

const Boom = createLiveView<{ n: number }>({
  mount: (s) => s.assign({ n: 0 }),
  handleEvent: (e, s) => {
    if (e.type === 'boom') throw new Error('handler exploded');
    s.assign({ n: s.assigns.n + 1 });
  },
  handleInfo: () => {
    throw new Error('info exploded');
  },
  render: ({ n }) => html`<p id="n">${n}</p>`,
});
const NoHandler = createLiveView({ render: () => html`<p>static</p>` });

let server: InletServer;
const logged: string[] = [];

beforeAll(async () => {
  server = createServer(
    exampleOptions({
      routes: { ...routes, '/boom': Boom, '/nohandler': NoHandler },
      maxFrameBytes: 64 * 1024,
      log: (m: string) => logged.push(m),
    }),
  );
  await server.listen(0);
});
afterAll(() => server.close());

async function joined(path: string) {
  const page = await fetchPage(server.url, path);
  const client = await PhoenixClient.connect(server.url, page);
  const { joinRef, topic, reply } = await client.joinView(server.url, page, path);
  return { page, client, joinRef, topic, reply };
}

describe('join and events', () => {
  it('renders over HTTP with tokens, then joins with the full rendered tree', async () => {
    const { page, client, reply } = await joined('/counter');
    expect(page.html).toContain('<output id="count">0</output>');
    expect(reply.status).toBe('ok');
    expect(reply.response.liveview_version).toBe('1.2.12');
    const rendered = reply.response.rendered as Record<string, unknown>;
    expect(Array.isArray(rendered.s)).toBe(true);
    expect(rendered.t).toBe('Counter');
    client.close();
  });

  it('answers a click with a diff holding only the count', async () => {
    const { client, joinRef, topic } = await joined('/counter');
    const r = await client.request(joinRef, topic, 'event', { type: 'click', event: 'inc', value: { value: '' } });
    expect(r).toEqual({ status: 'ok', response: { diff: { 1: '1' } } });
    client.close();
  });

  it('handles form change and submit', async () => {
    const { client, joinRef, topic } = await joined('/form');
    const change = await client.request(joinRef, topic, 'event', {
      type: 'form',
      event: 'validate',
      value: 'user%5Bname%5D=A&user%5Bemail%5D=',
      meta: { _target: 'user[name]' },
      uploads: {},
    });
    expect(JSON.stringify(change.response.diff)).toContain('Name must be at least 2 characters.');
    const submit = await client.request(joinRef, topic, 'event', { type: 'form', event: 'save', value: 'user%5Bname%5D=Ada&user%5Bemail%5D=ada%40x.io', meta: {} });
    expect(JSON.stringify(submit.response.diff)).toContain('Welcome, Ada!');
    client.close();
  });

  it('replies to heartbeats', async () => {
    const client = await PhoenixClient.connect(server.url, undefined);
    expect(await client.request(null, 'phoenix', 'heartbeat', {})).toEqual({ status: 'ok', response: {} });
    client.close();
  });

  it('serves many channels on one socket', async () => {
    const a = await fetchPage(server.url, '/counter');
    const b = await fetchPage(server.url, '/counter');
    const client = await PhoenixClient.connect(server.url, a);
    const ja = await client.joinView(server.url, a, '/counter');
    const jb = await client.joinView(server.url, { ...b, csrf: a.csrf, cookie: a.cookie }, '/counter');
    await client.request(ja.joinRef, ja.topic, 'event', { type: 'click', event: 'inc', value: {} });
    const rb = await client.request(jb.joinRef, jb.topic, 'event', { type: 'click', event: 'inc', value: {} });
    expect(rb.response.diff).toEqual({ 1: '1' });
    client.close();
  });
});

describe('bad input', () => {
  it('closes the socket on a frame that is not JSON, without disturbing other clients', async () => {
    const other = await joined('/counter');
    const bad = await PhoenixClient.connect(server.url, undefined);
    bad.sendRaw('this is not json');
    expect((await bad.whenClosed()).code).toBe(1007);
    const r = await other.client.request(other.joinRef, other.topic, 'event', { type: 'click', event: 'inc', value: {} });
    expect(r.status).toBe('ok');
    other.client.close();
  });

  it('answers frames of the wrong shape with an error reply when they carry a ref and topic', async () => {
    const client = await PhoenixClient.connect(server.url, undefined);
    const reply = client.waitFor((f) => f[1] === '9');
    client.sendRaw(JSON.stringify([null, '9', 'lv:x', 'event', ['not', 'an', 'object']]));
    expect((await reply)[4]).toEqual({ status: 'error', response: { reason: 'malformed frame', detail: 'payload must be an object' } });
    client.sendRaw(Buffer.from([0, 9, 9, 9, 9, 1]));
    expect((await client.whenClosed()).code).toBe(1007);
  });

  it('answers unknown topics and events before join with "unmatched topic"', async () => {
    const client = await PhoenixClient.connect(server.url, undefined);
    expect(await client.request('1', 'nope:1', 'phx_join', {})).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
    expect(await client.request('1', 'lv:phx-never-joined', 'event', { type: 'click', event: 'x' })).toEqual({
      status: 'error',
      response: { reason: 'unmatched topic' },
    });
    client.close();
  });

  it('refuses forged, swapped and CSRF-less joins with "stale" (the client reloads)', async () => {
    const page = await fetchPage(server.url, '/counter');
    const other = await fetchPage(server.url, '/counter');
    const client = await PhoenixClient.connect(server.url, page);
    const tampered = page.session.slice(0, -3) + (page.session.endsWith('A') ? 'BBB' : 'AAA');
    const base = { url: `${server.url}/counter`, params: {}, static: page.static };
    expect((await client.request('1', `lv:${page.id}`, 'phx_join', { ...base, session: tampered })).response).toEqual({ reason: 'stale' });
    expect((await client.request('2', `lv:${page.id}`, 'phx_join', { ...base, session: other.session })).response).toEqual({ reason: 'stale' });
    client.close();
    const noCsrf = await PhoenixClient.connect(server.url, { csrf: 'wrong', cookie: page.cookie });
    const r = await noCsrf.joinView(server.url, page, '/counter');
    expect(r.reply).toEqual({ status: 'error', response: { reason: 'stale' } });
    noCsrf.close();
  });

  it('sends phx_error when a handler throws, logs it once, and the view can remount', async () => {
    const { client, joinRef, topic, page } = await joined('/boom');
    await client.request(joinRef, topic, 'event', { type: 'click', event: 'inc', value: {} });
    const before = logged.length;
    const err = client.waitFor((f) => f[3] === 'phx_error');
    client.sendRaw(JSON.stringify([joinRef, '99', topic, 'event', { type: 'click', event: 'boom', value: {} }]));
    expect((await err)[4]).toEqual({ reason: 'channel_crash' });
    expect(logged.length - before).toBe(1);
    expect(logged.at(-1)).toContain('crashed');
    // The record's fields follow the message: which view, and which of its events.
    expect(logged.at(-1)).toMatch(/view=phx-\S+ .*event=boom/);
    const again = await client.joinView(server.url, page, '/boom');
    expect(again.reply.status).toBe('ok');
    const r = await client.request(again.joinRef, topic, 'event', { type: 'click', event: 'inc', value: {} });
    expect(r.response.diff).toEqual({ 0: '1' });
    client.close();
  });

  it('treats an event on a view without handleEvent as a crash of that view only', async () => {
    const a = await joined('/nohandler');
    const b = await joined('/counter');
    const err = a.client.waitFor((f) => f[3] === 'phx_error');
    a.client.sendRaw(JSON.stringify([a.joinRef, '50', a.topic, 'event', { type: 'click', event: 'x', value: {} }]));
    await err;
    expect((await b.client.request(b.joinRef, b.topic, 'event', { type: 'click', event: 'inc', value: {} })).status).toBe('ok');
    a.client.close();
    b.client.close();
  });

  it('closes a socket that sends a message over the size limit (1009)', async () => {
    const client = await PhoenixClient.connect(server.url, undefined);
    client.sendRaw(JSON.stringify([null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(70 * 1024) }]));
    expect((await client.whenClosed()).code).toBe(1009);
  });

  it('refuses WebSocket upgrades from foreign origins', async () => {
    const WebSocket = (await import('ws')).default;
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/live/websocket?vsn=2.0.0`, { headers: { origin: 'https://evil.example' } });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', (e) => resolve(String(e.message)));
    });
    expect(outcome).toContain('403');
  });
});
