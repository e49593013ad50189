/**
 * Upload abuse: more upload channels than allowed, one by one and all at
 * once, per view and per socket, and churn through leave, cancel and rejoin.
 * Setup, profiles and knobs: ./harness.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createLiveView, html, live_file_input, TmpFileWriter } from 'inletjs';
import { describe as suite, expect, it } from 'vitest';
import { count, inline, LiveClient, sha, sleep } from '../faults/support.js';
// A plain JS module, shared with the child server.
import { createFaultView } from '../faults/views.mjs';
import { abuse, int, MiB, open, P, preflight, T, useAbuseServer } from './harness.js';

/** The default writer, with an init that takes 150 ms. */
class SlowInitWriter extends TmpFileWriter {
  override async init(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await sleep(150);
    await super.init();
  }
}

useAbuseServer(({ store, tmp, records }) => ({
  // 200 entries a config, so the per-view channel limit (50) is what stops a client.
  '/many': createFaultView({ dir: join(store, 'many'), records, maxEntries: 200, chunkSize: 1024 }),
  // The first writer made for a "slowinit…" entry opens slowly, later ones at once: fixes the order of racing joins.
  '/dup': createLiveView({
    mount: (socket) => {
      const made = new Map<string, number>();
      socket.allowUpload('files', {
        accept: 'any',
        maxEntries: 200,
        maxFileSize: MiB,
        chunkSize: 1024,
        writer: (_name, entry) => {
          const n = (made.get(entry.ref) ?? 0) + 1;
          made.set(entry.ref, n);
          return n === 1 && entry.clientName.startsWith('slowinit') ? new SlowInitWriter(join(tmp, 'writers')) : new TmpFileWriter(join(tmp, 'writers'));
        },
      });
    },
    handleEvent: async (event, socket) => {
      if (event.type === 'cancel') await socket.cancelUpload('files', String(event.ref));
    },
    render: (_a, { uploads }) => html`<form phx-change="validate">${live_file_input(uploads.files!)}</form>`,
  }),
}));

