/**
 * Cookies (parsed and serialised with `cookie`) and what Inlet may believe
 * about a request that came through a proxy: whether the browser used TLS,
 * and which host it asked for.
 */
import type { IncomingMessage } from 'node:http';
import { parse, serialize, type SerializeOptions } from 'cookie';

/**
 * Which proxies' `X-Forwarded-Proto` / `X-Forwarded-Host` headers to believe:
 * `false` (none, the default), `true` (any peer: only when every request
 * comes through your proxy), or a list of the proxies' IP addresses.
 * @example
 * createServer({ routes, trustProxy: ['10.0.0.1', '10.0.0.2'] }) // X-Forwarded-Proto from these proxies only
 */
export type TrustProxy = boolean | readonly string[];

/** A request's cookies by name (the first of duplicates wins, undecodable values are kept raw). */
export function readCookies(header: string | undefined): Record<string, string> {
  if (!header) return {};
  const parsed = parse(header);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A `Set-Cookie` value. */
export function cookieHeader(name: string, value: string, options: SerializeOptions): string {
  return serialize(name, value, options);
}

function normaliseAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** Whether `req` came from a proxy we trust. */
export function fromTrustedProxy(req: IncomingMessage, trust: TrustProxy): boolean {
  if (trust === true) return true;
  if (trust === false) return false;
  const peer = normaliseAddress(req.socket.remoteAddress);
  return trust.some((a) => normaliseAddress(a) === peer);
}

function firstForwarded(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const first = raw?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/**
 * Whether the browser reached us over TLS: the socket is encrypted, or a
 * trusted proxy says `X-Forwarded-Proto: https`.
 *
 * @example
 * isSecureRequest(req, ['127.0.0.1']) // behind a local nginx terminating TLS
 */
export function isSecureRequest(req: IncomingMessage, trust: TrustProxy): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  if (!fromTrustedProxy(req, trust)) return false;
  return firstForwarded(req.headers['x-forwarded-proto'])?.toLowerCase() === 'https';
}

/** The host the browser asked for: a trusted proxy's `X-Forwarded-Host`, else `Host`. */
export function requestHost(req: IncomingMessage, trust: TrustProxy): string | undefined {
  if (fromTrustedProxy(req, trust)) {
    const forwarded = firstForwarded(req.headers['x-forwarded-host']);
    if (forwarded) return forwarded;
  }
  return req.headers.host;
}
