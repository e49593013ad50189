/**
 * Static files through `send`: MIME types from `mime-types`, Range requests
 * (a stored video can seek), ETag + If-None-Match and Last-Modified
 * revalidation, and Cache-Control from the folder's options. Finding a file
 * and sending it are two steps, so a framework adapter can pass a request on
 * before answering anything; a failure while sending answers with its status
 * and is logged, never swallowed.
 */
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve, sep } from 'node:path';
import send from 'send';
import type { Logger } from '../logger.js';

/**
 * Default `Cache-Control: max-age` of static folders: 0, so browsers revalidate with the ETag every time.
 *
 * @example
 * // fingerprinted assets may be cached; other files keep the default (revalidate every time)
 * createServer({ routes, staticDirs: ['public', { root: 'dist/assets', path: '/assets', maxAgeMs: 31_536_000_000, immutable: true }] })
 */
export const DEFAULT_STATIC_MAX_AGE_MS = 0;

/**
 * A folder served as static files.
 *
 * @example
 * const assets: StaticDir = { root: 'dist/assets', path: '/assets', maxAgeMs: 86_400_000 }
 * createServer({ routes, staticDirs: [assets] })
 */
export interface StaticDir {
  /** The folder on disk. */
  readonly root: string;
  /** The URL path it is served under; default `/`. */
  readonly path?: string;
  /** `Cache-Control: max-age`, in ms. Default {@link DEFAULT_STATIC_MAX_AGE_MS} (revalidate each time). */
  readonly maxAgeMs?: number;
  /** Adds `immutable` to Cache-Control (for fingerprinted file names). Default false. */
  readonly immutable?: boolean;
}

/**
 * A `staticDirs` item: a folder served at `/`, or a {@link StaticDir}.
 * @example
 * createServer({ routes, staticDirs: ['public', { root: 'dist/assets', path: '/assets', maxAgeMs: 31_536_000_000, immutable: true }] })
 */
export type StaticDirOption = string | StaticDir;

/** The normalised form of a `staticDirs` item. */
export function toStaticDir(item: StaticDirOption): Required<StaticDir> {
  const dir = typeof item === 'string' ? { root: item } : item;
  const path = (dir.path ?? '/').replace(/\/+$/, '');
  return { root: dir.root, path: path === '' ? '/' : path, maxAgeMs: dir.maxAgeMs ?? DEFAULT_STATIC_MAX_AGE_MS, immutable: dir.immutable ?? false };
}

/** A file found in a static folder, ready to be sent. */
export interface StaticHit {
  readonly dir: Required<StaticDir>;
  /** The path inside the folder, as the URL gave it (send decodes and confines it). */
  readonly rel: string;
}

/** The part of `pathname` inside `dir`'s URL path, or undefined when it is outside. */
function relativeTo(dir: Required<StaticDir>, pathname: string): string | undefined {
  if (dir.path === '/') return pathname;
  return pathname.startsWith(`${dir.path}/`) ? pathname.slice(dir.path.length) : undefined;
}

/**
 * The first folder holding a regular file at `pathname`, or undefined (the
 * request is then someone else's). Only GET and HEAD are served. Dotfiles,
 * folders, NUL bytes and paths leaving the folder are never hits.
 *
 * @example
 * const hit = await findStatic([toStaticDir('public')], '/app.css', 'GET')
 * if (hit) await sendStatic(hit, req, res, logger)
 */
export async function findStatic(dirs: readonly Required<StaticDir>[], pathname: string, method: string | undefined): Promise<StaticHit | undefined> {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  for (const dir of dirs) {
    const rel = relativeTo(dir, pathname);
    if (rel === undefined) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(rel);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0') || decoded.split('/').some((part) => part.startsWith('.'))) continue;
    const base = resolve(dir.root);
    const full = resolve(base, `.${decoded}`);
    if (!full.startsWith(base + sep)) continue;
    try {
      if ((await stat(full)).isFile()) return { dir, rel };
    } catch {
      // not here; try the next folder
    }
  }
  return undefined;
}

/**
 * Sends a file {@link findStatic} found: 200, 206 for a Range, 304 when the
 * ETag or date still matches, 412/416 for failed preconditions and ranges.
 * A failure (the file vanished, a read error) answers with its status and,
 * when it is the server's fault, is logged.
 *
 * @example
 * await sendStatic(hit, req, res, logger)
 */
export function sendStatic(hit: StaticHit, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  const { dir, rel } = hit;
  return new Promise<void>((resolvePromise) => {
    const stream = send(req, rel, {
      root: dir.root,
      index: false,
      dotfiles: 'ignore',
      etag: true,
      lastModified: true,
      acceptRanges: true,
      maxAge: dir.maxAgeMs,
      immutable: dir.immutable,
    });
    stream.on('directory', () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
    });
    stream.on('headers', (response: ServerResponse) => {
      response.setHeader('x-content-type-options', 'nosniff');
    });
    stream.on('error', (err: Error & { status?: number; statusCode?: number }) => {
      const status = err.status ?? err.statusCode ?? 500;
      if (status >= 500) logger.error({ err, route: req.url }, 'static file failed');
      if (res.headersSent) res.destroy(err);
      else res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Error');
    });
    res.once('close', () => resolvePromise());
    res.once('finish', () => resolvePromise());
    // send leaves the status alone for a full 200 answer; a framework may have preset another (Koa presets 404).
    res.statusCode = 200;
    stream.pipe(res);
  });
}
