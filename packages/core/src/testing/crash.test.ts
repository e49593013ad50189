import { describe, expect, it } from 'vitest';
import { createLiveView } from '../live/view.js';
import { html } from '../render/template.js';
import { mountLive, ViewCrashError } from './index.js';

const Fragile = createLiveView<{ n: number }>({
  mount: (socket, _session, params) => {
    if (params.explode === '1') throw new Error('mount exploded');
    socket.assign({ n: 0 });
  },
  handleEvent: (event, socket) => {
    if (event.type === 'boom') throw new TypeError('handler exploded');
    if (event.type === 'later') socket.sendInfo('boom');
    socket.assign({ n: socket.assigns.n + 1 });
  },
  handleInfo: () => {
    throw new RangeError('info exploded');
  },
  render: ({ n }) => html`<p>${n}</p>`,
});

describe('the testing client surfaces a view crash at once', () => {
  it('rejects the event that crashed the view with the server-side error, well before the reply timeout', async () => {
    const view = await mountLive({ routes: { '/': Fragile } }, '/');
    await view.click('inc');
    const started = Date.now();
    const error = await view.click('boom').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ViewCrashError);
    expect((error as Error).message).toContain('handler exploded');
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(view.serverErrors.map((e) => (e.error as Error).message)).toEqual(['handler exploded']);
    await expect(view.click('inc')).rejects.toThrow(/handler exploded/);
  });

  it('reports a crash in handleInfo, and every later push rejects with it', async () => {
    const view = await mountLive({ routes: { '/': Fragile } }, '/');
    // The info may run before the click's reply is sent; either way the crash surfaces.
    await view.click('later').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(view.crash?.message).toContain('info exploded');
    await expect(view.click('inc')).rejects.toThrow(ViewCrashError);
  });

  it('rejects mountLive with the mount error', async () => {
    await expect(mountLive({ routes: { '/': Fragile } }, '/?explode=1')).rejects.toThrow(/mount exploded/);
  });
});
