import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../config.js';
import { MemoryQuotaCounter, quotaRefusal } from './quota.js';

describe('upload quota', () => {
  it.each([
    [{ ok: false as const, usage: { bytes: 900_000_000, files: 3 }, exceeded: 'bytes' as const }, 200_000_000, { maxBytes: 1_000_000_000 }, 'This file (200.0 MB) would go over your upload quota: 900.0 MB of 1.0 GB used.'],
    [{ ok: false as const, usage: { bytes: 0, files: 5 }, exceeded: 'files' as const }, 10, { maxFiles: 5 }, 'You have reached your limit of 5 files (5 used), so this file was not uploaded.'],
  ])('explains a refusal in plain words (%#)', (result, bytes, limits, message) => {
    expect(quotaRefusal(result, bytes, limits)).toBe(message);
  });

  it('allowUpload checks the quota option and names what is wrong', () => {
    const counter = new MemoryQuotaCounter();
    expect(() => resolveOptions({ quota: { counter, key: 'user:1', maxBytes: 10 } })).not.toThrow();
    expect(() => resolveOptions({ quota: { key: 'user:1' } as never })).toThrow(/quota\.counter/);
    expect(() => resolveOptions({ quota: { counter, key: '' } })).toThrow(/quota\.key/);
    expect(() => resolveOptions({ quota: { counter, key: 'k', maxBytes: -1 } })).toThrow(/quota\.maxBytes/);
    expect(() => resolveOptions({ quota: { counter: {} as never, key: 'k' } })).toThrow(/quota\.counter/);
  });
});
