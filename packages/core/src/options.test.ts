import { afterEach, describe, expect, it } from 'vitest';
import { InletError } from './errors.js';
import { createLiveView } from './live/view.js';
import { html } from './render/template.js';
import { InletOptionError } from './options.js';
import { checkInletOptions } from './http/options.js';
import { createServer, type InletServer } from './node/index.js';
import { resolveOptions } from './uploads/config.js';
import { chunkedUpload } from './uploads/chunked.js';

const Home = createLiveView({ render: () => html`<p>home</p>` });
const routes = { '/': Home };

let server: InletServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function optionError(fn: () => unknown): InletOptionError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InletOptionError);
    expect(e).toBeInstanceOf(InletError);
    expect((e as InletError).code).toBe('INLET_ERR_CONFIG_OPTION');
    return e as InletOptionError;
  }
  throw new Error('expected an InletOptionError');
}

describe('createServer options', () => {
  it.each([
    [{ maxChannels: -5 }, 'maxChannels', /-5/],
    [{ maxFrameBytes: 'big' }, 'maxFrameBytes', /"big"/],
    [{ staticDirs: 'public' }, 'staticDirs', /\["public"\]/],
    [{ staticDirs: ['public', 3] }, 'staticDirs[1]', /3/],
    [{ staticDirs: [{ root: 'public', path: 'assets' }] }, 'staticDirs[0]', /folder path/],
    [{ maxQueuedBytes: 1.5 }, 'maxQueuedBytes', /1\.5/],
    [{ idleTimeoutMs: 0 }, 'idleTimeoutMs', /0/],
    [{ sessionTtlMs: 2 ** 40 }, 'sessionTtlMs', /integer/],
    [{ uploadTokenTtlMs: null }, 'uploadTokenTtlMs', /null/],
    [{ maxUploadChannels: '5' }, 'maxUploadChannels', /"5"/],
    [{ uploadTmpDir: '' }, 'uploadTmpDir', /non-empty/],
    [{ allowedOrigins: 'https://a.example' }, 'allowedOrigins', /list/],
    [{ allowedOrigins: ['https://a.example/path'] }, 'allowedOrigins[0]', /origin/],
    [{ secret: 42 }, 'secret', /42/],
    [{ pubsub: {} }, 'pubsub', /PubSub/],
    [{ layout: '<html>' }, 'layout', /function/],
    [{ session: {} }, 'session', /function/],
    [{ handler: true }, 'handler', /function/],
    [{ scripts: 1 }, 'scripts', /string/],
    [{ logger: 'loud' }, 'logger', /level/],
    [{ logger: { error() {} } }, 'logger', /logger/],
    [{ log: 'stderr' }, 'log', /function/],
    [{ trustProxy: 'yes' }, 'trustProxy', /proxy/],
    [{ compress: { level: 11 } }, 'compress', /threshold/],
    [{ receiver: { ttlMs: -1 } }, 'receiver.ttlMs', /-1/],
    [{ receiver: { basePath: 'uploads/' } }, 'receiver.basePath', /path/],
    [{ receiver: { store: {} } }, 'receiver.store', /UploadStore/],
    [{ receiver: { maxChunkBytes: 0 } }, 'receiver.maxChunkBytes', /0/],
    [{ receiver: { allowOrigin: 'example.com' } }, 'receiver.allowOrigin', /origin/],
    [{ receiver: 'on' }, 'receiver', /object/],
    [{ maxChanels: 5 }, 'maxChanels', /did you mean maxChannels/],
    [{ receiver: { ttl: 5 } }, 'receiver.ttl', /did you mean receiver.ttlMs/],
    [{ routes: { '/': {} } }, 'routes["/"]', /createLiveView/],
    [{ routes: {} }, 'routes', /at least one/],
  ])('%j is refused, naming %s', (bad, option, detail) => {
    const e = optionError(() => createServer({ routes, ...(bad as object) } as never));
    expect(e.option).toBe(option);
    expect(e.message).toContain(option);
    expect(e.message).toMatch(detail);
  });

  it('requires routes', () => {
    expect(optionError(() => checkInletOptions({})).option).toBe('routes');
    expect(optionError(() => checkInletOptions('routes')).option).toBe('options');
  });


  it('accepts every documented option with a good value', () => {
    const store = { capabilities: new Set<never>(), create: async () => undefined, write: async () => 0, complete: async () => ({}), abort: async () => undefined };
    server = createServer({
      routes,
      secret: 's'.repeat(32),
      pubsub: { subscribe: async () => () => undefined, broadcast: async () => undefined },
      layout: (ctx) => ctx.content,
      scripts: '',
      staticDirs: ['public', { root: 'public', path: '/assets', maxAgeMs: 60_000, immutable: true }],
      session: () => ({}),
      handler: () => false,
      maxFrameBytes: 1 << 20,
      maxChannels: 10,
      maxQueuedBytes: 1 << 20,
      sessionTtlMs: 60_000,
      uploadTokenTtlMs: 60_000,
      maxUploadChannels: 5,
      uploadTmpDir: '/tmp/inlet-options-test',
      allowedOrigins: ['https://a.example'],
      idleTimeoutMs: 30_000,
      trustProxy: ['127.0.0.1'],
      compress: { threshold: 256, level: 1 },
      receiver: { store, basePath: '/up', ttlMs: 1000, sweepIntervalMs: 0, allowOrigin: ['https://a.example'], maxChunkBytes: 1 << 20 },
      logger: 'error',
    });
    expect(server.app).toBeDefined();
  });
});

