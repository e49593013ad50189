/**
 * Token tampering for the fuzz cases: bit flips, cuts, swaps, and tokens
 * signed with the server's secret (expired, wrong purpose, another id) or
 * with a wrong one.
 */
import fc from 'fast-check';
import { Signer } from '../../packages/core/src/live/tokens.js';
import { anyValue, nastyString } from './gen.js';

const WRONG_SIGNER = new Signer('not-the-server-secret-0123456789abcdef');
export const TTL = 60 * 60_000;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export type TokenMut =
  | 'keep' | 'swap' | 'empty' | 'expired' | 'purpose' | 'otherId' | 'forged' | 'wrongKey' | 'dotless' | 'noMac' | 'missing' | 'huge' | 'crossed'
  | { op: 'flip'; at: number; to: number }
  | { op: 'cut'; at: number }
  | { op: 'append'; s: string }
  | { op: 'value'; v: unknown };

export const tokenMut: fc.Arbitrary<TokenMut> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<TokenMut>('keep') },
  {
    weight: 6,
    arbitrary: fc.constantFrom<TokenMut>('swap', 'empty', 'expired', 'purpose', 'otherId', 'forged', 'wrongKey', 'dotless', 'noMac', 'missing', 'huge', 'crossed'),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), to: fc.nat(63) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('append' as const), s: nastyString }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('value' as const), v: anyValue }) },
);

/** The data inside a token (no verification). */
export function tokenData(token: string): unknown {
  try {
    return (JSON.parse(Buffer.from(token.slice(0, token.lastIndexOf('.')), 'base64url').toString('utf8')) as { d: unknown }).d;
  } catch {
    return undefined;
  }
}

/**
 * Applies a mutation to a genuine token. `data` is what the token carries,
 * `other` a genuine token of the same purpose for something else, `crossed`
 * a genuine token of another purpose. Returns `undefined` to omit the field.
 */
export function mutateToken(m: TokenMut, token: string, purpose: string, data: Record<string, unknown>, other: string, crossed: string, signer: Signer): unknown {
  if (typeof m === 'object') {
    switch (m.op) {
      case 'flip': {
        const at = m.at % token.length;
        let c = B64URL[m.to] as string;
        if (c === token[at]) c = B64URL[(m.to + 1) % 64] as string;
        return token.slice(0, at) + c + token.slice(at + 1);
      }
      case 'cut':
        return token.slice(0, m.at % token.length);
      case 'append':
        return token + m.s;
      case 'value':
        return m.v;
    }
  }
  switch (m) {
    case 'keep':
      return token;
    case 'swap':
      return other;
    case 'crossed':
      return crossed;
    case 'empty':
      return '';
    case 'missing':
      return undefined;
    case 'expired':
      return signer.sign(purpose, data, -1);
    case 'purpose':
      return signer.sign(purpose === 'session' ? 'static' : 'session', data, TTL);
    case 'otherId':
      return signer.sign(purpose, { ...data, id: 'phx-someone-else', v: 'phx-someone-else', e: 'other' }, TTL);
    case 'forged':
      return signer.sign(purpose, data, TTL);
    case 'wrongKey':
      return WRONG_SIGNER.sign(purpose, data, TTL);
    case 'dotless':
      return token.replace('.', '');
    case 'noMac':
      return token.slice(0, token.lastIndexOf('.') + 1);
    case 'huge':
      return token + 'A'.repeat(70_000);
  }
}
