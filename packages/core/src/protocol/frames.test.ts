import { describe, expect, it } from 'vitest';
import { decodeBinary, decodeText, encode, encodeBinaryPush, encodeReply, isMalformed } from './frames.js';

describe('V2 text frames', () => {
  it('decodes a join and encodes a reply', () => {
    const f = decodeText('["4","4","lv:phx-1","phx_join",{"url":"http://x/"}]');
    expect(f).toEqual({ joinRef: '4', ref: '4', topic: 'lv:phx-1', event: 'phx_join', payload: { url: 'http://x/' } });
    expect(encodeReply('4', '4', 'lv:phx-1', 'ok', { rendered: {} })).toBe('["4","4","lv:phx-1","phx_reply",{"status":"ok","response":{"rendered":{}}}]');
    expect(encode('4', null, 'lv:phx-1', 'diff', { 0: 'x' })).toBe('["4",null,"lv:phx-1","diff",{"0":"x"}]');
  });

  it.each([
    ['not json', 'frame is not JSON'],
    ['{"a":1}', 'frame is not an array'],
    ['[null,"1","t","e"]', 'frame must have 5 elements'],
    ['[1,"1","t","e",{}]', 'join_ref must be a string or null'],
    ['[null,2,"t","e",{}]', 'ref must be a string or null'],
    ['[null,"1","","e",{}]', 'topic must be a non-empty string'],
    ['[null,"1","t",5,{}]', 'event must be a non-empty string'],
    ['[null,"1","t","e",[1]]', 'payload must be an object'],
    ['[null,"1","t","e","str"]', 'payload must be an object'],
  ])('reports %s as malformed', (text, reason) => {
    const f = decodeText(text);
    expect(isMalformed(f) && f.malformed).toBe(reason);
  });

  it('keeps ref and topic of a malformed frame so it can be answered', () => {
    expect(decodeText('[null,"7","lv:x","event",null]')).toMatchObject({ ref: '7', topic: 'lv:x' });
  });
});

describe('V2 binary frames', () => {
  it('matches the documented layout of a chunk push', () => {
    const frame = encodeBinaryPush('12', '15', 'lvu:0', 'chunk', Buffer.from('abc'));
    expect([...frame.subarray(0, 5)]).toEqual([0, 2, 2, 5, 5]);
    expect(frame.length).toBe(19 + 3);
    expect(decodeBinary(frame)).toEqual({ joinRef: '12', ref: '15', topic: 'lvu:0', event: 'chunk', payload: Buffer.from('abc') });
  });

  it('rejects truncated headers, lying lengths and unknown kinds', () => {
    expect(isMalformed(decodeBinary(Buffer.from([0, 1])))).toBe(true);
    expect(isMalformed(decodeBinary(Buffer.from([0, 200, 200, 200, 200, 1, 2, 3])))).toBe(true);
    expect(isMalformed(decodeBinary(Buffer.from([7, 0, 0, 1, 1, 0x61, 0x62])))).toBe(true);
  });
});
