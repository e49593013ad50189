/**
 * Tamper-proof tokens: `base64url(JSON) "." base64url(HMAC-SHA256)`, with a
 * purpose (salt) and an expiry inside the signed part. Verification is
 * constant-time and never throws on bad input.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InletError } from '../errors.js';

/** Shortest secret accepted. */
export const MIN_SECRET_LENGTH = 32;

interface Envelope {
  /** purpose */
  p: string;
  /** expiry, ms since the epoch */
  x: number;
  /** data */
  d: unknown;
}

/**
 * Signs and verifies tokens with one secret.
 *
 * @example
 * const signer = new Signer(process.env.INLET_SECRET!)
 * const t = signer.sign('session', { id: 'phx-1' }, 60_000)
 * signer.verify('session', t) // { id: 'phx-1' }
 */
export class Signer {
  readonly #key: Buffer;

  constructor(secret: string) {
    if (secret.length < MIN_SECRET_LENGTH) throw new InletError('INLET_ERR_CONFIG_SECRET_SHORT');
    this.#key = Buffer.from(secret, 'utf8');
  }

  sign(purpose: string, data: unknown, maxAgeMs: number, now = Date.now()): string {
    const envelope: Envelope = { p: purpose, x: now + maxAgeMs, d: data };
    const body = Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The data, or `undefined` if the token is forged, altered, expired or for another purpose. */
  verify<T = unknown>(purpose: string, token: unknown, now = Date.now()): T | undefined {
    if (typeof token !== 'string' || token.length > 64 * 1024) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#mac(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let envelope: Partial<Envelope>;
    try {
      envelope = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Envelope>;
    } catch {
      return undefined;
    }
    if (envelope.p !== purpose || typeof envelope.x !== 'number' || envelope.x < now) return undefined;
    return envelope.d as T;
  }

  /** A keyed digest of `value`, for deriving values such as CSRF tokens. */
  digest(purpose: string, value: string): string {
    return createHmac('sha256', this.#key).update(purpose).update('\0').update(value).digest('base64url');
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}

/** A random URL-safe id. */
export function randomId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Resolves the signing secret: the given one, else `INLET_SECRET`, else a
 * random one in development. In production (`NODE_ENV=production`) a missing
 * secret is a startup error.
 */
export function resolveSecret(secret: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const value = secret ?? env.INLET_SECRET;
  if (value !== undefined) {
    if (value.length < MIN_SECRET_LENGTH) throw new InletError('INLET_ERR_CONFIG_SECRET_SHORT');
    return value;
  }
  if (env.NODE_ENV === 'production') throw new InletError('INLET_ERR_CONFIG_SECRET');
  return randomBytes(32).toString('base64url');
}
