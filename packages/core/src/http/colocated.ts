/**
 * Serves the app's colocated hooks and scripts (`live/colocated.ts`) as one
 * script. Pages ask for it with `?v=<content hash>`: that URL is cached for
 * a year; any other (an old page after a change) gets the current script,
 * revalidated by ETag.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ColocatedRegistry } from '../live/colocated.js';

/** Sends the colocated script (or, with `css`, the stylesheet) for a GET or HEAD. */
export async function sendColocated(registry: ColocatedRegistry, req: IncomingMessage, res: ServerResponse, css = false): Promise<void> {
  const { text, hash } = css ? registry.styles() : registry.bundle();
  const etag = `"${hash}"`;
  const version = new URL(req.url ?? '/', 'http://x').searchParams.get('v');
  res.setHeader('Content-Type', css ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8');
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', version === hash ? 'public, max-age=31536000, immutable' : 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304).end();
    return;
  }
  const body = Buffer.from(text, 'utf8');
  res.setHeader('Content-Length', body.length);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : body);
}
