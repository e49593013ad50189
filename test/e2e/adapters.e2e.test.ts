/**
 * Inlet mounted in Express 5, Fastify 5, Hono (on @hono/node-server) and
 * Koa 3 through their adapters, driven by the official client in Chromium:
 * a counter, an upload over the socket, a chunked upload to the receiver,
 * and the framework's own routes still answering next to Inlet's. One
 * browser for the file; each framework gets its own server on port 0.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { inletExpress } from '@inletjs/express';
import { inletFastify } from '@inletjs/fastify';
import { inletHono } from '@inletjs/hono';
import { inletKoa } from '@inletjs/koa';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import type { InletOptions } from 'inletjs/node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, gotoLive, launchBrowser } from '../support/browser.js';
import { makeRandomFile, sha256OfFile } from '../support/files.js';

interface Running {
  readonly url: string;
  close(): Promise<void>;
}

type Start = (options: Omit<InletOptions, 'session'>) => Promise<Running>;

const listening = (server: Server): Promise<string> =>
  new Promise((resolve) => {
    if (server.listening) resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    else server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const FRAMEWORKS: Record<string, Start> = {
  express: async (options) => {
    const app = express();
    app.get('/api/health', (_req, res) => void res.json({ framework: 'express' }));
    app.post('/api/echo', express.json(), (req, res) => void res.json({ got: req.body as unknown }));
    const inlet = inletExpress(options);
    app.use(inlet);
    app.use((_req, res) => void res.status(404).send('express 404'));
    const server = app.listen(0, '127.0.0.1');
    inlet.attach(server);
    const url = await listening(server);
    return { url, close: async () => (await inlet.close(), await closeServer(server)) };
  },
  fastify: async (options) => {
    const app = Fastify();
    await app.register(inletFastify, options);
    app.get('/api/health', async () => ({ framework: 'fastify' }));
    app.post('/api/echo', async (request) => ({ got: request.body }));
    app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('text/plain').send('fastify 404'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    return { url, close: () => app.close() };
  },
  hono: async (options) => {
    const app = new Hono();
    const inlet = inletHono(options);
    app.get('/api/health', (c) => c.json({ framework: 'hono' }));
    app.post('/api/echo', async (c) => c.json({ got: await c.req.json() }));
    app.use(inlet.middleware);
    app.notFound((c) => c.text('hono 404', 404));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    inlet.attach(server);
    const url = await listening(server);
    return { url, close: async () => (await inlet.close(), await closeServer(server)) };
  },
  koa: async (options) => {
    const app = new Koa();
    const inlet = inletKoa(options);
    app.use(inlet.middleware);
    app.use(async (ctx, next) => {
      if (ctx.path === '/api/health') ctx.body = { framework: 'koa' };
      else if (ctx.path === '/api/echo' && ctx.method === 'POST') {
        let raw = '';
        for await (const piece of ctx.req) raw += String(piece);
        ctx.body = { got: JSON.parse(raw) as unknown };
      } else await next();
    });
    app.use((ctx) => {
      ctx.status = 404;
      ctx.body = 'koa 404';
    });
    const server = app.listen(0, '127.0.0.1');
    inlet.attach(server);
    const url = await listening(server);
    return { url, close: async () => (await inlet.close(), await closeServer(server)) };
  },
};

interface ExampleApp {
  exampleOptions(overrides?: Record<string, unknown>): InletOptions & Record<string, unknown>;
}

let browser: Browser;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'inlet-e2e-adapters-'));
  await mkdir(join(root, 'src'));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await rm(root, { recursive: true, force: true });
});

describe.each(Object.entries(FRAMEWORKS))('%s', (name, start) => {
  let running: Running;
  let page: Page;
  const store = () => join(root, name, 'store');

  beforeAll(async () => {
    const { exampleOptions } = (await import(new URL('../../examples/app.js', import.meta.url).href)) as ExampleApp;
    // The framework owns the page and every route Inlet passes on, so the
    // example's own fallback handler (createServer's `handler`) stays out.
    const { layout: _layout, handler: _handler, ...options } = exampleOptions({ storeRoot: store(), uploadTmpDir: join(root, name, 'tmp'), s3: null, logger: 'error' });
    running = await start(options);
  });

  afterAll(async () => {
    await page?.close();
    await running?.close();
  });

  it("answers the framework's own routes next to Inlet's", async () => {
    expect(await (await fetch(`${running.url}/api/health`)).json()).toEqual({ framework: name });
    const echo = await fetch(`${running.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await echo.json()).toEqual({ got: { a: 1 } });
    const missing = await fetch(`${running.url}/no/such/page`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe(`${name} 404`);
    expect((await fetch(`${running.url}/app.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('runs the counter over the socket', async () => {
    page = await browser.newPage();
    const errors = collectPageErrors(page);
    await gotoLive(page, `${running.url}/counter`);
    await page.click('#inc');
    await page.waitForFunction('document.querySelector("#count").textContent === "1"');
    await page.click('#inc');
    await page.waitForFunction('document.querySelector("#count").textContent === "2"');
    expect(errors.unexpected()).toEqual([]);
  });

  it('uploads a file over the socket, byte-exact', async () => {
    const f = await makeRandomFile(join(root, 'src'), `${name}-photo.png`, 700_000);
    const errors = collectPageErrors(page);
    await gotoLive(page, `${running.url}/uploads/gallery`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('.entry img[src^="blob:"]');
    await page.click('#save');
    await page.waitForSelector(`#gallery img[alt="${name}-photo.png"]`);
    expect(await sha256OfFile(join(store(), 'uploads', `${name}-photo.png`))).toBe(f.sha);
    expect(errors.unexpected()).toEqual([]);
  });

  it('uploads a file in chunks to the receiver, byte-exact', async () => {
    const f = await makeRandomFile(join(root, 'src'), `${name}-video.bin`, 12 * 1024 * 1024 + 123);
    const errors = collectPageErrors(page);
    await gotoLive(page, `${running.url}/uploads/chunked`);
    await page.setInputFiles('input[type=file]', f.path);
    await page.waitForSelector('#saved li', { timeout: 60_000 });
    expect(await page.getAttribute('#saved li', 'data-sha256')).toBe(f.sha);
    expect(await sha256OfFile(join(store(), 'chunked', `${name}-video.bin`))).toBe(f.sha);
    expect(errors.unexpected()).toEqual([]);
  }, 90_000);
});
