/**
 * Socket faults during an upload on /faulty-default: the socket dropped at a
 * random chunk, cut inside a WebSocket frame (raw TCP bytes, then the
 * connection destroyed), closed cleanly, dropped after the last byte but
 * before progress 100, dropped right after it. The client then reconnects and
 * uploads the file again, which must arrive byte-exact.
 */
import { expect } from 'vitest';
import { consumed, clients, faultFile, faults, injected, int, KiB, outcomes, open, preflight, records, visible, type Kind } from './harness.js';
import { count, eventually, LiveClient } from './support.js';

/** Starts an upload on /faulty-default and breaks the socket as `how` says. */
export function socketFault(how: 'drop-between' | 'drop-mid-frame' | 'close-between' | 'drop-before-100' | 'drop-after-100'): Kind {
  return async () => {
    const f = faultFile(int(10 * KiB, 700 * KiB));
    const c = await open(faults.main.url, '/faulty-default');
    const p = await preflight(c, [{ name: f.name, size: f.content.length }]);
    const ref = p.refs[0] as string;
    const { joinRef, reply } = await c.joinEntry(ref, p.tokens[ref]);
    expect(reply.status).toBe('ok');
    const chunks = Math.ceil(f.content.length / p.chunkSize);
    const at = how === 'drop-before-100' || how === 'drop-after-100' ? chunks : int(0, chunks - 1);
    for (let k = 0; k < at; k++) {
      const r = await c.chunk(ref, joinRef, f.content.subarray(k * p.chunkSize, (k + 1) * p.chunkSize));
      expect(r.status).toBe('ok');
    }
    if (how === 'drop-between') c.terminate();
    else if (how === 'close-between') c.close();
    else if (how === 'drop-mid-frame') {
      const frame = c.chunkFrame(ref, joinRef, f.content.subarray(at * p.chunkSize, (at + 1) * p.chunkSize));
      c.sendPartialFrameAndDrop(frame, int(1, frame.length + 13));
    } else if (how === 'drop-before-100') c.terminate();
    else {
      c.client.ws.send(JSON.stringify([c.joinRef, c.client.nextRef(), c.topic, 'progress', { event: null, ref: c.confRef, entry_ref: ref, progress: 100 }]));
      c.terminate();
    }
    count(injected, `socket: ${how}`);
    await eventually(() => c.closed, 5000, 'socket closed');
    // The client reconnects and rejoins the same page: a new mount, the entry is gone.
    const again = await LiveClient.reconnect(c);
    clients.push(again);
    expect(again.entryHtml(ref)).toBeUndefined();
    visible.gone++;
    const early = records.find((r) => r.name === f.name);
    if (how === 'drop-after-100') count(outcomes, early ? 'completed before the drop' : 'dropped before completion');
    else expect(early).toBeUndefined();
    // …and uploads the file again, which must arrive byte-exact (once).
    if (!early) {
      const q = await preflight(again, [{ name: f.name, size: f.content.length }]);
      const r = q.refs[0] as string;
      expect(await again.sendFile(r, q.tokens[r], f.content, q.chunkSize)).toBeUndefined();
      expect((await consumed(f.name)).ok).toBe(true);
      count(outcomes, 'retried after drop: byte-exact');
    }
    again.close();
  };
}
