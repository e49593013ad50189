import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entryFromClient } from './config.js';
import { sniffFirstChunk, type SniffOption } from './sniff.js';

const HEADS = {
  png: Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000ffff49444154', 'hex'),
  jpg: Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
  exe: Buffer.from('4d5a90000300000004000000ffff0000', 'hex'),
  zip: Buffer.from('504b0304140000000800', 'hex'),
  text: Buffer.from('just some words, no magic here\n'),
  xml: Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
} as const;

function entry(name: string, type = '') {
  const e = entryFromClient({ ref: '0', name, type, size: 1000 }, { name: 'files', ref: 'c' });
  if (!e) throw new Error('entry');
  return e;
}

async function check(accept: readonly string[] | 'any', name: string, head: Buffer, type = '', sniff: SniffOption = true) {
  return sniffFirstChunk({ accept, entry: entry(name, type), firstBytes: Buffer.concat([head, randomBytes(2000)]), sniff });
}

describe('sniffFirstChunk', () => {
  it.each([
    ['a real png', ['.png'], 'a.png', HEADS.png, undefined],
    ['a png named .jpg when png is accepted too', ['.png', '.jpg'], 'a.jpg', HEADS.png, undefined],
    ['a jpeg named .jpeg, accepted as .jpg', ['.jpg'], 'a.jpeg', HEADS.jpg, undefined],
    ['image/* takes a real jpeg', ['image/*'], 'a.jpg', HEADS.jpg, undefined],
    ['a docx that file-type sees as zip', ['.docx'], 'report.docx', HEADS.zip, undefined],
    ['text: no magic bytes, skipped', ['.txt', '.csv'], 'notes.csv', HEADS.text, undefined],
    ['an svg that starts with <?xml', ['.svg'], 'logo.svg', HEADS.xml, undefined],
    ['anything with accept any', 'any', 'a.png', HEADS.exe, undefined],
  ] as const)('accepts %s', async (_what, accept, name, head, expected) => {
    expect(await check(accept, name, head)).toBe(expected);
  });

  it.each([
    ['a .png that is a Windows program', ['.png'], 'photo.png', HEADS.exe, '"photo.png" looks like a Windows program (.exe), which this upload does not accept.'],
    ['a .jpg that is a PNG when only jpg is accepted', ['.jpg'], 'pic.jpg', HEADS.png, '"pic.jpg" looks like a PNG image (.png), which this upload does not accept.'],
    ['a .png with no signature at all', ['.png'], 'fake.png', HEADS.text, '"fake.png" is not a PNG image: its first bytes do not match.'],
    ['an image/png typed file that is a zip', ['image/png'], 'x', HEADS.zip, '"x" looks like a ZIP archive (.zip), which this upload does not accept.'],
  ] as const)('refuses %s', async (_what, accept, name, head, message) => {
    expect(await check(accept, name, head, name === 'x' ? 'image/png' : '')).toEqual({ reason: 'not_accepted', message });
  });

  it('is off with sniff: false, and a function replaces the check', async () => {
    expect(await check(['.png'], 'photo.png', HEADS.exe, '', false)).toBeUndefined();
    const seen: unknown[] = [];
    const custom: SniffOption = (_e, detected) => {
      seen.push(detected);
      return detected?.ext === 'exe' ? 'no_programs' : undefined;
    };
    expect(await check('any', 'a.bin', HEADS.exe, '', custom)).toEqual({ reason: 'no_programs', message: '"a.bin" was refused on its content (no_programs).' });
    expect(await check('any', 'a.bin', HEADS.text, '', custom)).toBeUndefined();
    expect(seen).toEqual([{ ext: 'exe', mime: 'application/x-msdownload' }, undefined]);
  });
});
