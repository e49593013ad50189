/**
 * Every PubSub Inlet ships passes the shared conformance cases: MemoryPubSub
 * as one node, RedisPubSub as three nodes on a real redis-server.
 */
import { createRedisClient, RedisPubSub, type RedisClient } from '@inletjs/redis';
import { MemoryPubSub, type PubSub } from 'inletjs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startRedis, type TestRedis } from '../support/redis.js';
import { pubSubConformanceCases } from './pubsub-cases.js';

describe('MemoryPubSub', () => {
  for (const c of pubSubConformanceCases({
    nodes: async (n) => {
      const one = new MemoryPubSub();
      return Array.from({ length: n }, () => one);
    },
  })) {
    it(c.name, c.run);
  }
});

describe('RedisPubSub', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  let open: { client: RedisClient; pubsub: RedisPubSub }[] = [];
  const nodes = async (n: number): Promise<PubSub[]> => {
    for (let i = 0; i < n; i++) {
      const client = await createRedisClient({ url: redis.url });
      open.push({ client, pubsub: new RedisPubSub({ client, onSubscriberError: () => undefined }) });
    }
    return open.slice(-n).map((o) => o.pubsub);
  };
  const cleanup = async () => {
    const closing = open;
    open = [];
    for (const { client, pubsub } of closing) {
      await pubsub.close();
      await client.close();
    }
  };
  for (const c of pubSubConformanceCases({ nodes, cleanup })) {
    it(c.name, c.run);
  }
});
