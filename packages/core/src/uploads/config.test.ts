import { describe, expect, it } from 'vitest';
import { autoChunkSize, autoChunkTimeout, isAccepted, resolveOptions } from './config.js';

describe('automatic chunk size and timeout', () => {
  it.each([
    [1, 64 * 1024],
    [1_000_000, 64 * 1024],
    [5 * 1024 * 1024, 256 * 1024],
    [10_000_000, 512 * 1024],
    [100 * 1024 * 1024, 4 * 1024 * 1024],
    [1024 ** 3, 4 * 1024 * 1024],
  ])('a file of %d bytes gets %d-byte chunks', (size, chunk) => {
    expect(autoChunkSize(size)).toBe(chunk);
  });

  it('gives each chunk time to cross a 1 Mbit/s uplink, and never less than 10 s', () => {
    expect(autoChunkTimeout(64 * 1024)).toBe(10_000);
    expect(autoChunkTimeout(4 * 1024 * 1024)).toBe(32_000);
  });

  it('keeps explicit numbers and refuses bad ones', () => {
    expect(resolveOptions({ chunkSize: 65_536, chunkTimeout: 5000 })).toMatchObject({ chunkSize: 65_536, chunkTimeout: 5000 });
    expect(resolveOptions({})).toMatchObject({ chunkSize: 'auto', chunkTimeout: 'auto', maxEntries: 1, maxFileSize: 8_000_000 });
    expect(() => resolveOptions({ chunkSize: 9 * 1024 * 1024 })).toThrow(/chunkSize/);
    expect(() => resolveOptions({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(resolveOptions({ maxExcessEntries: 5 }).maxExcessEntries).toBe(5);
    expect(resolveOptions({}).maxExcessEntries).toBe(50);
    expect(() => resolveOptions({ accept: ['png'] })).toThrow(/accept/);
  });
});

describe('accept rules', () => {
  it.each([
    [['.png'], 'A.PNG', '', true],
    [['.jpg'], 'photo', 'image/jpeg', true],
    [['image/*'], 'x', 'image/webp', true],
    [['image/*'], 'x.png', 'text/plain', false],
    [['application/pdf'], 'x', 'application/pdf', true],
    [['.txt'], 'evil.txt.exe', 'application/x-msdownload', false],
  ] as const)('%j accepts %s (%s): %s', (accept, name, type, ok) => {
    expect(isAccepted(accept, name, type)).toBe(ok);
  });
});
