/**
 * The PubSub conformance cases: what every `PubSub` implementation must do,
 * as documented on the interface in packages/core/src/live/pubsub.ts. Run by
 * pubsub.test.ts for MemoryPubSub (one node) and RedisPubSub (three nodes on
 * one real redis-server); a user's implementation can run them the same way.
 *
 * A backend is given as `nodes(n)`: n PubSub instances that share one
 * backend, standing for n Inlet processes (for an in-process backend, the same
 * instance n times). Cases assert with node:assert, so any runner can use them.
 */
import assert from 'node:assert/strict';
import type { PubSub } from 'inletjs';

export interface PubSubHarness {
  /** n PubSubs sharing one backend, as n nodes would. */
  nodes(n: number): Promise<PubSub[]>;
  /** Ends what `nodes` opened. */
  cleanup?(): Promise<void>;
}

export interface PubSubCase {
  readonly name: string;
  run(): Promise<void>;
}

/** Waits until `check` passes, or fails with its last error after `timeoutMs`. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
/** A topic no other case (or earlier run on a shared Redis) uses. */
const topic = (name: string) => `${name}:${process.pid}:${++seq}:${Date.now()}`;

export function pubSubConformanceCases(harness: PubSubHarness): PubSubCase[] {
  const cases: PubSubCase[] = [];
  const add = (name: string, run: (h: PubSubHarness) => Promise<void>) =>
    cases.push({
      name,
      run: async () => {
        try {
          await run(harness);
        } finally {
          await harness.cleanup?.();
        }
      },
    });

  add('delivers a broadcast to the subscribers of every node, itself included', async (h) => {
    const [a, b, c] = (await h.nodes(3)) as [PubSub, PubSub, PubSub];
    const t = topic('fanout');
    const got: [string, unknown][] = [];
    await a.subscribe(t, (m) => got.push(['a', m]));
    await b.subscribe(t, (m) => got.push(['b', m]));
    await c.subscribe(t, (m) => got.push(['c', m]));
    await b.broadcast(t, { text: 'hello' });
    await eventually(() => assert.equal(got.length, 3));
    assert.deepEqual(got.map(([n]) => n).sort(), ['a', 'b', 'c']);
    for (const [, m] of got) assert.deepEqual(m, { text: 'hello' });
    await settle();
    assert.equal(got.length, 3, 'each subscriber gets a message once');
  });

  add('delivers asynchronously, never inside broadcast', async (h) => {
    const [a] = (await h.nodes(1)) as [PubSub];
    const t = topic('async');
    let inside = false;
    let calledInside = false;
    let called = false;
    await a.subscribe(t, () => {
      called = true;
      if (inside) calledInside = true;
    });
    inside = true;
    const sent = a.broadcast(t, 1);
    inside = false;
    await sent;
    await eventually(() => assert.ok(called));
    assert.equal(calledInside, false);
  });

  add('keeps the order of one broadcaster per topic, on every node, with topics interleaved', async (h) => {
    const [a, b, c] = (await h.nodes(3)) as [PubSub, PubSub, PubSub];
    const t1 = topic('order1');
    const t2 = topic('order2');
    const seen = new Map<string, number[]>();
    const record = (key: string) => (m: unknown) => {
      const list = seen.get(key) ?? [];
      list.push(m as number);
      seen.set(key, list);
    };
    for (const [name, node] of [['a', a], ['b', b]] as const) {
      await node.subscribe(t1, record(`${name}:t1`));
      await node.subscribe(t2, record(`${name}:t2`));
    }
    const n = 300;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      sends.push(c.broadcast(t1, i));
      sends.push(c.broadcast(t2, -(i + 1)));
    }
    await Promise.all(sends);
    const up = Array.from({ length: n }, (_, i) => i);
    const down = up.map((i) => -(i + 1));
    await eventually(() => {
      for (const key of ['a:t1', 'b:t1']) assert.deepEqual(seen.get(key), up, key);
      for (const key of ['a:t2', 'b:t2']) assert.deepEqual(seen.get(key), down, key);
    });
  });

  add('unsubscribe stops delivery at once and leaves the other subscribers', async (h) => {
    const [a, b] = (await h.nodes(2)) as [PubSub, PubSub];
    const t = topic('unsub');
    const gotA: unknown[] = [];
    const gotB: unknown[] = [];
    const offA = await a.subscribe(t, (m) => gotA.push(m));
    const offB = await b.subscribe(t, (m) => gotB.push(m));
    await b.broadcast(t, 1);
    await eventually(() => {
      assert.deepEqual(gotA, [1]);
      assert.deepEqual(gotB, [1]);
    });
    // Broadcast, then unsubscribe before the message can arrive: it must not be delivered.
    const sent = a.broadcast(t, 2);
    offA();
    await sent;
    await eventually(() => assert.deepEqual(gotB, [1, 2]));
    await b.broadcast(t, 3);
    await eventually(() => assert.deepEqual(gotB, [1, 2, 3]));
    await settle();
    assert.deepEqual(gotA, [1], 'nothing after unsubscribe');
    offA(); // a second call is harmless
    offB();
    await a.broadcast(t, 4);
    await settle();
    assert.deepEqual(gotB, [1, 2, 3]);
  });

  add('the same function subscribed twice is two subscriptions; each unsubscribes alone', async (h) => {
    const [a, b] = (await h.nodes(2)) as [PubSub, PubSub];
    const t = topic('twice');
    const got: unknown[] = [];
    const fn = (m: unknown) => got.push(m);
    const off1 = await a.subscribe(t, fn);
    const off2 = await a.subscribe(t, fn);
    await b.broadcast(t, 'x');
    await eventually(() => assert.deepEqual(got, ['x', 'x']));
    off1();
    await b.broadcast(t, 'y');
    await eventually(() => assert.deepEqual(got, ['x', 'x', 'y']));
    off2();
    // Subscribe again after the topic emptied (a backend may have dropped it).
    const off3 = await a.subscribe(t, fn);
    await b.broadcast(t, 'z');
    await eventually(() => assert.deepEqual(got, ['x', 'x', 'y', 'z']));
    off3();
  });

  add('many topics: each subscriber receives its own topic only', async (h) => {
    const [a, b] = (await h.nodes(2)) as [PubSub, PubSub];
    const count = 500;
    const topics = Array.from({ length: count }, (_, i) => topic(`many${i}`));
    const got = new Map<string, unknown[]>();
    const offs = await Promise.all(
      topics.map((t, i) => (i % 2 === 0 ? a : b).subscribe(t, (m) => got.set(t, [...(got.get(t) ?? []), m]))),
    );
    await Promise.all(topics.map((t, i) => (i % 2 === 0 ? b : a).broadcast(t, { i })));
    await eventually(() => assert.equal(got.size, count));
    await settle();
    topics.forEach((t, i) => assert.deepEqual(got.get(t), [{ i }], t));
    for (const off of offs) off();
  });

  add('a subscriber that throws harms no one: others receive, and it still gets later messages', async (h) => {
    const [a, b] = (await h.nodes(2)) as [PubSub, PubSub];
    const t = topic('throws');
    const thrower: unknown[] = [];
    const calm: unknown[] = [];
    await a.subscribe(t, (m) => {
      thrower.push(m);
      throw new Error('subscriber bug');
    });
    await a.subscribe(t, (m) => calm.push(m));
    await b.subscribe(t, (m) => calm.push(m));
    await b.broadcast(t, 1);
    await b.broadcast(t, 2);
    await eventually(() => {
      assert.deepEqual(thrower, [1, 2]);
      assert.deepEqual(calm.sort(), [1, 1, 2, 2]);
    });
  });

  add('carries JSON values intact, and topics with any characters literally', async (h) => {
    const [a, b] = (await h.nodes(2)) as [PubSub, PubSub];
    const t = topic('room:ä/ *?[x]');
    const lookalike = t.replace('*', 'X');
    const values: unknown[] = [null, true, 0, -1.5, 'a "quoted" line\nwith ünïcödé 🚀', [1, [2, { three: 3 }]], { nested: { list: [], empty: {} } }];
    const got: unknown[] = [];
    const other: unknown[] = [];
    await a.subscribe(t, (m) => got.push(m));
    await a.subscribe(lookalike, (m) => other.push(m));
    for (const v of values) await b.broadcast(t, v);
    await eventually(() => assert.deepEqual(got, values));
    assert.deepEqual(other, [], 'glob characters in a topic are not patterns');
  });

  return cases;
}
