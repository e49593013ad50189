import { randomBytes } from 'node:crypto';
import { tracingChannel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveView } from '../live/view.js';
import { html } from '../render/template.js';
import { mountLive } from '../testing/index.js';
import { live_file_input } from '../uploads/helpers.js';
import type { UploadWriter } from '../uploads/writer.js';
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
});
