/**
 * The dead render over HTTP: the CSRF cookie (read or minted), the session,
 * the page (200), a redirect asked for by `mount` (302), or 404/405.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveApp } from '../live/app.js';
import type { Session } from '../live/view.js';
import { cookieHeader, readCookies } from './cookies.js';

/** A CSRF cookie value Inlet minted (and so accepts back). */
const CSRF_SECRET_RE = /^[A-Za-z0-9_-]{16,64}$/;

/** What {@link renderPageResponse} needs to know about the request. */
export interface PageRequest {
  /** The URL as the browser saw it. */
  readonly url: URL;
  /** Whether the browser used TLS (the cookie is then `Secure`). */
  readonly secure: boolean;
  readonly csrfCookie: string;
  readonly session: () => Session | Promise<Session>;
}

/**
 * Renders the live view at `page.url` into `res`.
 *
 * @example
 * await renderPageResponse(app, req, res, { url, secure: false, csrfCookie: '_inlet_csrf', session: () => ({}) })
 */
export async function renderPageResponse(app: LiveApp, req: IncomingMessage, res: ServerResponse, page: PageRequest): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end('Method Not Allowed');
    return;
  }
  let secret = readCookies(req.headers.cookie)[page.csrfCookie];
  const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };
  if (!secret || !CSRF_SECRET_RE.test(secret)) {
    secret = randomBytes(18).toString('base64url');
    headers['set-cookie'] = cookieHeader(page.csrfCookie, secret, { path: '/', httpOnly: true, sameSite: 'lax', secure: page.secure });
  }
  const session = (await page.session()) ?? {};
  const result = await app.renderPage(page.url, session, app.csrfToken(secret), req);
  if (result.status === 404) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
    return;
  }
  if (result.status === 302) {
    res.writeHead(302, { ...headers, location: result.location }).end();
    return;
  }
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : result.html);
}
