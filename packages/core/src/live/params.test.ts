import { describe, expect, it } from 'vitest';
import { decodeForm } from './params.js';

describe('decodeForm', () => {
  it('nests bracketed names and collects lists', () => {
    expect({ ...decodeForm('user[name]=Ada&user[email]=a%40b.c&tags[]=x&tags[]=y&plain=1') }).toEqual({
      user: { name: 'Ada', email: 'a@b.c' },
      tags: ['x', 'y'],
      plain: '1',
    });
  });

  it('ignores prototype keys', () => {
    const out = decodeForm('__proto__[polluted]=1&a[constructor][x]=1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(out)).toEqual(['a']);
  });
});
