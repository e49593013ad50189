/**
 * Upload abuse: declared sizes that lie both ways (more bytes than declared,
 * fewer bytes with a claimed 100 %), against a real server over real
 * sockets. Setup, profiles and knobs: ./harness.ts.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe as suite, expect, it } from 'vitest';
import { count, eventually, inline, sha, type Reply } from '../faults/support.js';
import { abuse, int, open, P, preflight, T, useAbuseServer } from './harness.js';

useAbuseServer();

suite('declared sizes that lie', () => {
  it('refuses more bytes than declared, shows the error, consumes nothing', async () => {
    const c = await open('/uploads/large');
    const reasons = new Map<string, number>();
    let shown = 0;
    for (let round = 0; round < P.sizeLies; round++) {
      const declared = int(1, 300_000);
      const p = await preflight(c, [{ name: `over-${round}.bin`, size: declared }]);
      const ref = p.refs[0] as string;
      const { joinRef, reply } = await c.joinEntry(ref, p.tokens[ref]);
      expect(reply.status).toBe('ok');
      // Chunks of random sizes (within chunk_size) until the declared size is passed.
      let sent = 0;
      let refused: Reply | undefined;
      while (!refused) {
        const n = int(1, Math.min(p.chunkSize, 200_000));
        const r = await c.chunk(ref, joinRef, randomBytes(n));
        if (r.status !== 'ok') refused = r;
        else sent += n;
        expect(sent).toBeLessThanOrEqual(declared);
      }
      count(reasons, String(refused.response.reason));
      expect(refused.response).toEqual({ reason: 'file_size_limit_exceeded', limit: declared });
      // The client may still claim 100 %.
      await c.progress(ref, 100);
      await eventually(() => /class="error"/.test(c.entryHtml(ref) ?? ''), 3000, 'error shown on the entry');
      if (/class="error"/.test(c.entryHtml(ref) ?? '')) shown++;
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      await c.submit();
      expect(c.html()).not.toContain('<li data-sha256');
      await c.click('cancel', { ref });
    }
    // A single chunk larger than chunk_size.
    const p = await preflight(c, [{ name: 'huge-chunk.bin', size: 3 * 1024 * 1024 }]);
    const ref = p.refs[0] as string;
    const { joinRef } = await c.joinEntry(ref, p.tokens[ref]);
    const r = await c.chunk(ref, joinRef, Buffer.alloc(p.chunkSize + 1));
    count(reasons, String(r.response.reason));
    expect(r.response).toEqual({ reason: 'chunk_too_large', limit: p.chunkSize });
    await c.click('cancel', { ref });
    expect((await readdir(join(abuse.store, 'files')).catch(() => [] as string[])).filter((n) => /^(over-|huge-chunk)/.test(n))).toEqual([]);
    abuse.figures.push(['over-size uploads refused', `${P.sizeLies} (${inline(reasons)}), error shown on ${shown}`]);
    c.close();
  }, T);

  it('never completes an entry that got fewer bytes than declared, whatever progress the client claims', async () => {
    const c = await open('/uploads/large');
    const claims = [100, 100.5, 1e308, 1000, 99.99999, 100];
    let refused = 0;
    let completedAfterRest = 0;
    for (let round = 0; round < P.sizeLies; round++) {
      const content = randomBytes(int(2, 200_000));
      const p = await preflight(c, [{ name: `short-${round}.bin`, size: content.length }]);
      const ref = p.refs[0] as string;
      const { joinRef } = await c.joinEntry(ref, p.tokens[ref]);
      const cut = int(0, content.length - 1);
      const send = async (from: number, to: number): Promise<void> => {
        for (let off = from; off < to; off += p.chunkSize) {
          expect(await c.chunk(ref, joinRef, content.subarray(off, Math.min(to, off + p.chunkSize)))).toEqual({ status: 'ok', response: {} });
        }
      };
      await send(0, cut);
      for (const claim of claims.slice(0, int(1, claims.length))) await c.progress(ref, claim);
      // Not done: not in done-refs, progress below 100, nothing consumed on save.
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      expect(c.entryHtml(ref)).toMatch(/<span class="pct">(\d|[1-9]\d)%<\/span>/);
      await c.submit();
      expect(c.html()).not.toContain('<li data-sha256');
      expect(c.entryHtml(ref)).toBeDefined();
      refused++;
      // The rest of the bytes, then 100: now it completes, byte-exact.
      await send(cut, content.length);
      await c.progress(ref, 100);
      expect(c.inputAttr('data-phx-done-refs')).toBe(ref);
      const done = await c.submit();
      expect(JSON.stringify(done.response)).toContain(sha(content));
      expect(sha(await readFile(join(abuse.store, 'files', `short-${round}.bin`)))).toBe(sha(content));
      completedAfterRest++;
    }
    // Progress claims without any channel at all, and on an unknown entry.
    const p = await preflight(c, [{ name: 'never-joined.bin', size: 5000 }]);
    const ref = p.refs[0] as string;
    for (const claim of [100, 100, 1e9]) await c.progress(ref, claim);
    await c.progress('no-such-ref', 100);
    expect(c.inputAttr('data-phx-done-refs')).toBe('');
    await c.submit();
    expect(c.html()).not.toContain('<li data-sha256');
    await c.click('cancel', { ref });
    abuse.figures.push(['short uploads claiming 100 %', `${refused} not completed; ${completedAfterRest} completed byte-exact once the rest arrived`]);
    c.close();
  }, T);
});
