/**
 * Chunk-receiver faults (the HTTP uploads of /uploads/chunked): the store
 * answering 503 for a while, failing for good, and a PUT cut part-way; with
 * the UpChunk-like client that drives them.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { expect } from 'vitest';
import { expectVisibleFailure, faults, injected, int, KiB, outcomes, open, preflight, sources, type Kind } from './harness.js';
import { count, eventually, sha, sleep, type LiveClient } from './support.js';

/** A PUT whose body stops part-way: the connection is destroyed after `sent` of `body.length` bytes. */
export function partialPut(url: string, body: Buffer, start: number, total: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${start}-${start + body.length - 1}/${total}`, 'content-length': String(body.length), 'content-type': 'application/octet-stream' },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(body.subarray(0, sent), () => setTimeout(() => req.destroy(), 20));
  });
}

/**
 * An UpChunk-like client against the built-in receiver: PUT chunks with
 * Content-Range, retry 503 (after 20 ms, not Retry-After's 1 s, to keep the
 * suite fast), resume from the Range of a 308 or a status query.
 */
export async function upchunk(c: LiveClient, content: Buffer, type: string, cutOnce: boolean): Promise<{ ref: string; result: string; retries: number }> {
  const p = await preflight(c, [{ name: `chunked-${sha(content).slice(0, 16)}.bin`, size: content.length, type }]);
  const ref = p.refs[0] as string;
  const meta = p.tokens[ref] as { uploader: string; endpoint: string } | undefined;
  expect(meta?.uploader).toBe('UpChunk');
  const url = c.base + meta!.endpoint;
  const chunk = 256 * KiB;
  let offset = 0;
  let retries = 0;
  let cut = cutOnce;
  for (;;) {
    const end = Math.min(offset + chunk, content.length) - 1;
    const body = content.subarray(offset, end + 1);
    if (cut && body.length > 1) {
      cut = false;
      await partialPut(url, body, offset, content.length, int(1, body.length - 1));
      count(injected, 'receiver: PUT cut part-way');
      const q = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes */${content.length}` } });
      expect(q.status).toBe(308);
      const range = /bytes=0-(\d+)/.exec(q.headers.get('range') ?? '');
      offset = range ? Number(range[1]) + 1 : 0;
      continue;
    }
    const res = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes ${offset}-${end}/${content.length}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
    await res.arrayBuffer();
    if (res.status === 503) {
      retries++;
      await sleep(20);
      continue;
    }
    if (res.status === 308) {
      const range = /bytes=0-(\d+)/.exec(res.headers.get('range') ?? '');
      offset = range ? Number(range[1]) + 1 : 0;
      // UpChunk reports progress; the server ignores it for receiver uploads.
      await c.progress(ref, Math.floor((offset / content.length) * 100));
      continue;
    }
    if (res.status === 201) {
      await c.progress(ref, 100);
      return { ref, result: 'complete', retries };
    }
    await c.progress(ref, { error: `upload failed: HTTP ${res.status}` });
    return { ref, result: `HTTP ${res.status}`, retries };
  }
}

export function receiverFault(mode: 'transient' | 'cut' | 'permanent'): Kind {
  return async () => {
    const content = randomBytes(int(100 * KiB, 1500 * KiB));
    const h = sha(content);
    sources.add(h);
    const chunks = Math.ceil(content.length / (256 * KiB));
    const type = mode === 'transient' ? `x-inlet/transient-${int(1, 4)}` : mode === 'permanent' ? `x-inlet/permanent-${int(1, chunks)}` : 'application/octet-stream';
    const c = await open(faults.main.url, '/uploads/chunked');
    const { ref, result } = await upchunk(c, content, type, mode === 'cut');
    if (mode === 'permanent') {
      expect(result).toBe('HTTP 500');
      await expectVisibleFailure(c, ref, 'receiver permanent');
      expect(c.entryHtml(ref) ?? '').toMatch(/could not be saved|upload failed/);
      expect(c.inputAttr('data-phx-done-refs')).toBe('');
      count(outcomes, 'receiver failure: error shown');
    } else {
      expect(result).toBe('complete');
      await eventually(() => c.html().includes(h), 5000, 'chunked upload consumed');
      const li = new RegExp(`data-sha256="${h}"`).test(c.html());
      expect(li).toBe(true);
      count(outcomes, `receiver ${mode}: byte-exact`);
    }
    c.close();
  };
}
