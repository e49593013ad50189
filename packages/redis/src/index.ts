/**
 * @inletjs/redis: Redis for Inlet clusters. Pub/sub between nodes, and the
 * shared state that lets any node continue any upload. Owns the Redis client
 * (node-redis) so the `inletjs` core never loads it.
 *
 * @example
 * import { createRedisClient, RedisPubSub } from '@inletjs/redis';
 * const redis = await createRedisClient({ url: process.env.REDIS_URL });
 * const pubsub = new RedisPubSub({ client: redis });
 */
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_OFFLINE_QUEUE_LENGTH,
  MAX_RECONNECT_DELAY_MS,
  createRedisClient,
  type RedisClient,
  type RedisConnectOptions,
} from './client.js';
export { DEFAULT_CHANNEL_PREFIX, RedisPubSub, type RedisPubSubOptions } from './pubsub.js';
export { DEFAULT_LOCK_PREFIX, RedisLocker, type RedisLockerOptions } from './lock.js';
export { DEFAULT_QUOTA_PREFIX, RedisQuotaCounter, type RedisQuotaCounterOptions } from './quota.js';
export { DEFAULT_UPLOAD_PREFIX, RECORD_GRACE_MS, RedisUploadStateStore, type RedisUploadStateStoreOptions } from './state-store.js';
export { DEFAULT_RESUME_PREFIX, RedisResumeSessionStore, type RedisResumeSessionStoreOptions } from './resume-sessions.js';
