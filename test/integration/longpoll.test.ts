/**
 * The long-poll transport over real HTTP (port 0), spoken as the official
 * client's LongPoll speaks it: a GET opens a session (410 with a token),
 * POSTs carry newline-separated batches (binary frames in base64), GETs
 * wait for messages (200) or their window (204); a stale token is gone
 * (410, no token); a session whose client stops polling ends its views;
 * foreign origins and broken batches are refused without harm.
 */
import { createLiveView, html } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPage, type Frame, type PageInfo } from '../support/phoenix-ws.js';

const WINDOW_MS = 1500;
const unmounted = new Set<string>();

const Counter = createLiveView<{ count: number }>({
  mount: (socket) => socket.assign({ count: 0 }),
  handleEvent: (event, socket) => {
    if (event.type === 'inc') socket.assign({ count: socket.assigns.count + 1 });
    if (event.type === 'later') socket.sendInfo('tick', 500);
  },
  handleInfo: (_info, socket) => socket.assign({ count: socket.assigns.count + 10 }),
  unmount: (socket) => {
    if (socket.connected) unmounted.add(socket.id);
  },
  render: ({ count }) => html`<p id="count">count ${count}</p><button phx-click="inc">+</button>`,
});

let server: InletServer;
let off: InletServer;
beforeAll(async () => {
  server = createServer({ routes: { '/': Counter }, longPoll: { windowMs: WINDOW_MS } });
  off = createServer({ routes: { '/': Counter }, longPoll: false });
  await Promise.all([server.listen(0, '127.0.0.1'), off.listen(0, '127.0.0.1')]);
});
afterAll(async () => {
  await Promise.all([server.close(), off.close()]);
});

interface PollBody {
  status: number;
  token?: string;
  messages?: string[];
}

/** A long-poll client, as phoenix.js's LongPoll: token in the query, batches as ndjson. */
class LongPollClient {
  token?: string;
  readonly frames: Frame[] = [];
  #ref = 1;

  constructor(
    readonly base: string,
    readonly page: PageInfo,
    readonly headers: Record<string, string> = {},
  ) {}

  url(): string {
    const params = new URLSearchParams({ _csrf_token: this.page.csrf, vsn: '2.0.0', ...(this.token ? { token: this.token } : {}) });
    return `${this.base}/live/longpoll?${params}`;
  }

