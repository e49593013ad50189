/**
 * The shared upload primitives pass their conformance cases: the in-memory
 * defaults (one node) and the Redis implementations (three clients on one
 * real redis-server, standing for three nodes). The Redis resume session
 * store runs the resume cases of `inletjs/testing` (the in-memory one runs
 * them in resume-sessions.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { createRedisClient, RedisLocker, RedisQuotaCounter, RedisResumeSessionStore, RedisUploadStateStore, type RedisClient } from '@inletjs/redis';
import { MemoryLocker, MemoryQuotaCounter, MemoryUploadStateStore } from 'inletjs';
import { resumeSessionConformanceCases } from 'inletjs/testing';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { startRedis, type TestRedis } from '../support/redis.js';
import { lockCases, quotaCases, uploadStateCases, type Case } from './cluster-cases.js';

const run = (cases: Case[]) => {
  for (const c of cases) it(c.name, c.run);
};
const same = <T>(make: () => T) => async (n: number) => {
  const one = make();
  return Array.from({ length: n }, () => one);
};

describe('in-memory defaults', () => {
  describe('MemoryLocker', () => run(lockCases(same(() => new MemoryLocker()))));
  describe('MemoryQuotaCounter', () => run(quotaCases(same(() => new MemoryQuotaCounter()))));
  describe('MemoryUploadStateStore', () => run(uploadStateCases(same(() => new MemoryUploadStateStore()))));
});

describe('Redis', () => {
  let redis: TestRedis;
  let clients: RedisClient[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });
  afterAll(() => redis.stop());
  const per = <T>(make: (client: RedisClient) => T) => async (n: number) => {
    const out: T[] = [];
    for (let i = 0; i < n; i++) {
      const client = await createRedisClient({ url: redis.url });
      clients.push(client);
      out.push(make(client));
    }
    return out;
  };
  describe('RedisLocker', () => run(lockCases(per((client) => new RedisLocker({ client })))));
  describe('RedisQuotaCounter', () => run(quotaCases(per((client) => new RedisQuotaCounter({ client })))));
  describe('RedisUploadStateStore', () => run(uploadStateCases(per((client) => new RedisUploadStateStore({ client })))));
  describe('RedisResumeSessionStore', () =>
    run(
      resumeSessionConformanceCases({
        // A fresh prefix per case: an empty store, on the same server as the others.
        create: async () => {
          const client = await createRedisClient({ url: redis.url });
          clients.push(client);
          return new RedisResumeSessionStore({ client, prefix: `t${randomBytes(4).toString('hex')}:` });
        },
      }),
    ));
});
