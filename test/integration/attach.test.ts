/**
 * `attach(server)`: Inlet on an http.Server the app already has, next to the
 * app's own routes and its own WebSocket path, over real sockets (port 0).
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { attach, type AttachedInlet } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../examples/app.js';
import { fetchPage, PhoenixClient } from '../support/phoenix-ws.js';

let server: Server;
let attached: AttachedInlet;
let base: string;
const chat = new WebSocketServer({ noServer: true });

beforeAll(async () => {
  server = createHttpServer((req, res) => {
    if (req.url === '/api/health') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('app 404');
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/chat') chat.handleUpgrade(req, socket, head, (ws) => ws.send('hello from the app'));
  });
  attached = attach(server, { routes, logger: false });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await attached.detach();
  chat.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('attach', () => {
  it('leaves the app its own routes and its own 404', async () => {
    expect(await (await fetch(`${base}/api/health`)).json()).toEqual({ ok: true });
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('app 404');
  });

  it('renders live views and serves the client bundle', async () => {
    const page = await fetchPage(base, '/counter');
    expect(page.html).toContain('<output id="count">0</output>');
    expect((await fetch(`${base}/inlet/inlet-client.js`)).status).toBe(200);
  });

  it('joins a view over the socket and answers events', async () => {
    const page = await fetchPage(base, '/counter');
    const client = await PhoenixClient.connect(base, page);
    const { joinRef, topic, reply } = await client.joinView(base, page, '/counter');
    expect(reply.status).toBe('ok');
    const r = await client.request(joinRef, topic, 'event', { type: 'click', event: 'inc', value: { value: '' } });
    expect(r).toEqual({ status: 'ok', response: { diff: { 1: '1' } } });
    client.close();
  });

  it("keeps the app's own WebSocket path working", async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/chat`);
    const message = await new Promise<string>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(data.toString()));
      ws.once('error', reject);
    });
    expect(message).toBe('hello from the app');
    ws.close();
  });

  it('gives the server back its own listeners on detach', async () => {
    const other = createHttpServer((_req, res) => res.end('mine'));
    const a = attach(other, { routes, logger: false });
    await a.detach();
    expect(other.listenerCount('request')).toBe(1);
    expect(other.listenerCount('upgrade')).toBe(0);
  });
});
