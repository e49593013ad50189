/**
 * The dead render over HTTP: the CSRF cookie (read or minted), the session,
 * the flash a redirect carried, the page (200), a redirect asked for by
 * `mount` (302), 404/405, and error pages: a view that throws answers with
 * its error's status, and so does the reload after a connected mount failed
 * with a 4xx.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveApp } from '../live/app.js';
import { errorStatus, statusText } from '../live/error-status.js';
import { RELOAD_STATUS_COOKIE } from '../live/live-channel.js';
import { TOKEN_PURPOSE } from '../live/markup.js';
import type { Session } from '../live/view.js';
import { cookieHeader, readCookies } from './cookies.js';

/** A CSRF cookie value Inlet minted (and so accepts back). */
const CSRF_SECRET_RE = /^[A-Za-z0-9_-]{16,64}$/;

/** The cookie the official client sets when a redirect carries flash (read once, then deleted). */
export const FLASH_COOKIE = '__phoenix_flash__';

/** Renders the body of an error page; the default is the status's reason phrase. */
export type ErrorPage = (status: number, error: unknown) => string;

/** The default error page: the status's reason phrase, nothing else (no scripts, so no reconnect loop). */
export const defaultErrorPage: ErrorPage = (status) => statusText(status);

/** What {@link renderPageResponse} needs to know about the request. */
export interface PageRequest {
  /** The URL as the browser saw it. */
  readonly url: URL;
  /** Whether the browser used TLS (the cookie is then `Secure`). */
  readonly secure: boolean;
  readonly csrfCookie: string;
  readonly session: () => Session | Promise<Session>;
  /** The error page; default {@link defaultErrorPage}. */
  readonly errorPage?: ErrorPage;
}

function isFlash(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((m) => typeof m === 'string');
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
  const cookies = readCookies(req.headers.cookie);
  const setCookies: string[] = [];
  const expire = (name: string) => setCookies.push(cookieHeader(name, '', { path: '/', maxAge: 0, secure: page.secure, sameSite: 'lax' }));
  const headers: Record<string, string | string[]> = { 'content-type': 'text/html; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };
  const sendError = (status: number, e: unknown) => {
    if (setCookies.length > 0) headers['set-cookie'] = setCookies;
    let body: string;
    try {
      body = (page.errorPage ?? defaultErrorPage)(status, e);
    } catch (pageError) {
      app.logger.error({ err: pageError, route: page.url.pathname, status }, 'the error page failed');
      body = statusText(status);
    }
    res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : body);
  };

  // The client reloads after a connected mount failed with a 4xx: answer with that status.
  const reload = cookies[RELOAD_STATUS_COOKIE];
  if (reload !== undefined) {
    expire(RELOAD_STATUS_COOKIE);
    const data = app.signer.verify<{ status?: unknown }>(TOKEN_PURPOSE.RELOAD, reload);
    const status = typeof data?.status === 'number' && data.status >= 400 && data.status <= 599 ? data.status : 500;
    sendError(status, undefined);
    return;
  }

  let secret = cookies[page.csrfCookie];
  if (!secret || !CSRF_SECRET_RE.test(secret)) {
    secret = randomBytes(18).toString('base64url');
    setCookies.push(cookieHeader(page.csrfCookie, secret, { path: '/', httpOnly: true, sameSite: 'lax', secure: page.secure }));
  }
  let flash: Record<string, string> | undefined;
  const flashToken = cookies[FLASH_COOKIE];
  if (flashToken !== undefined) {
    expire(FLASH_COOKIE);
    const data = app.signer.verify(TOKEN_PURPOSE.FLASH, flashToken);
    if (isFlash(data)) flash = data;
  }

  let result;
  try {
    const session = (await page.session()) ?? {};
    result = await app.renderPage(page.url, session, app.csrfToken(secret), { request: req, ...(flash ? { flash } : {}) });
  } catch (e) {
    const status = errorStatus(e);
    if (status >= 500) app.logger.error({ err: e, route: page.url.pathname, status }, 'rendering a page failed');
    sendError(status, e);
    return;
  }
  if (setCookies.length > 0) headers['set-cookie'] = setCookies;
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
