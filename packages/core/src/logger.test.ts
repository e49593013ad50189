import { describe, expect, it } from 'vitest';
import { childLogger, createLogger, fromLogFunction, resolveLogger, silentLogger } from './logger.js';

function sink() {
  const lines: string[] = [];
  return { lines, write: (l: string) => lines.push(l) };
}

describe('the built-in logger', () => {
  it('writes records at or above its level, with context fields and the error stack', () => {
    const out = sink();
    const logger = createLogger('warn', out);
    logger.debug({}, 'hidden');
    logger.info({}, 'hidden too');
    logger.warn({ view: 'phx-1', event: 'save' }, 'slow');
    logger.error({ err: new Error('boom'), upload: 'avatar', ref: '0' }, 'upload failed');
    expect(out.lines).toHaveLength(2);
    expect(out.lines[0]).toBe('[inlet] WARN slow view=phx-1 event=save\n');
    expect(out.lines[1]).toMatch(/^\[inlet\] ERROR upload failed upload=avatar ref=0\nError: boom\n {4}at /);
  });

  it('children add their bindings to every record', () => {
    const out = sink();
    childLogger(createLogger('debug', out), { view: 'phx-2' }).debug({ event: 'inc' }, 'event');
    expect(out.lines).toEqual(['[inlet] DEBUG event view=phx-2 event=inc\n']);
  });

  it('quotes values that are not plain words', () => {
    const out = sink();
    createLogger('info', out).info({ route: '/a b', n: 3 }, 'x');
    expect(out.lines).toEqual(['[inlet] INFO x route="/a b" n=3\n']);
  });
});

describe('resolveLogger', () => {
  it('takes a pino-shaped logger as is, and calls its methods on it (pino needs `this`)', () => {
    const calls: unknown[] = [];
    const pinoLike = {
      bindings: { name: 'app' },
      error(this: { bindings: object }, obj: object, msg: string) {
        calls.push([this.bindings, obj, msg]);
      },
      warn() {},
      info() {},
      debug() {},
    };
    const logger = resolveLogger({ logger: pinoLike });
    childLogger(logger, { view: 'phx-3' }).error({ err: 'x' }, 'failed');
    expect(calls).toEqual([[{ name: 'app' }, { view: 'phx-3', err: 'x' }, 'failed']]);
  });

  it('false is silent; the old log callback still receives errors and warnings', () => {
    expect(resolveLogger({ logger: false })).toBe(silentLogger);
    const got: unknown[] = [];
    const logger = resolveLogger({ log: (m, e) => got.push([m, e]) });
    logger.error({ err: 1 }, 'a');
    logger.warn({}, 'b');
    logger.info({}, 'c');
    expect(got).toEqual([
      ['a', 1],
      ['b', undefined],
    ]);
    expect(fromLogFunction(() => undefined).child?.({})).toBeDefined();
  });

  it('the old log callback gets the record\'s fields after the message', () => {
    const got: unknown[] = [];
    const logger = fromLogFunction((m, e) => got.push([m, e]));
    logger.error({ err: 'boom', view: 'phx-1', event: 'save' }, 'view crashed');
    logger.child?.({ upload: 'avatar' }).warn({ ref: '0' }, 'slow');
    expect(got).toEqual([
      ['view crashed view=phx-1 event=save', 'boom'],
      ['slow upload=avatar ref=0', undefined],
    ]);
  });
});
