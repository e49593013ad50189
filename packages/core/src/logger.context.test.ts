/**
 * Records carry their context as fields: a view crash names the view, its
 * route and the event; an upload failure names the view, the upload config
 * and the entry ref. Checked through `mountLive`'s `logger`, which receives
 * what the server logs.
 */
import { describe, expect, it } from 'vitest';
import { createLiveView } from './live/view.js';
import type { LogContext, Logger } from './logger.js';
import { html } from './render/template.js';
import { mountLive } from './testing/index.js';
import { live_file_input } from './uploads/helpers.js';

function recorder(): { logger: Logger; records: { level: string; message: string; context: LogContext }[] } {
  const records: { level: string; message: string; context: LogContext }[] = [];
  const at = (level: string) => (context: LogContext, message: string) => void records.push({ level, message, context });
  return { logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, records };
}

const Fragile = createLiveView<{ n: number }>({
  mount: (s) => {
    s.assign({ n: 0 });
    s.allowUpload('avatar', {
      accept: 'any',
      external: () => {
        throw new Error('presigner down');
      },
    });
  },
  handleEvent: (e) => {
    if (e.type === 'boom') throw new Error('handler exploded');
  },
  render: ({ n }, { uploads }) => html`<p>${n}</p>${live_file_input(uploads.avatar!)}`,
});

describe('log context', () => {
  it('a view crash is logged with the view, its route and the event, and the error as err', async () => {
    const { logger, records } = recorder();
    const view = await mountLive({ routes: { '/things': Fragile } }, '/things', { logger });
    await view.click('boom').catch(() => undefined);
    const crash = records.find((r) => r.message === 'channel crashed');
    expect(crash?.level).toBe('error');
    expect(crash?.context).toMatchObject({ view: view.topic.slice(3), route: '/things', event: 'boom', topic: view.topic, channelEvent: 'event' });
    expect((crash?.context.err as Error).message).toBe('handler exploded');
  });

  it('a failed presign is logged with the view, the upload name and the entry ref', async () => {
    const { logger, records } = recorder();
    const view = await mountLive({ routes: { '/': Fragile } }, '/', { logger });
    const ref = /id="([^"]+)" type="file"/.exec(view.html())?.[1] ?? '';
    await view.upload(ref, 'avatar', [{ name: 'a.png', content: Buffer.from('x') }]);
    const failed = records.find((r) => r.message === 'presign failed');
    expect(failed?.context).toMatchObject({ view: view.topic.slice(3), upload: 'avatar', ref: '0' });
    expect((failed?.context.err as Error).message).toBe('presigner down');
    expect(view.serverErrors.map((e) => e.context?.upload)).toContain('avatar');
  });
});
