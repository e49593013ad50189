/**
 * The socket dropped while the app consumes a finished upload, against a
 * real server over a real socket. Setup, profiles, knobs and oracles:
 * ./harness.ts.
 */
import { join } from 'node:path';
import { createLiveView, html, live_file_input } from 'inletjs';
import { describe as suite, expect, it } from 'vitest';
import { faultFile, faults, figures, injected, KiB, MiB, open, preflight, T, useFaultServers } from './harness.js';
import { count, eventually, sleep } from './support.js';

/** The slow-consume view's results. */
const slowConsume = { done: [] as string[], failed: [] as string[] };

useFaultServers({
  routes: ({ store }) => ({
    // Consumes each finished entry in its progress callback, slowly (an upload to S3, say).
    '/slow-consume': createLiveView({
      mount: (socket) => {
        socket.allowUpload('files', {
          accept: 'any',
          maxFileSize: 16 * MiB,
          chunkSize: 64 * KiB,
          autoUpload: true,
          progress: async (name, entry, sock) => {
            if (!entry.done) return;
            try {
              await sock.consumeUploadedEntry(name, entry, async (meta) => {
                await sleep(300);
                return meta.fileSystem.moveInto(join(store, 'slow-consume'), entry.clientName, meta.path);
              });
              slowConsume.done.push(entry.clientName);
            } catch (e) {
              slowConsume.failed.push(`${entry.clientName.slice(0, 12)}: ${(e as Error).message}`);
            }
          },
        });
      },
      handleEvent: () => undefined,
      render: (_assigns, { uploads }) => html`<form phx-change="validate">${live_file_input(uploads.files!)}</form>`,
    }),
  }),
});

// ----------------------------------------------------------------- teardown during consume

suite('socket dropped while the app consumes', () => {
  // Reported bug: ViewInstance.stop() (socket gone) runs uploads.release()
  // at once instead of after the callback in progress, so release() deletes
  // the completed temp file while the app's consume function is still using
  // it. Repro: a view consuming in its progress callback (300 ms of work,
  // then moveInto); the client sends its last chunk and progress 100, then
  // drops the socket 50 ms later: moveInto fails with ENOENT and the
  // complete upload is lost. Phoenix runs the consume to its end (the LV
  // process handles the channel exit only after the callback returns).
  it('REGRESSION a socket drop during a consume deletes the temp file under the consume function', async () => {
    const f = faultFile(200 * KiB);
    const c = await open(faults.main.url, '/slow-consume');
    const p = await preflight(c, [{ name: f.name, size: f.content.length }]);
    const ref = p.refs[0] as string;
    const { joinRef } = await c.joinEntry(ref, p.tokens[ref]);
    for (let off = 0; off < f.content.length; off += p.chunkSize) {
      expect((await c.chunk(ref, joinRef, f.content.subarray(off, off + p.chunkSize))).status).toBe('ok');
    }
    c.client.ws.send(JSON.stringify([c.joinRef, c.client.nextRef(), c.topic, 'progress', { event: null, ref: c.confRef, entry_ref: ref, progress: 100 }]));
    await sleep(50);
    c.terminate();
    count(injected, 'socket: drop during consume');
    await eventually(() => slowConsume.done.length + slowConsume.failed.length > 0, 5000, 'consume finished');
    figures.push(['REGRESSION drop during a 300 ms consume', slowConsume.failed.length ? `consume failed: ${slowConsume.failed[0]}` : 'consumed']);
    expect(slowConsume.failed).toEqual([]);
    expect(slowConsume.done).toEqual([f.name]);
  }, T);
});
