/**
 * A protocol-level client for integration tests: fetches a page over HTTP,
 * opens the socket with its cookie and CSRF token, and speaks Phoenix V2
 * frames with `ws`.
 */
import WebSocket from 'ws';

export type Frame = [string | null, string | null, string, string, Record<string, unknown>];

export interface PageInfo {
  id: string;
  session: string;
  static: string;
  csrf: string;
  cookie: string;
  html: string;
}

/**
 * GETs a page. A GET that fails at the network level is tried once more, as
 * browsers do: with the test's server in the same process, a stalled event
 * loop can let the server's keep-alive timeout close a pooled socket just as
 * fetch reuses it (ECONNRESET on a fresh request).
 */
async function getPage(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return fetch(url, init);
  }
}

/**
 * GETs `path` and reads the live container's tokens. With `cookie` (a
 * previous page's), the request comes from the same browser session.
 */
export async function fetchPage(base: string, path: string, cookie?: string): Promise<PageInfo> {
  const res = await getPage(base + path, cookie ? { headers: { cookie } } : undefined);
  const html = await res.text();
  const minted = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  cookie = minted || cookie || '';
  const id = /<div id="([^"]+)" data-phx-main/.exec(html)?.[1];
  const session = /data-phx-session="([^"]+)"/.exec(html)?.[1];
  const stat = /data-phx-static="([^"]+)"/.exec(html)?.[1];
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
  if (!id || !session || !stat || !csrf) throw new Error(`no live page at ${path}: ${res.status}`);
  return { id, session, static: stat, csrf, cookie, html };
}

export class PhoenixClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  closed?: { code: number; reason: string };
  #ref = 1;
  readonly #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      const i = this.#waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(frame);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.#waiters.splice(0)) w.reject(new Error(`socket closed (${code})`));
    });
  }

  static async connect(base: string, page: Pick<PageInfo, 'csrf' | 'cookie'> | undefined, extraQuery = ''): Promise<PhoenixClient> {
    const url = `${base.replace('http', 'ws')}/live/websocket?${page ? `_csrf_token=${encodeURIComponent(page.csrf)}&` : ''}vsn=2.0.0${extraQuery}`;
    const ws = new WebSocket(url, { headers: page ? { cookie: page.cookie } : {} });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new PhoenixClient(ws);
  }

  nextRef(): string {
    return String(this.#ref++);
  }

  /** Resolves with the close code and reason once the server has closed the socket (rejects after `timeoutMs`). */
  whenClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the socket to close')), timeoutMs);
      this.ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Waits for a frame matching `match` that has not arrived yet. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Sends a frame and resolves with the reply `{status, response}`. */
  async request(joinRef: string | null, topic: string, event: string, payload: unknown): Promise<{ status: string; response: Record<string, unknown> }> {
    const ref = this.nextRef();
    const reply = this.waitFor((f) => f[1] === ref && f[3] === 'phx_reply');
    this.ws.send(JSON.stringify([joinRef, ref, topic, event, payload]));
    return (await reply)[4] as { status: string; response: Record<string, unknown> };
  }

  /** Joins a view topic for a fetched page. */
  async joinView(base: string, page: PageInfo, path: string): Promise<{ joinRef: string; topic: string; reply: { status: string; response: Record<string, unknown> } }> {
    const joinRef = String(this.#ref);
    const topic = `lv:${page.id}`;
    const reply = await this.request(joinRef, topic, 'phx_join', {
      url: base + path,
      params: { _csrf_token: page.csrf, _mounts: 0 },
      session: page.session,
      static: page.static,
      sticky: false,
    });
    return { joinRef, topic, reply };
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  close(): void {
    this.ws.close();
  }
}
