/**
 * Upload abuse: change events of 10,000 entries each, over and over; the
 * server must stay bounded and responsive. Setup, profiles and knobs:
 * ./harness.ts.
 */
import { describe as suite, expect, it } from 'vitest';
import { describe, mib, rss } from '../faults/support.js';
import { abuse, int, open, P, T, useAbuseServer } from './harness.js';

useAbuseServer();

suite('10,000-entry change events, repeated', () => {
  it(`bounds ${P.bigChanges} change events of 10,000 entries each and stays responsive`, async () => {
    const before = rss();
    const times: number[] = [];
    let c = await open('/uploads/large');
    for (let i = 0; i < P.bigChanges; i++) {
      if (i > 0 && i % 5 === 0) {
        c.close();
        c = await open('/uploads/large');
      }
      // Fresh refs every time; every third event reuses the previous refs; one in four carries 600-character names.
      const longNames = i % 4 === 3;
      const entries = Array.from({ length: 10_000 }, (_, k) => describe(`${longNames ? 'n'.repeat(600) : 'f'}${i}-${k}.bin`, int(1, 1e9)));
      const started = Date.now();
      const r = await c.change(entries);
      times.push(Date.now() - started);
      expect(r.status).toBe('ok');
      expect(c.html()).toContain('Too many files: choose at most 5.');
      expect((c.html().match(/class="entry"/g) ?? []).length).toBe(55);
      const click = await c.click('noop');
      expect(click.status).toBe('ok');
    }
    c.close();
    const after = rss();
    const sorted = [...times].sort((x, y) => x - y);
    abuse.figures.push([`${P.bigChanges} × 10,000-entry change events`, `median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`]);
    abuse.figures.push(['  runner RSS (client + server) before → after', `${mib(before)} → ${mib(after)}`]);
    expect(Math.max(...times)).toBeLessThan(10_000);
    expect(after - before).toBeLessThan(512 * 1024 * 1024);
  }, T);
});
