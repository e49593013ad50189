/**
 * RedisPubSub across "nodes" (separate clients, separate LiveApps) on a real
 * redis-server: a view's broadcast reaches a view mounted in another app, and
 * a Redis restart mid-run loses no process and broadcasts resume.
 */
import { createRedisClient, RedisPubSub, type RedisClient } from '@inletjs/redis';
import { createLiveView, html, silentLogger, type LogContext } from 'inletjs';
import { mountLive, type MountOptions } from 'inletjs/testing';
import { LiveApp } from '../../packages/core/src/live/app.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../conformance/pubsub-cases.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
const opened: { client: RedisClient; pubsub: RedisPubSub }[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  redis = await startRedis();
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await redis.stop();
});
afterEach(async () => {
  for (const { client, pubsub } of opened.splice(0)) {
    await pubsub.close();
    await client.close().catch(() => undefined);
  }
});

const errors: string[] = [];
async function node(): Promise<RedisPubSub> {
  const client = await createRedisClient({ url: redis.url, onError: (e) => errors.push(e.message) });
  const pubsub = new RedisPubSub({ client, onError: (e) => errors.push(String(e)) });
  opened.push({ client, pubsub });
  return pubsub;
}

const Room = createLiveView<{ messages: string[] }, { text: string }>({
  mount: (s) => {
    s.assign({ messages: [] });
    if (s.connected) s.subscribe('room:lobby');
  },
  handleEvent: (e, s) => s.broadcast('room:lobby', { text: String(e.text) }),
  handleInfo: (info, s) => s.assign({ messages: [...s.assigns.messages, info.text] }),
  render: ({ messages }) => html`<ul>${messages.map((m) => html`<li>${m}</li>`)}</ul>`,
});

// LiveApp is internal (not in the facade): tests load its source, typed against the built facade.
function app(pubsub: RedisPubSub): MountOptions['app'] {
  return new LiveApp({ routes: { '/': Room as never }, secret: 'cluster-test-secret-0123456789abcdef', pubsub, clientPath: '/c.js', logger: silentLogger }) as unknown as MountOptions['app'];
}

describe('RedisPubSub between nodes', () => {
  it('a broadcast from a view on one node updates a view on another', async () => {
    const a = await mountLive({ routes: { '/': Room } }, '/', { app: app(await node()) });
    const b = await mountLive({ routes: { '/': Room } }, '/', { app: app(await node()) });
    // No wait between mount and click: the join reply comes only once the SUBSCRIBE is live.
    await a.click('say', { text: 'from node A <b>' });
    await eventually(() => expect(b.html()).toBe('<ul><li>from node A &lt;b&gt;</li></ul>'));
    expect(a.html()).toBe('<ul><li>from node A &lt;b&gt;</li></ul>');
    await b.click('say', { text: 'and back' });
    await eventually(() => expect(a.html()).toContain('<li>and back</li>'));
    await b.leave();
    await a.click('say', { text: 'after leave' });
    await eventually(() => expect(a.html()).toContain('after leave'));
  });

  it('logs a throwing subscriber through its logger, with the topic as a field, and keeps delivering', async () => {
    const client = await createRedisClient({ url: redis.url, onError: (e) => errors.push(e.message) });
    const records: [LogContext, string][] = [];
    const keep = (context: LogContext, message: string): number => records.push([context, message]);
    const pubsub = new RedisPubSub({ client, logger: { error: keep, warn: keep, info() {}, debug() {} } });
    opened.push({ client, pubsub });
    const got: unknown[] = [];
    await pubsub.subscribe('loud', () => {
      throw new Error('subscriber exploded');
    });
    await pubsub.subscribe('loud', (m) => got.push(m));
    await pubsub.broadcast('loud', 1);
    await eventually(() => expect(got).toEqual([1]));
    expect(records).toHaveLength(1);
    expect(records[0]?.[1]).toBe('pubsub subscriber failed');
    expect(records[0]?.[0].topic).toBe('loud');
    expect((records[0]?.[0].err as Error).message).toBe('subscriber exploded');
  });

  it('survives a Redis restart mid-run: nothing crashes, local delivery never stops, broadcasts resume', async () => {
    const [a, b] = [await node(), await node()];
    const topic = 'ticks';
    const atA: number[] = [];
    const atB: number[] = [];
    await a.subscribe(topic, (m) => atA.push(m as number));
    await b.subscribe(topic, (m) => atB.push(m as number));
    let i = 0;
    // A PUBLISH on the wire when Redis dies rejects (ECONNRESET): the broadcast
    // says it could not be sent. Ones sent while Redis is down wait and go out later.
    const failures: number[] = [];
    const tick = async () => {
      const n = i++;
      await a.broadcast(topic, n).catch(() => failures.push(n));
    };
    let killedAt = 0;
    let restartedAt = 0;
    const timer = setInterval(() => void tick(), 10);
    try {
      await eventually(() => expect(atB.length).toBeGreaterThan(10));
      killedAt = i;
      await redis.kill();
      // While Redis is down, a new subscription does not hang its caller.
      const t0 = Date.now();
      const offB2 = await b.subscribe('during-outage', () => undefined);
      expect(Date.now() - t0).toBeLessThan(1_000);
      await new Promise((r) => setTimeout(r, 500));
      // Local subscribers kept getting every broadcast of their own node.
      expect(atA.length).toBeGreaterThan(killedAt);
      await redis.start();
      restartedAt = i;
      await eventually(() => expect(atB.some((n) => n > restartedAt + 5)).toBe(true), 15_000);
      offB2();
    } finally {
      clearInterval(timer);
    }
    const sent = i;
    await eventually(() => expect(atA.length).toBe(sent));
    expect(atA).toEqual(Array.from({ length: sent }, (_, n) => n));
    // Node B's view is ordered; it may miss what was sent while it was disconnected, never more.
    expect([...atB].sort((x, y) => x - y)).toEqual(atB);
    expect(new Set(atB).size).toBe(atB.length);
    // Only broadcasts in flight at the kill may have failed, none after the restart.
    expect(failures.every((n) => n >= killedAt - 20 && n < restartedAt)).toBe(true);
    expect(unhandled).toEqual([]);
    expect(errors.length).toBeGreaterThan(0); // the outage was reported, not thrown
  });

  it('one Redis subscription per topic per node, however many views listen; dropped when the last leaves', async () => {
    const [a, b] = [await node(), await node()];
    const admin = await createRedisClient({ url: redis.url });
    try {
      const offs = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).subscribe('crowded', () => undefined)));
      const channel = 'inlet:pubsub:crowded';
      expect(await admin.pubSubNumSub(channel)).toEqual({ [channel]: 2 });
      for (const off of offs) off();
      await eventually(async () => expect(await admin.pubSubNumSub(channel)).toEqual({ [channel]: 0 }));
      expect(a.topicCount).toBe(0);
    } finally {
      await admin.close();
    }
  });

  it('a subscription made while Redis was down goes live when it returns', async () => {
    const [a, b] = [await node(), await node()];
    await a.subscribe('warm', () => undefined); // connects a's subscriber
    await b.subscribe('warm', () => undefined);
    await redis.kill();
    const got: unknown[] = [];
    await a.subscribe('late', (m) => got.push(m));
    await redis.start();
    await eventually(async () => {
      await b.broadcast('late', 'hello');
      expect(got).toContain('hello');
    }, 15_000);
  });
});