  async get(): Promise<PollBody> {
    const res = await fetch(this.url(), { headers: { accept: 'application/json', cookie: this.page.cookie, ...this.headers } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as PollBody;
    for (const m of body.messages ?? []) this.frames.push(JSON.parse(m) as Frame);
    return body;
  }

  async post(lines: (string | Buffer)[]): Promise<PollBody> {
    const body = lines.map((l) => (typeof l === 'string' ? l : l.toString('base64'))).join('\n');
    const res = await fetch(this.url(), { method: 'POST', headers: { 'content-type': 'application/x-ndjson', cookie: this.page.cookie, ...this.headers }, body });
    expect(res.status).toBe(200);
    return (await res.json()) as PollBody;
  }

  async open(): Promise<void> {
    const body = await this.get();
    expect(body).toEqual({ status: 410, token: expect.any(String), messages: [] });
    this.token = body.token;
  }

  frame(topic: string, event: string, payload: Record<string, unknown>, joinRef: string | null = '1'): string {
    return JSON.stringify([joinRef, String(this.#ref++), topic, event, payload]);
  }

  join(): string {
    const topic = `lv:${this.page.id}`;
    return this.frame(topic, 'phx_join', { url: `${this.base}/`, params: { _csrf_token: this.page.csrf, _mounts: 0 }, session: this.page.session, static: this.page.static });
  }

  /** Polls until a frame matching `match` arrived. */
  async until(match: (f: Frame) => boolean): Promise<Frame> {
    for (let i = 0; i < 20; i++) {
      const found = this.frames.find(match);
      if (found) return found;
      await this.get();
    }
    throw new Error('no such frame');
  }
}

const reply = (ref: string) => (f: Frame) => f[1] === ref && f[3] === 'phx_reply';

describe('long polling', () => {
  it('opens a session, joins a view, sends events and gets diffs back', async () => {
    const page = await fetchPage(server.url, '/');
    const lp = new LongPollClient(server.url, page);
    await lp.open();
    expect(await lp.post([lp.join()])).toEqual({ status: 200 });
    const joined = await lp.until(reply('1'));
    expect(JSON.stringify(joined[4])).toContain('count ');
    expect((joined[4] as { status: string }).status).toBe('ok');
    const topic = `lv:${page.id}`;
    // Two events in one batch, answered in order.
    await lp.post([lp.frame(topic, 'event', { type: 'click', event: 'inc', value: {} }), lp.frame(topic, 'event', { type: 'click', event: 'inc', value: {} })]);
    const second = await lp.until(reply('3'));
    expect(lp.frames.findIndex(reply('2'))).toBeLessThan(lp.frames.indexOf(second));
    expect(JSON.stringify(second[4])).toContain('"0":"2"');
  });

  it('a poll waits: answered 204 after its window, or as soon as a push arrives', async () => {
    const page = await fetchPage(server.url, '/');
    const lp = new LongPollClient(server.url, page);
    await lp.open();
    await lp.post([lp.join()]);
    await lp.until(reply('1'));
    let started = Date.now();
    expect(await lp.get()).toEqual({ status: 204, token: lp.token, messages: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW_MS - 20);
    // The event's reply comes at once; the info 500 ms later reaches a waiting poll before its window ends.
    await lp.post([lp.frame(`lv:${page.id}`, 'event', { type: 'click', event: 'later', value: {} })]);
    await lp.until(reply('2'));
    started = Date.now();
    const body = await lp.get();
    expect(body.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(WINDOW_MS);
    expect(JSON.stringify(lp.frames.at(-1))).toContain('"diff"');
    expect(JSON.stringify(lp.frames.at(-1))).toContain('"0":"10"');
  });

  it('carries binary frames in base64: decoded and routed like a WebSocket binary push', async () => {
    const page = await fetchPage(server.url, '/');
    const lp = new LongPollClient(server.url, page);
    await lp.open();
    // A binary push (kind 0) to a topic nobody joined: the connection decodes it and answers unmatched topic.
    const parts = ['9', '7', 'lvu:nope', 'chunk'].map((s) => Buffer.from(s));
    const push = Buffer.concat([Buffer.from([0, ...parts.map((p) => p.length)]), ...parts, Buffer.from([1, 2, 3])]);
    expect(await lp.post([push])).toEqual({ status: 200 });
    const answer = await lp.until((f) => f[1] === '7');
    expect(answer).toEqual(['9', '7', 'lvu:nope', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }]);
  });

  it('refuses broken batches (bad base64) and a foreign origin, and says a stale token is gone', async () => {
    const page = await fetchPage(server.url, '/');
    const lp = new LongPollClient(server.url, page);
    await lp.open();
    expect(await lp.post(['not base64 at all!'])).toEqual({ status: 400 });
    // The session survives a bad batch.
    expect(await lp.post([lp.join()])).toEqual({ status: 200 });
    await lp.until(reply('1'));

    const foreign = new LongPollClient(server.url, page, { origin: 'https://evil.example' });
    expect(await foreign.get()).toEqual({ status: 403 });

    const stale = new LongPollClient(server.url, page);
    stale.token = 'no-such-session';
    // 410 without a token: the client's LongPoll reports "session gone" and reconnects afresh.
    expect(await stale.get()).toEqual({ status: 410 });
    expect(await stale.post([stale.join()])).toEqual({ status: 410 });
  });

  it('a session whose client stops polling ends, and its views with it', async () => {
    const page = await fetchPage(server.url, '/');
    const lp = new LongPollClient(server.url, page);
    await lp.open();
    await lp.post([lp.join()]);
    await lp.until(reply('1'));
    expect(unmounted.has(page.id)).toBe(false);
    await expect.poll(() => unmounted.has(page.id), { timeout: WINDOW_MS * 6, interval: 50 }).toBe(true);
    expect(await lp.get()).toEqual({ status: 410 });
  });

  it('is not served with longPoll: false', async () => {
    const res = await fetch(`${off.url}/live/longpoll?vsn=2.0.0`);
    expect(res.status).toBe(404);
  });
});