describe('allowUpload options', () => {
  it.each([
    [{ maxEntries: 0 }, 'allowUpload.maxEntries'],
    [{ maxEntries: 'many' }, 'allowUpload.maxEntries'],
    [{ maxFileSize: -1 }, 'allowUpload.maxFileSize'],
    [{ chunkSize: 9 * 1024 * 1024 }, 'allowUpload.chunkSize'],
    [{ chunkSize: 'big' }, 'allowUpload.chunkSize'],
    [{ chunkTimeout: 0 }, 'allowUpload.chunkTimeout'],
    [{ accept: ['png'] }, 'allowUpload.accept'],
    [{ accept: '.png' }, 'allowUpload.accept'],
    [{ maxEntriesMode: 'all' }, 'allowUpload.maxEntriesMode'],
    [{ autoUpload: 'yes' }, 'allowUpload.autoUpload'],
    [{ progress: 1 }, 'allowUpload.progress'],
    [{ writer: {} }, 'allowUpload.writer'],
    [{ external: 's3' }, 'allowUpload.external'],
    [{ validator: null }, 'allowUpload.validator'],
    [{ maxExcessEntries: -1 }, 'allowUpload.maxExcessEntries'],
    [{ maxFileSise: 1 }, 'allowUpload.maxFileSise'],
  ])('%j is refused, naming %s', (bad, option) => {
    expect(optionError(() => resolveOptions(bad as never)).option).toBe(option);
  });

  it('fills in defaults for good options', () => {
    expect(resolveOptions({ accept: ['.png', 'image/*'], maxEntries: 3, autoUpload: true })).toMatchObject({
      accept: ['.png', 'image/*'],
      maxEntries: 3,
      autoUpload: true,
      chunkSize: 'auto',
    });
  });
});

describe('chunkedUpload options', () => {
  it.each([
    [{ chunkSizeKiB: 100 }, 'chunkedUpload.chunkSizeKiB'],
    [{ chunkSizeKiB: 300 }, 'chunkedUpload.chunkSizeKiB'],
    [{ ttlMs: 0 }, 'chunkedUpload.ttlMs'],
    [{ uploader: '' }, 'chunkedUpload.uploader'],
    [{ attempts: 0 }, 'chunkedUpload.attempts'],
    [{ delayBeforeAttempt: -5 }, 'chunkedUpload.delayBeforeAttempt'],
    [{ store: 'disk' }, 'chunkedUpload.store'],
    [{ chunkSize: 512 }, 'chunkedUpload.chunkSize'],
  ])('%j is refused, naming %s', (bad, option) => {
    expect(optionError(() => chunkedUpload(bad as never)).option).toBe(option);
  });

  it('accepts a multiple of 256 KiB', () => {
    expect(typeof chunkedUpload({ chunkSizeKiB: 512, attempts: 3 })).toBe('function');
  });
});

describe('uploadTmpDir', () => {
  it('is read when the server is created, not when Inlet is imported', async () => {
    const before = process.env.TMPDIR;
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/inlet-tmpdir-`);
    process.env.TMPDIR = dir;
    try {
      server = createServer({ routes, logger: false });
      expect(server.uploadTmpDir).toBe(`${dir}/inlet-uploads`);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      await server?.close();
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
