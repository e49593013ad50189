/**
 * The Redis client this package uses, and how it is set up for Inlet.
 *
 * Why node-redis (`@redis/client`) and not ioredis: both clients' maintainers
 * now point new projects at node-redis, which Redis Ltd. develops alongside
 * the server; it ships its own TypeScript types, has no runtime dependencies,
 * queues commands while reconnecting and re-subscribes a subscriber
 * connection's channels by itself after a reconnect (what {@link RedisPubSub}
 * relies on when Redis restarts). ioredis remains usable, but its own README
 * sends new projects to node-redis, and node-redis is where new server
 * features (RESP3, client-side caching, sharded pub/sub) land. We depend on
 * `@redis/client` alone, not the `redis` meta-package, so the JSON, search,
 * bloom and time-series modules are not installed.
 */
import { createClient, type RedisClientOptions } from '@redis/client';
import { createLogger, type Logger } from 'inletjs';

/**
 * The client type every class of this package takes (what {@link createRedisClient} returns).
 *
 * @example
 * function clusterParts(redis: RedisClient) {
 *   return { pubsub: new RedisPubSub({ client: redis }), states: new RedisUploadStateStore({ client: redis }) };
 * }
 */
export type RedisClient = ReturnType<typeof createClient>;

/**
 * Longest pause between reconnection attempts.
 *
 * @example
 * // back off up to 10 s between attempts instead
 * createRedisClient({ client: { socket: { reconnectStrategy: (n) => Math.min(50 * 2 ** n, 5 * MAX_RECONNECT_DELAY_MS) } } });
 */
export const MAX_RECONNECT_DELAY_MS = 2_000;
/**
 * Commands held while disconnected before new ones are refused (bounds memory during an outage).
 *
 * @example
 * createRedisClient({ url: process.env.REDIS_URL, offlineQueueLength: 4 * DEFAULT_OFFLINE_QUEUE_LENGTH });
 */
export const DEFAULT_OFFLINE_QUEUE_LENGTH = 10_000;
/**
 * Connection timeout.
 *
 * @example
 * // a far-away Redis: give the first connection longer
 * createRedisClient({ url: process.env.REDIS_URL, client: { socket: { connectTimeout: 3 * DEFAULT_CONNECT_TIMEOUT_MS } } });
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** At most one "Redis connection error" line per this many ms, per client. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Options of {@link createRedisClient}.
 *
 * @example
 * const options: RedisConnectOptions = { url: 'redis://:secret@cache.internal:6379/2', onError: (error) => logger.warn({ err: error }, 'redis down') };
 * const redis = await createRedisClient(options);
 */
export interface RedisConnectOptions {
  /** `redis://[[user]:password@]host[:port][/db]`; default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Commands queued while disconnected; default {@link DEFAULT_OFFLINE_QUEUE_LENGTH}. */
  offlineQueueLength?: number;
  /** Connection errors while reconnecting; default: logged through `logger`, once per 10 s at most. */
  onError?: (error: Error) => void;
  /** Where connection errors are logged when there is no `onError` (pino-compatible, as `createServer`'s); default: Inlet's built-in stderr logger. */
  logger?: Logger;
  /** Anything else node-redis accepts (TLS, credentials, RESP version…). */
  client?: Omit<RedisClientOptions, 'url'>;
}

/**
 * Creates and connects a node-redis client set up for an Inlet node: it
 * reconnects for ever with a capped backoff (a Redis restart is survived, not
 * fatal), bounds what it queues while disconnected, and reports connection
 * errors instead of crashing the process (an `error` event with no listener
 * would). Share one client per process between the classes of this package;
 * {@link RedisPubSub} opens its own subscriber connection from it.
 *
 * @example
 * const redis = await createRedisClient({ url: process.env.REDIS_URL });
 * const pubsub = new RedisPubSub({ client: redis });
 */
export async function createRedisClient(options: RedisConnectOptions = {}): Promise<RedisClient> {
  const client = createClient({
    ...options.client,
    url: options.url ?? 'redis://127.0.0.1:6379',
    commandsQueueMaxLength: options.offlineQueueLength ?? DEFAULT_OFFLINE_QUEUE_LENGTH,
    socket: {
      connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS),
      ...options.client?.socket,
    },
  });
  watchErrors(client, options.onError, options.logger);
  await client.connect();
  return client;
}

/**
 * Attaches the error listener a node-redis client must have: `onError`, or
 * else `logger.error`, at most once per 10 s (the record's `muted` counts the
 * errors not logged since the last one). Used for clients this package
 * creates (subscriber duplicates).
 *
 * @example
 * watchErrors(client, undefined, pino())
 */
export function watchErrors(client: RedisClient, onError?: (error: Error) => void, logger: Logger = createLogger()): void {
  let last = 0;
  let muted = 0;
  client.on('error', (error: Error) => {
    if (onError) return onError(error);
    const now = Date.now();
    if (now - last < ERROR_LOG_INTERVAL_MS) {
      muted += 1;
      return;
    }
    logger.error({ err: error, ...(muted > 0 ? { muted } : {}) }, 'Redis connection error');
    last = now;
    muted = 0;
  });
}
