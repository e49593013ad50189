import { describe, expect, it } from 'vitest';
import { resolveSecret, Signer } from './tokens.js';

const secret = 'x'.repeat(40);

describe('Signer', () => {
  it('round-trips data for the same purpose', () => {
    const s = new Signer(secret);
    expect(s.verify('session', s.sign('session', { id: 'a' }, 1000))).toEqual({ id: 'a' });
  });

  it('rejects tampered, foreign, expired and wrong-purpose tokens', () => {
    const s = new Signer(secret);
    const t = s.sign('session', { id: 'a' }, 1000, 0);
    const [body, mac] = t.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ p: 'session', x: 9e15, d: { id: 'admin' } })).toString('base64url');
    expect(s.verify('session', `${forgedBody}.${mac}`, 10)).toBeUndefined();
    expect(s.verify('session', `${body}.${mac.slice(0, -2)}AA`, 10)).toBeUndefined();
    expect(new Signer('y'.repeat(40)).verify('session', t, 10)).toBeUndefined();
    expect(s.verify('session', t, 2000)).toBeUndefined();
    expect(s.verify('static', t, 10)).toBeUndefined();
    expect(s.verify('session', 42)).toBeUndefined();
    expect(s.verify('session', 'no-dot')).toBeUndefined();
  });

  it('requires a long secret, and one in production', () => {
    expect(() => new Signer('short')).toThrow(/at least 32/);
    expect(() => resolveSecret(undefined, { NODE_ENV: 'production' })).toThrow(/INLET_SECRET/);
    expect(resolveSecret(undefined, {}).length).toBeGreaterThanOrEqual(32);
    expect(resolveSecret(undefined, { INLET_SECRET: secret })).toBe(secret);
  });
});
