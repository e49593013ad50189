/**
 * Static files through `send`: MIME types from `mime-types`, Range requests
 * (a stored video can seek), ETag + If-None-Match and Last-Modified
 * revalidation, and Cache-Control from the folder's options. A missing file
 * or a folder falls through to the next handler; every other failure answers
 * with its status and is logged, never swallowed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import send from 'send';
import type { Logger } from '../logger.js';

/** Default `Cache-Control: max-age` of static folders: 0, so browsers revalidate with the ETag every time. */
export const DEFAULT_STATIC_MAX_AGE_MS = 0;

/** A folder served as static files. */
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

/** A `staticDirs` item: a folder served at `/`, or a {@link StaticDir}. */
export type StaticDirOption = string | StaticDir;

/** The normalised form of a `staticDirs` item. */
export function toStaticDir(item: StaticDirOption): Required<StaticDir> {
  const dir = typeof item === 'string' ? { root: item } : item;
  const path = (dir.path ?? '/').replace(/\/+$/, '');
  return { root: dir.root, path: path === '' ? '/' : path, maxAgeMs: dir.maxAgeMs ?? DEFAULT_STATIC_MAX_AGE_MS, immutable: dir.immutable ?? false };
}

/**
 * Serves `pathname` from `dir` when a file is there. Resolves to false when
 * the request is not for this folder or no such file exists (nothing is
 * written then), true once a response (file, 304, 206, 412, 416…) is sent.
 *
 * @example
 * if (await serveStatic(toStaticDir('public'), url.pathname, req, res, logger)) return
 */
export function serveStatic(dir: Required<StaticDir>, pathname: string, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return Promise.resolve(false);
  let rel: string;
  if (dir.path === '/') rel = pathname;
  else if (pathname.startsWith(`${dir.path}/`)) rel = pathname.slice(dir.path.length);
  else return Promise.resolve(false);
  if (rel.includes('\0') || rel.includes('%00')) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
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
    stream.on('directory', () => resolve(false));
    stream.on('headers', (response: ServerResponse) => {
      response.setHeader('x-content-type-options', 'nosniff');
    });
    stream.on('error', (err: Error & { status?: number; statusCode?: number }) => {
      const status = err.status ?? err.statusCode ?? 500;
      if (status === 404 && !res.headersSent) {
        resolve(false);
        return;
      }
      if (status >= 500) logger.error({ err, route: pathname }, 'static file failed');
      if (res.headersSent) res.destroy(err);
      else res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : 'Error');
      resolve(true);
    });
    res.once('finish', () => resolve(true));
    res.once('close', () => resolve(true));
    stream.pipe(res);
  });
}