suite('upload channels beyond the limits', () => {
  /** A file for the fault view: its name carries its sha256. */
  const file = (): { content: Buffer; name: string } => {
    const content = randomBytes(int(1, 1000));
    return { content, name: `${sha(content)}.ok.bin` };
  };

  it('refuses the 51st upload channel of a view, one join at a time, and frees slots as uploads end', async () => {
    const c = await open('/many');
    const files = Array.from({ length: 60 }, file);
    const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
    const reasons: string[] = [];
    const joined: { ref: string; joinRef: string }[] = [];
    for (const ref of p.refs) {
      const j = await c.joinEntry(ref, p.tokens[ref]);
      reasons.push(j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
      if (j.reply.status === 'ok') joined.push({ ref, joinRef: j.joinRef });
    }
    const tally = new Map<string, number>();
    for (const r of reasons) count(tally, r);
    abuse.figures.push(['60 joins one by one', inline(tally)]);
    expect(tally.get('ok')).toBe(50);
    expect(tally.get('too_many_channels')).toBe(10);
    // Complete the 50 (the view consumes each at 100 %), then the 10 left may join.
    for (const { ref, joinRef } of joined) {
      const f = files[p.refs.indexOf(ref)]!;
      expect((await c.chunk(ref, joinRef, f.content)).status).toBe('ok');
      await c.progress(ref, 100);
    }
    for (const ref of p.refs.filter((r) => !joined.some((j) => j.ref === r))) {
      const f = files[p.refs.indexOf(ref)]!;
      expect(await c.sendFile(ref, p.tokens[ref], f.content, 1024)).toBeUndefined();
    }
    expect(abuse.records.filter((r) => r.ok).length).toBeGreaterThanOrEqual(60);
    c.close();
  }, T);

  // Reported bug: UploadManager.entryForChannel checks the channel count, then
  // the join awaits the writer's creation and init before attachChannel counts
  // it; joins on different topics run concurrently, so all of them pass the
  // check. Repro: preflight 60 entries on one view, send the 60 lvu joins
  // without waiting: 60 are accepted (maxUploadChannels is 50).
  it('REGRESSION maxUploadChannels is bypassed by lvu joins that arrive together', async () => {
    const c = await open('/many');
    const files = Array.from({ length: 60 }, file);
    const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
    const replies = await Promise.all(p.refs.map((ref) => c.joinEntry(ref, p.tokens[ref])));
    const tally = new Map<string, number>();
    for (const j of replies) count(tally, j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
    abuse.figures.push(['REGRESSION 60 joins at once (limit 50)', inline(tally)]);
    c.close();
    expect(tally.get('ok') ?? 0).toBeLessThanOrEqual(50);
  }, T);

  // Reported bug: two joins of the same lvu topic in flight at once (a
  // client replaying its join) both pass entryForChannel; the connection
  // supersedes the first (phx_close, no reply) but its writer init may finish
  // last, and attachChannel then overwrites the entry's runtime with the
  // superseded channel. Terminating that one clears runtime.channel, so: the
  // live second channel is unknown to the manager (cancel and consume do not
  // close it; it keeps accepting chunks for a cancelled entry, and its temp
  // file is never removed once complete), and the per-view channel count
  // keeps one slot forever. Repro (made deterministic with a writer whose
  // first init for an entry is slow): join the same entry twice without
  // waiting, cancel the entry, then 50 fresh joins: only 49 are accepted.
  it('REGRESSION concurrent duplicate lvu joins leak a channel slot and orphan the live channel', async () => {
    const c = await open('/dup');
    const f = file();
    const p = await preflight(c, [{ name: 'slowinit.bin', size: f.content.length }]);
    const ref = p.refs[0] as string;
    const [first, second] = await Promise.allSettled([c.joinEntry(ref, p.tokens[ref], 2000), c.joinEntry(ref, p.tokens[ref], 2000)]);
    expect(first.status).toBe('rejected'); // superseded: phx_close, no reply
    expect(second.status === 'fulfilled' && second.value.reply.status).toBe('ok');
    const closed = c.client.waitFor((fr) => fr[2] === `lvu:${ref}` && fr[3] === 'phx_close' && second.status === 'fulfilled' && fr[0] === second.value.joinRef, 2000).then(
      () => true,
      () => false,
    );
    await c.click('cancel', { ref });
    const orphanClosed = await closed;
    const files = Array.from({ length: 50 }, file);
    const q = await preflight(c, files.map((x) => ({ name: x.name, size: x.content.length })));
    const after = new Map<string, number>();
    for (const r of q.refs) count(after, (await c.joinEntry(r, q.tokens[r])).reply.status === 'ok' ? 'ok' : 'refused');
    abuse.figures.push(['REGRESSION duplicate join, cancel, then 50 joins', `${inline(after)}; live channel closed on cancel: ${orphanClosed}`]);
    c.close();
    expect(orphanClosed).toBe(true);
    expect(after.get('ok')).toBe(50);
  }, T);

  it('refuses the 101st channel of a socket (two views × 50 upload channels)', async () => {
    const a = await open('/many');
    const b = await LiveClient.onSameSocket(a, '/many');
    const filesA = Array.from({ length: 50 }, file);
    const filesB = Array.from({ length: 52 }, file);
    const pa = await preflight(a, filesA.map((f) => ({ name: f.name, size: f.content.length })));
    const pb = await preflight(b, filesB.map((f) => ({ name: f.name, size: f.content.length })));
    const tally = new Map<string, number>();
    for (const ref of pa.refs) count(tally, (await a.joinEntry(ref, pa.tokens[ref])).reply.status);
    for (const ref of pb.refs) {
      const j = await b.joinEntry(ref, pb.tokens[ref]);
      count(tally, j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
    }
    abuse.figures.push(['2 views on one socket, 50 + 52 upload joins', inline(tally)]);
    a.close();
    // 2 views + 98 upload channels = 100 per socket; the other 4 are refused.
    expect(tally.get('ok')).toBe(98);
    expect(tally.get('too many channels joined')).toBe(4);
  }, T);

  it(`keeps the per-view channel count exact through ${P.channelRounds} rounds of leave, cancel and rejoin`, async () => {
    const c = await open('/many');
    const tally = new Map<string, number>();
    for (let round = 0; round < P.channelRounds; round++) {
      const files = Array.from({ length: 40 }, file);
      const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
      for (const [i, ref] of p.refs.entries()) {
        const how = i % 3;
        if (how === 0) {
          // join, leave
          const j = await c.joinEntry(ref, p.tokens[ref]);
          await c.client.request(j.joinRef, `lvu:${ref}`, 'phx_leave', {});
          count(tally, 'leave');
        } else if (how === 1) {
          // join, then cancel from the view
          await c.joinEntry(ref, p.tokens[ref]);
          await c.click('cancel', { ref });
          count(tally, 'cancel');
        } else {
          // rejoin the same topic after the first join answered
          await c.joinEntry(ref, p.tokens[ref]);
          const again = await c.joinEntry(ref, p.tokens[ref]);
          count(tally, `rejoin ${again.reply.status}`);
          await c.click('cancel', { ref });
        }
      }
      for (const ref of p.refs) await c.click('cancel', { ref });
    }
    // Every slot is free again: 50 fresh joins succeed, the 51st is refused.
    const files = Array.from({ length: 51 }, file);
    const p = await preflight(c, files.map((f) => ({ name: f.name, size: f.content.length })));
    const after = new Map<string, number>();
    for (const ref of p.refs) {
      const j = await c.joinEntry(ref, p.tokens[ref]);
      count(after, j.reply.status === 'ok' ? 'ok' : String(j.reply.response.reason));
    }
    abuse.figures.push(['channel churn', inline(tally)]);
    abuse.figures.push(['  51 joins after the churn', inline(after)]);
    c.close();
    expect(after.get('ok')).toBe(50);
    expect(after.get('too_many_channels')).toBe(1);
  }, T);
});
