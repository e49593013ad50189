import { createHash, randomBytes } from 'node:crypto';
import { tracingChannel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveView } from '../live/view.js';
import { html } from '../render/template.js';
import { mountLive } from '../testing/index.js';
import { live_file_input } from '../uploads/helpers.js';
import type { UploadWriter } from '../uploads/writer.js';
import { MemoryStore } from '../uploads/memory-store.js';
import { CHANNEL_NAMES } from './channels.js';

type Seen = [string, string, Record<string, unknown>];
const seen: Seen[] = [];
const offs: (() => void)[] = [];

function watch(name: string): void {
  const handlers = Object.fromEntries(
    (['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const).map((event) => [event, (ctx: unknown) => void seen.push([name, event, ctx as Record<string, unknown>])]),
  );
  const channel = tracingChannel(name);
  channel.subscribe(handlers as never);
  offs.push(() => channel.unsubscribe(handlers as never));
}

afterEach(() => {
  for (const off of offs.splice(0)) off();
  seen.length = 0;
});

const failing: () => UploadWriter = () => ({
  init() {},
  meta: () => ({}),
  writeChunk() {
    throw new Error('disk on fire');
  },
  close() {},
});

const View = createLiveView<{ n: number }>({
  mount: (s) => {
    s.assign({ n: 0 });
    s.allowUpload('f', { accept: 'any', chunkSize: 1000, writer: failing });
  },
  handleEvent: (e, s) => {
    if (e.type === 'boom') throw new Error('handler exploded');
    s.assign({ n: s.assigns.n + 1 });
  },
  render: ({ n }, { uploads }) => html`<p>${n}</p>${live_file_input(uploads.f!)}`,
});

describe('diagnostics_channel tracing', () => {
  it('traces mount, events (with their errors), render and preflight, with the view in the context', async () => {
    for (const name of [CHANNEL_NAMES.mount, CHANNEL_NAMES.event, CHANNEL_NAMES.render, CHANNEL_NAMES.preflight]) watch(name);
    const uploadErrors: unknown[] = [];
    const onError = (m: unknown) => void uploadErrors.push(m);
    subscribe(CHANNEL_NAMES.uploadError, onError);
    try {
      const view = await mountLive({ routes: { '/': View } }, '/');
      const id = view.topic.slice(3);
      await view.click('inc');
      await view.click('boom').catch(() => undefined);

      const mounts = seen.filter(([n]) => n === CHANNEL_NAMES.mount);
      expect(mounts.map(([, e, c]) => [e, c.connected])).toEqual([
        ['start', false], ['end', false], ['asyncStart', false], ['asyncEnd', false],
        ['start', true], ['end', true], ['asyncStart', true], ['asyncEnd', true],
      ]);
      expect(mounts[4]?.[2]).toMatchObject({ view: id, route: '/' });
      const events = seen.filter(([n]) => n === CHANNEL_NAMES.event);
      expect(events.filter(([, e]) => e === 'start').map(([, , c]) => c.event)).toEqual(['inc', 'boom']);
      const failed = events.find(([, e]) => e === 'error');
      expect(failed?.[2]).toMatchObject({ view: id, event: 'boom' });
      expect((failed?.[2].error as Error).message).toBe('handler exploded');
      expect(seen.filter(([n, e]) => n === CHANNEL_NAMES.render && e === 'start').length).toBeGreaterThanOrEqual(3);
    } finally {
      unsubscribe(CHANNEL_NAMES.uploadError, onError);
    }
  });

  it('traces a preflight and publishes the upload error of a failing writer', async () => {
    watch(CHANNEL_NAMES.preflight);
    const uploadErrors: Record<string, unknown>[] = [];
    const onError = (m: unknown) => void uploadErrors.push(m as Record<string, unknown>);
    subscribe(CHANNEL_NAMES.uploadError, onError);
    try {
      const view = await mountLive({ routes: { '/': View } }, '/');
      const ref = /id="([^"]+)" type="file"/.exec(view.html())?.[1] ?? '';
      await view.upload(ref, 'f', [{ name: 'a.bin', content: randomBytes(3000) }]);
      await new Promise((r) => setTimeout(r, 20));
      expect(seen.filter(([, e]) => e === 'asyncEnd').map(([, , c]) => c.ref)).toEqual([ref]);
      expect(uploadErrors).toEqual([{ view: view.topic.slice(3), upload: 'f', ref: '0', reason: 'writer_failure' }]);
    } finally {
      unsubscribe(CHANNEL_NAMES.uploadError, onError);
    }
  });

  it('traces every chunk of a socket upload and its completion, with offsets, sizes and the stored bytes intact', async () => {
    for (const name of [CHANNEL_NAMES.chunk, CHANNEL_NAMES.complete]) watch(name);
    const store = new MemoryStore();
    const done: Record<string, unknown>[] = [];
    const Stored = createLiveView({
      mount: (s) =>
        void s.allowUpload('doc', {
          accept: 'any',
          chunkSize: 1000,
          store,
          progress: (_name, entry) => void (entry.done && done.push(entry.meta ?? {})),
        }),
      handleEvent: () => undefined,
      render: (_a, { uploads }) => html`${live_file_input(uploads.doc!)}`,
    });
    const view = await mountLive({ routes: { '/': Stored } }, '/');
    const ref = /id="([^"]+)" type="file"/.exec(view.html())?.[1] ?? '';
    const content = randomBytes(2500);
    const result = await view.upload(ref, 'doc', [{ name: 'a.bin', content }]);
    expect(result.entries.map((e) => e.ok)).toEqual([true]);
    const id = view.topic.slice(3);
    const chunks = seen.filter(([n, e]) => n === CHANNEL_NAMES.chunk && e === 'asyncEnd').map(([, , c]) => c);
    // `result` (Node sets it on asyncEnd) is the store's durable offset after the chunk.
    expect(chunks).toEqual([
      { view: id, upload: 'doc', ref: '0', offset: 0, bytes: 1000, result: 1000 },
      { view: id, upload: 'doc', ref: '0', offset: 1000, bytes: 1000, result: 2000 },
      { view: id, upload: 'doc', ref: '0', offset: 2000, bytes: 500, result: 2500 },
    ]);
    const completes = seen.filter(([n]) => n === CHANNEL_NAMES.complete).map(([, e, c]) => [e, c]);
    expect(completes.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(completes[0]?.[1]).toMatchObject({ view: id, upload: 'doc', ref: '0', size: 2500 });
    // What the traces describe is what was stored.
    const sha = createHash('sha256').update(content).digest('hex');
    expect(done.map((m) => m.sha256)).toEqual([sha]);
  });

  it('a chunk the store fails to write ends its trace with the error', async () => {
    watch(CHANNEL_NAMES.chunk);
    const view = await mountLive({ routes: { '/': View } }, '/');
    const ref = /id="([^"]+)" type="file"/.exec(view.html())?.[1] ?? '';
    await view.upload(ref, 'f', [{ name: 'a.bin', content: randomBytes(3000) }]);
    await new Promise((r) => setTimeout(r, 20));
    const failed = seen.filter(([, e]) => e === 'error').map(([, , c]) => c);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ upload: 'f', ref: '0', offset: 0, bytes: 1000 });
    expect((failed[0]?.error as Error).message).toBe('disk on fire');
  });
});
