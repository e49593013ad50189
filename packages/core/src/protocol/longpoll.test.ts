import { describe, expect, it } from 'vitest';
import { LongPollSession, MAX_LONGPOLL_BATCH, parseBatch } from './longpoll.js';

describe('parseBatch', () => {
  it('reads text frames and base64 binary frames, one a line (LF or CRLF)', () => {
    const frames = parseBatch('[null,"1","phoenix","heartbeat",{}]\r\nAQID\n', true, 1024);
    expect(frames).toEqual([
      { data: '[null,"1","phoenix","heartbeat",{}]', binary: false },
      { data: Buffer.from([1, 2, 3]), binary: true },
    ]);
  });

  it('takes a body of another content type as one text frame', () => {
    expect(parseBatch('[null,"1","t","e",{"a":"x\\ny"}]', false, 1024)).toEqual([{ data: '[null,"1","t","e",{"a":"x\\ny"}]', binary: false }]);
  });

  it('refuses bad base64, too many frames and frames over the limit', () => {
    expect(parseBatch('AQI*', true, 1024)).toMatch(/base64/);
    expect(parseBatch('AQI', true, 1024)).toMatch(/base64/);
    expect(parseBatch(Array.from({ length: MAX_LONGPOLL_BATCH + 1 }, () => '[]').join('\n'), true, 1024)).toMatch(/at most 100/);
    expect(parseBatch(Buffer.alloc(2000).toString('base64'), true, 1024)).toMatch(/larger than 1024/);
    expect(parseBatch(`[${'1,'.repeat(600)}1]`, true, 1024)).toMatch(/larger than 1024/);
  });
});

describe('LongPollSession', () => {
  it('hands what was sent in one turn to the waiting poll in one answer, and buffers for the next poll otherwise', async () => {
    const s = new LongPollSession('t', () => undefined);
    const waiting = s.poll(1000);
    s.send('a');
    s.send('b');
    expect(await waiting).toEqual(['a', 'b']);
    s.send('c');
    expect(await s.poll(1000)).toEqual(['c']);
  });

  it('answers a poll with nothing after its window, and an older poll when a newer one comes', async () => {
    const s = new LongPollSession('t', () => undefined);
    expect(await s.poll(30)).toBeUndefined();
    const older = s.poll(1000);
    const newer = s.poll(1000);
    expect(await older).toBeUndefined();
    s.send('x');
    expect(await newer).toEqual(['x']);
  });

  it('gives messages back when their answer could not be written; close flushes, then says closed', async () => {
    let closed = 0;
    const s = new LongPollSession('t', () => closed++);
    s.send('1');
    const lost = await s.poll(10);
    s.send('2');
    s.unread(lost ?? []);
    expect(await s.poll(10)).toEqual(['1', '2']);
    const waiting = s.poll(1000);
    s.close();
    expect(await waiting).toBeUndefined();
    expect(s.closed).toBe(true);
    expect(closed).toBe(1);
    s.send('late');
    expect(s.buffered).toBe(0);
  });
});
