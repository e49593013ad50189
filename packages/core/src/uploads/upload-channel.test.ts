import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLiveView } from '../live/view.js';
import { html } from '../render/template.js';
import { mountLive } from '../testing/index.js';
import { live_file_input, uploadErrorMessages } from './helpers.js';
import type { UploadWriter } from './writer.js';

function viewWith(writer: () => UploadWriter) {
  return createLiveView({
    mount: (s) => s.allowUpload('f', { accept: 'any', maxFileSize: 10_000_000, chunkSize: 1000, writer }),
    handleEvent: () => undefined,
    render: (_c, { uploads }) =>
      html`${live_file_input(uploads.f!)}${uploads.f!.entries.map((e) => html`<p>${e.clientName} ${e.done ? 'done' : 'open'} ${uploadErrorMessages(uploads.f!, e).join(' ')}</p>`)}`,
  });
}

const confRef = (h: string) => /id="([^"]+)" type="file"/.exec(h)![1]!;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('upload channel', () => {
  it('reports a writer that fails mid-upload as a writer failure, with its message', async () => {
    let writes = 0;
    const closed: unknown[] = [];
    const view = await mountLive(
      {
        routes: {
          '/': viewWith(() => ({
            init() {},
            meta: () => ({}),
            writeChunk() {
              if (++writes === 2) throw new Error('disk on fire');
            },
            close(reason) {
              closed.push(reason);
            },
          })),
        },
      },
      '/',
    );
    const result = await view.upload(confRef(view.html()), 'f', [{ name: 'a.bin', content: randomBytes(5000) }]);
    expect(result.entries).toEqual([{ ref: '0', ok: false, reason: 'writer_error' }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(view.html()).toContain('a.bin open The file could not be saved: disk on fire');
    expect(closed).toEqual([{ error: 'disk on fire' }]);
  });

  it('stores byte-exact through a slow writer (writes overlap the next chunk)', async () => {
    const chunks: Buffer[] = [];
    const view = await mountLive(
      {
        routes: {
          '/': viewWith(() => ({
            init() {},
            meta: () => ({ data: Buffer.concat(chunks) }),
            async writeChunk(c) {
              await new Promise((r) => setTimeout(r, 3));
              chunks.push(Buffer.from(c));
            },
            close() {},
          })),
        },
      },
      '/',
    );
    const content = randomBytes(25_500);
    const result = await view.upload(confRef(view.html()), 'f', [{ name: 'slow.bin', content }]);
    expect(result.entries).toEqual([{ ref: '0', ok: true }]);
    expect(view.html()).toContain('slow.bin done');
    expect(sha(Buffer.concat(chunks))).toBe(sha(content));
  });
});
