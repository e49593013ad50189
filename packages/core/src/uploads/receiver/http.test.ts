import { describe, expect, it } from 'vitest';
import { answerFor } from './http.js';
import type { ChunkOutcome } from './sessions.js';

describe('answerFor', () => {
  it.each<[ChunkOutcome, 'data' | 'status', number, Record<string, string>, unknown]>([
    [{ kind: 'unknown' }, 'data', 404, {}, { error: 'not_found' }],
    [{ kind: 'gone', state: 'expired' }, 'data', 410, {}, { error: 'gone', state: 'expired' }],
    [{ kind: 'too_large', maxSize: 10 }, 'data', 413, {}, { error: 'too_large', maxSize: 10 }],
    [{ kind: 'total_mismatch', total: 7 }, 'data', 400, {}, { error: 'total_mismatch', total: 7 }],
    [{ kind: 'gap', offset: 0 }, 'data', 416, {}, { error: 'gap', offset: 0 }],
    [{ kind: 'gap', offset: 100 }, 'data', 416, { range: 'bytes=0-99' }, { error: 'gap', offset: 100 }],
    [{ kind: 'rejected', message: 'too small' }, 'data', 400, {}, { error: 'rejected', message: 'too small' }],
    [{ kind: 'incomplete', offset: 0, total: 9 }, 'data', 308, {}, undefined],
    [{ kind: 'incomplete', offset: 4, total: 9 }, 'data', 308, { range: 'bytes=0-3' }, undefined],
    [{ kind: 'incomplete', offset: 4, total: 9 }, 'status', 308, { range: 'bytes=0-3' }, undefined],
    [{ kind: 'complete', total: 9 }, 'data', 201, {}, { status: 'complete', size: 9 }],
    [{ kind: 'complete', total: 9 }, 'status', 200, {}, { status: 'complete', size: 9 }],
    [{ kind: 'unavailable', offset: 0 }, 'data', 503, { 'retry-after': '1' }, { error: 'unavailable' }],
    [{ kind: 'unavailable', offset: 8 }, 'data', 503, { 'retry-after': '1', range: 'bytes=0-7' }, { error: 'unavailable' }],
    [{ kind: 'failed' }, 'data', 500, {}, { error: 'writer_error' }],
  ])('%j (%s) -> %i', (outcome, kind, status, headers, body) => {
    const answer = answerFor(outcome, kind);
    expect(answer.status).toBe(status);
    expect(answer.headers).toEqual(headers);
    expect(answer.body).toEqual(body);
  });

  it('never answers with a Location header (a browser would follow a 308 that has one)', () => {
    const outcomes: ChunkOutcome[] = [
      { kind: 'incomplete', offset: 0, total: 1 },
      { kind: 'incomplete', offset: 1, total: 2 },
      { kind: 'complete', total: 2 },
    ];
    for (const outcome of outcomes) {
      expect(Object.keys(answerFor(outcome, 'data').headers).map((h) => h.toLowerCase())).not.toContain('location');
    }
  });
});
