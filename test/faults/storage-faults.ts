/**
 * Storage faults during an upload: the writer failing in init, at a random
 * chunk or in close, or slow (on /faulty); the temp folder full and the
 * store full (8 MiB tmpfs; without tmpfs a writer throwing ENOSPC stands in
 * for the first, and the second is skipped).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { consumed, expectVisibleFailure, faultFile, faults, injected, int, KiB, MiB, outcomes, open, preflight, records, sources, visible, type Kind } from './harness.js';
import { count, eventually, sha, walk } from './support.js';

export function writerFault(directive: (chunks: number) => string): Kind {
  return async () => {
    const size = int(10 * KiB, 500 * KiB);
    const d = directive(Math.ceil(size / (64 * KiB)));
    const f = faultFile(size, d);
    const c = await open(faults.main.url, '/faulty');
    const p = await preflight(c, [{ name: f.name, size }]);
    const ref = p.refs[0] as string;
    const result = await c.sendFile(ref, p.tokens[ref], f.content, p.chunkSize);
    const kind = d.replace(/\d+$/, '');
    count(injected, `writer: ${kind}`);
    if (kind === 'slow') {
      expect(result).toBeUndefined();
      expect((await consumed(f.name)).ok).toBe(true);
      count(outcomes, 'slow writer: byte-exact');
    } else {
      expect(result).toBe('writer_error');
      // The client may still claim completion; it must not be believed.
      await c.progress(ref, 100);
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      await expectVisibleFailure(c, ref, `writer ${d}`);
      expect(c.entryHtml(ref) ?? '').toMatch(/could not be saved: injected/);
      expect(records.find((r) => r.name === f.name)).toBeUndefined();
      count(outcomes, `writer ${kind}: error shown`);
    }
    c.close();
  };
}

/** Three 4 MiB uploads at once into an 8 MiB temp folder. */
export const tmpFull: Kind = async () => {
  const { full } = faults;
  if (!full) return;
  const simulated = !full.mounted;
  const files = [0, 1, 2].map((i) => faultFile(4 * MiB, simulated && i === 2 ? `enospc${int(1, 4)}` : 'ok'));
  const c = await open(full.tmpServer.url, simulated ? '/big-simulated' : '/big');
  const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
  const results = await Promise.all(files.map((f, i) => c.sendFile(p.refs[i]!, p.tokens[p.refs[i]!], f.content, p.chunkSize)));
  for (const [i, r] of results.entries()) {
    const f = files[i]!;
    if (r === undefined) {
      expect((await consumed(f.name)).ok).toBe(true);
      count(outcomes, 'temp full: completed');
    } else {
      expect(r).toBe('writer_error');
      count(injected, 'disk: temp folder full');
      await expectVisibleFailure(c, p.refs[i]!, 'temp full');
      expect(c.entryHtml(p.refs[i]!) ?? '').toMatch(/ENOSPC/);
      count(outcomes, 'temp full: ENOSPC shown');
    }
  }
  c.close();
};

/** Two 5 MiB saves into an 8 MiB store: the second cannot fit. */
export const storeFull: Kind = async () => {
  const { full } = faults;
  if (!full?.mounted) return;
  const dest = join(full.storeDir, 'files');
  await rm(dest, { recursive: true, force: true });
  const c = await open(full.storeServer.url, '/uploads/large');
  for (let round = 0; round < 2; round++) {
    const content = randomBytes(5 * MiB);
    sources.add(sha(content));
    const p = await preflight(c, [{ name: `big-${round}.bin`, size: content.length }]);
    const ref = p.refs[0] as string;
    expect(await c.sendFile(ref, p.tokens[ref], content, p.chunkSize)).toBeUndefined();
    // A crashing view sends phx_error and no reply.
    const saved = await c
      .request('event', { type: 'form', event: 'save', value: '', meta: {} }, 5000)
      .catch((e: unknown) => ({ status: 'no reply', response: { error: String(e) } }));
    if (round === 0) {
      expect(JSON.stringify(saved.response)).toContain(sha(content));
      continue;
    }
    count(injected, 'disk: store full');
    // The save cannot complete: the view shows an error or crashes (and remounts without the entry).
    await eventually(() => c.viewEvents.includes('phx_error') || /class="error"/.test(c.html()), 5000, 'store full visible');
    count(outcomes, c.viewEvents.includes('phx_error') ? 'store full: view crashed, entry gone' : 'store full: error shown');
    if (c.viewEvents.includes('phx_error')) visible.gone++;
    else visible.shown++;
  }
  c.terminate();
  // No partial file may be left in the store under a real name.
  for (const name of await readdir(dest).catch(() => [] as string[])) {
    const h = sha(await readFile(join(dest, name)));
    if (!sources.has(h)) count(outcomes, 'store full: TRUNCATED FILE LEFT IN STORE');
  }
  await eventually(async () => (await walk(join(faults.tmp, 'c'))).length === 0, 5000, 'temp file of the failed save removed');
};

