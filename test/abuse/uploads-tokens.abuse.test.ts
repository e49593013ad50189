/**
 * Upload abuse: forged, altered, replayed, expired, cross-view, cross-entry
 * and earlier-mount upload tokens, at volume, against a real server over
 * real sockets. Setup, profiles and knobs: ./harness.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe as suite, expect, it } from 'vitest';
import { Signer } from '../../packages/core/src/live/tokens.js';
import { count, inline, sha, type LiveClient } from '../faults/support.js';
import { abuse, int, open, P, pick, preflight, SECRET, T, useAbuseServer } from './harness.js';

useAbuseServer();

suite('upload tokens at volume', () => {
  it(`refuses ${P.tokens} forged, altered, expired, foreign, cross-view, cross-entry and earlier-mount tokens`, async () => {
    const a = await open('/uploads/large');
    const b = await open('/uploads/large');
    const pa = await preflight(a, [{ name: 'a0.bin', size: 1000 }, { name: 'a1.bin', size: 1000 }]);
    const pb = await preflight(b, [{ name: 'b0.bin', size: 1000 }]);
    const [a0, a1] = pa.refs as [string, string];
    const b0 = pb.refs[0] as string;
    const tokenA0 = pa.tokens[a0] as string;
    const tokenB0 = pb.tokens[b0] as string;
    const dataA0 = JSON.parse(Buffer.from(tokenA0.split('.')[0] as string, 'base64url').toString()).d as Record<string, string>;
    // A token of an earlier mount: preflight on a view, then remount it on the same socket.
    const c = await open('/uploads/large');
    const pc = await preflight(c, [{ name: 'c0.bin', size: 1000 }]);
    const c0 = pc.refs[0] as string;
    const oldMountToken = pc.tokens[c0] as string;
    await c.join();
    const pc2 = await preflight(c, [{ name: 'c1.bin', size: 1000 }]);
    const c1 = pc2.refs[0] as string;

    const own = new Signer(SECRET);
    const other = new Signer('another-secret-another-secret-0000');
    const flip = (t: string, at: number): string => {
      const chars = [...t];
      const i = Math.min(chars.length - 2, Math.max(0, at)); // never the last char: its low bits carry no data
      chars[i] = chars[i] === 'A' ? 'B' : 'A';
      return chars.join('');
    };
    type Attempt = { kind: string; client: LiveClient; topicRef: string; token: unknown };
    const kinds: (() => Attempt)[] = [
      () => ({ kind: 'garbage', client: a, topicRef: a0, token: randomBytes(int(0, 300)).toString(pick(['base64url', 'hex', 'latin1'] as const)) }),
      () => ({ kind: 'altered body', client: a, topicRef: a0, token: flip(tokenA0, int(0, tokenA0.indexOf('.') - 1)) }),
      () => ({ kind: 'altered mac', client: a, topicRef: a0, token: flip(tokenA0, int(tokenA0.indexOf('.') + 1, tokenA0.length - 2)) }),
      () => ({ kind: 'other secret', client: a, topicRef: a0, token: other.sign('upload', dataA0, 60_000) }),
      () => ({ kind: 'other purpose', client: a, topicRef: a0, token: own.sign('session', dataA0, 60_000) }),
      () => ({ kind: 'expired', client: a, topicRef: a0, token: own.sign('upload', dataA0, -int(1, 10 * 60_000)) }),
      () => ({ kind: 'non-string', client: a, topicRef: a0, token: pick([42, null, true, { token: tokenA0 }, [tokenA0], 'x'.repeat(70_000)]) }),
      () => ({ kind: 'cross-view', client: a, topicRef: b0, token: tokenB0 }),
      () => ({ kind: 'cross-entry', client: a, topicRef: a1, token: tokenA0 }),
      () => ({ kind: 'earlier mount', client: c, topicRef: c0, token: oldMountToken }),
      () => ({ kind: 'earlier mount, new ref', client: c, topicRef: c1, token: oldMountToken }),
      () => ({ kind: 'valid data, unknown view', client: a, topicRef: a0, token: own.sign('upload', { ...dataA0, v: 'phx-nope' }, 60_000) }),
    ];
    const outcomes = new Map<string, number>();
    const accepted: string[] = [];
    const started = Date.now();
    for (let i = 0; i < P.tokens; i++) {
      const attempt = (kinds[i % kinds.length] as () => Attempt)();
      const { reply } = await attempt.client.joinEntry(attempt.topicRef, attempt.token);
      const reason = reply.status === 'ok' ? 'ok' : String(reply.response.reason);
      count(outcomes, `${attempt.kind}: ${reason}`);
      if (reply.status === 'ok') accepted.push(attempt.kind);
    }
    const ms = Date.now() - started;

    // Replays of a real token: while uploading, once complete, after consume, and on another socket.
    const content = randomBytes(1000);
    expect(await a.sendFile(a0, tokenA0, content, pa.chunkSize)).toBeUndefined();
    const replays = new Map<string, number>();
    for (let i = 0; i < Math.ceil(P.tokens / 10); i++) count(replays, `complete: ${String((await a.joinEntry(a0, tokenA0)).reply.response.reason)}`);
    const saved = await a.submit();
    expect(JSON.stringify(saved.response)).toContain(sha(content));
    for (let i = 0; i < Math.ceil(P.tokens / 10); i++) count(replays, `consumed: ${String((await a.joinEntry(a0, tokenA0)).reply.response.reason)}`);
    for (let i = 0; i < Math.ceil(P.tokens / 10); i++) count(replays, `other socket: ${String((await b.joinEntry(a0, tokenA0)).reply.response.reason)}`);

    abuse.figures.push(['token attempts refused', `${P.tokens - accepted.length}/${P.tokens} in ${ms} ms`]);
    abuse.figures.push(['token outcomes', inline(outcomes)]);
    abuse.figures.push(['replays', inline(replays)]);
    expect(accepted).toEqual([]);
    for (const key of outcomes.keys()) expect(key).toMatch(/: invalid_token$/);
    expect([...replays.keys()].sort()).toEqual(['complete: already_registered', 'consumed: disallowed', 'other socket: invalid_token']);
    // The views are still alive and the real token of b still works.
    expect((await b.joinEntry(b0, tokenB0)).reply.status).toBe('ok');
    a.close();
    b.close();
    c.close();
  }, T);
});
