import { describe, expect, it } from 'vitest';
import { declaredLength, parseContentLength, parseContentRange, rangeHeader } from './content-range.js';

describe('parseContentRange', () => {
  it.each([
    ['bytes 0-1023/4096', { kind: 'bytes', start: 0, end: 1023, total: 4096 }],
    ['bytes 4095-4095/4096', { kind: 'bytes', start: 4095, end: 4095, total: 4096 }],
    ['  bytes 10-19/20  ', { kind: 'bytes', start: 10, end: 19, total: 20 }],
    ['bytes */4096', { kind: 'status', total: 4096 }],
    ['bytes */0', { kind: 'status', total: 0 }],
    ['bytes 0-999999999999998/999999999999999', { kind: 'bytes', start: 0, end: 999999999999998, total: 999999999999999 }],
  ])('accepts %j', (header, expected) => {
    expect(parseContentRange(header)).toEqual(expected);
  });

  it.each([
    undefined,
    '',
    'bytes',
    'bytes 0-10',
    'bytes 0-10/*',
    'bytes */*',
    'bytes 10-9/20',
    'bytes 0-20/20',
    'bytes -1-5/10',
    'bytes 0x1-5/10',
    'bytes 1.5-5/10',
    'items 0-1/2',
    'bytes=0-1/2',
    'bytes 0-1/2, bytes 2-3/4',
    'bytes 0-1/1000000000000000',
  ])('rejects %j', (header) => {
    expect(parseContentRange(header)).toBeUndefined();
  });
});

describe('declaredLength', () => {
  it('is end - start + 1 for bytes and 0 for a status query', () => {
    expect(declaredLength({ kind: 'bytes', start: 5, end: 14, total: 100 })).toBe(10);
    expect(declaredLength({ kind: 'status', total: 100 })).toBe(0);
  });
});

describe('parseContentLength', () => {
  it.each([
    [undefined, undefined],
    ['0', 0],
    ['1048576', 1048576],
    [' 12 ', 12],
    ['-1', null],
    ['1e3', null],
    ['12, 12', null],
    ['', null],
  ])('%j -> %j', (header, expected) => {
    expect(parseContentLength(header)).toBe(expected);
  });
});

describe('rangeHeader', () => {
  it('names the held prefix, or nothing when nothing is held', () => {
    expect(rangeHeader(0)).toBeUndefined();
    expect(rangeHeader(1)).toBe('bytes=0-0');
    expect(rangeHeader(5 * 1024 * 1024)).toBe('bytes=0-5242879');
  });
});
