import { describe, expect, it } from 'vitest';
import { SerialLock } from './lock.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SerialLock', () => {
  it('runs tasks one at a time, in call order', async () => {
    const lock = new SerialLock();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`${name}:start`);
      await tick(ms);
      log.push(`${name}:end`);
      return name;
    };
    const results = await Promise.all([lock.run(task('a', 20)), lock.run(task('b', 1)), lock.run(task('c', 5))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    expect(lock.pending).toBe(0);
  });

  it('keeps going after a task rejects, and passes the rejection to its caller', async () => {
    const lock = new SerialLock();
    const failed = lock.run(async () => {
      throw new Error('boom');
    });
    const next = lock.run(async () => 'after');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('after');
  });

  it('counts running and queued tasks', async () => {
    const lock = new SerialLock();
    let release = (): void => undefined;
    const first = lock.run(() => new Promise<void>((resolve) => (release = resolve)));
    const second = lock.run(async () => undefined);
    expect(lock.pending).toBe(2);
    await tick(1);
    release();
    await Promise.all([first, second]);
    expect(lock.pending).toBe(0);
  });
});
