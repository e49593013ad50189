/**
 * Pub/sub between Inlet nodes over Redis channels. Each node holds one
 * subscriber connection and one Redis channel per topic its views listen to,
 * fanning messages out to its local subscribers; a broadcast reaches the
 * broadcasting node's own subscribers directly and every other node through
 * Redis (as phoenix_pubsub_redis does).
 */
import { randomBytes } from 'node:crypto';
import { createLogger, type Logger, type PubSub, type Subscriber, type Unsubscribe } from 'inletjs';
import { watchErrors, type RedisClient } from './client.js';

/**
 * Prefix of the Redis channels by default: `inlet:pubsub:<topic>`.
 *
 * @example
 * // the topics some node listens to
 * const channels = await redis.pubSubChannels(`${DEFAULT_CHANNEL_PREFIX}*`);
 */
export const DEFAULT_CHANNEL_PREFIX = 'inlet:pubsub:';

/**
 * Options of {@link RedisPubSub}.
 *
 * @example
 * const pubsub = new RedisPubSub({
 *   client: redis,
 *   channelPrefix: 'shop:pubsub:', // a second app on the same Redis
 *   onSubscriberError: (error, topic) => logger.warn({ err: error, topic }, 'subscriber failed'),
 * });
 */
export interface RedisPubSubOptions {
  /** A connected client (see `createRedisClient`); it publishes, and a duplicate of it subscribes. */
  client: RedisClient;
  /** Prefix of the Redis channels; default {@link DEFAULT_CHANNEL_PREFIX}. Apps sharing one Redis use different prefixes. */
  channelPrefix?: string;
  /** Where failures are logged when `onSubscriberError` or `onError` is not given (pino-compatible); default: Inlet's built-in stderr logger. */
  logger?: Logger;
  /** A subscriber threw (it still receives later messages); default: logged with its `topic`. */
  onSubscriberError?: (error: unknown, topic: string) => void;
  /** Redis refused a SUBSCRIBE, sent a message this class cannot read, or the subscriber connection failed; default: logged (connection errors at most once per 10 s). */
  onError?: (error: unknown) => void;
}

interface Topic {
  readonly subscribers: Set<Subscriber>;
  /** Resolves once Redis confirmed the SUBSCRIBE, or at once while Redis is unreachable. */
  live: Promise<void>;
}

/**
 * A {@link PubSub} for several Inlet nodes sharing one Redis. Messages are
 * sent as JSON. While Redis is down, broadcasts still reach the subscribers
 * of the node that sent them; messages for other nodes are queued by the
 * client (bounded) and published once it reconnects, and the subscriber
 * connection re-subscribes every topic by itself, so broadcasts resume with
 * no action from the app. Redis pub/sub keeps no history: a node misses what
 * was published while its subscriber connection was down.
 *
 * @example
 * import { createRedisClient, RedisPubSub } from '@inletjs/redis';
 * import { createServer } from 'inletjs/node';
 *
 * const redis = await createRedisClient({ url: process.env.REDIS_URL });
 * const server = createServer({ routes, secret, pubsub: new RedisPubSub({ client: redis }) });
 */
export class RedisPubSub implements PubSub {
  /** Id of this node in the messages it publishes (so it skips its own). */
  readonly nodeId = randomBytes(9).toString('base64url');
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #onSubscriberError: (error: unknown, topic: string) => void;
  readonly #onError: (error: unknown) => void;
  readonly #customOnError: boolean;
  readonly #logger: Logger;
  readonly #topics = new Map<string, Topic>();
  /** Topics whose SUBSCRIBE failed; retried when the subscriber connection is ready again. */
  readonly #retry = new Set<string>();
  #subscriber: Promise<RedisClient> | undefined;
  #closed = false;

  constructor(options: RedisPubSubOptions) {
    this.#client = options.client;
    this.#prefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
    const logger = (this.#logger = options.logger ?? createLogger());
    this.#onSubscriberError = options.onSubscriberError ?? ((error, topic) => logger.error({ err: error, topic }, 'pubsub subscriber failed'));
    this.#onError = options.onError ?? ((error) => logger.error({ err: error }, 'Redis pubsub error'));
    this.#customOnError = options.onError !== undefined;
  }

  async subscribe(topic: string, subscriber: Subscriber): Promise<Unsubscribe> {
    if (this.#closed) throw new Error('RedisPubSub is closed');
    let entry = this.#topics.get(topic);
    if (!entry) {
      entry = { subscribers: new Set(), live: Promise.resolve() };
      this.#topics.set(topic, entry);
      entry.live = this.#listen(topic);
    }
    // A wrapper per call, so one function subscribed twice is two subscriptions.
    const own: Subscriber = (message) => subscriber(message);
    entry.subscribers.add(own);
    await entry.live;
    return () => this.#remove(topic, own);
  }

  async broadcast(topic: string, message: unknown): Promise<void> {
    if (this.#closed) throw new Error('RedisPubSub is closed');
    const json = JSON.stringify(message) ?? 'null';
    this.#deliver(topic, json);
    await this.#client.publish(this.#prefix + topic, `${this.nodeId} ${json}`);
  }

  /** Topics this node listens to (for tests and metrics). */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Drops every subscription and closes the subscriber connection (not the shared client). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#topics.clear();
    const subscriber = await this.#subscriber?.catch(() => undefined);
    if (subscriber?.isOpen) await subscriber.close().catch(() => undefined);
  }

  readonly #onMessage = (raw: string, channel: string): void => {
    const space = raw.indexOf(' ');
    if (space < 0) return this.#onError(new Error(`unreadable pubsub message on ${channel}`));
    if (raw.slice(0, space) === this.nodeId) return; // delivered locally when it was broadcast
    this.#deliver(channel.slice(this.#prefix.length), raw.slice(space + 1));
  };

  #deliver(topic: string, json: string): void {
    const entry = this.#topics.get(topic);
    if (!entry || entry.subscribers.size === 0) return;
    let message: unknown;
    try {
      message = JSON.parse(json);
    } catch (error) {
      return this.#onError(error);
    }
    for (const subscriber of [...entry.subscribers]) {
      queueMicrotask(() => {
        // Unsubscribed since: skip it.
        if (!this.#topics.get(topic)?.subscribers.has(subscriber)) return;
        try {
          subscriber(message);
        } catch (error) {
          this.#onSubscriberError(error, topic);
        }
      });
    }
  }

  #remove(topic: string, subscriber: Subscriber): void {
    const entry = this.#topics.get(topic);
    if (!entry?.subscribers.delete(subscriber) || entry.subscribers.size > 0) return;
    this.#topics.delete(topic);
    this.#retry.delete(topic);
    void this.#unlisten(topic);
  }

  async #listen(topic: string): Promise<void> {
    let subscriber: RedisClient;
    try {
      subscriber = await this.#subscriberClient();
    } catch (error) {
      this.#retry.add(topic);
      return this.#onError(error);
    }
    const done = subscriber.subscribe(this.#prefix + topic, this.#onMessage).then(
      () => {
        // Unsubscribed while the SUBSCRIBE was in flight.
        if (!this.#topics.has(topic)) void this.#unlisten(topic);
      },
      (error: unknown) => {
        if (this.#topics.has(topic)) this.#retry.add(topic);
        this.#onError(error);
      },
    );
    // While Redis is unreachable the SUBSCRIBE waits in the client's queue; local
    // broadcasts work meanwhile, so the caller is not held up until Redis returns.
    if (subscriber.isReady) await done;
  }

  async #unlisten(topic: string): Promise<void> {
    const subscriber = await this.#subscriber?.catch(() => undefined);
    if (!subscriber?.isOpen || this.#topics.has(topic)) return;
    await subscriber.unsubscribe(this.#prefix + topic, this.#onMessage).catch((error: unknown) => this.#onError(error));
  }

  #subscriberClient(): Promise<RedisClient> {
    if (!this.#subscriber) {
      const connecting = (async () => {
        const subscriber = this.#client.duplicate();
        // Connection errors of the subscriber go where the app sends ours, or to the rate-limited log.
        watchErrors(subscriber, this.#customOnError ? this.#onError : undefined, this.#logger);
        subscriber.on('ready', () => this.#retryFailed());
        await subscriber.connect();
        return subscriber;
      })();
      // A failed first connect is tried again by the next subscribe.
      connecting.catch(() => {
        if (this.#subscriber === connecting) this.#subscriber = undefined;
      });
      this.#subscriber = connecting;
    }
    return this.#subscriber;
  }

  #retryFailed(): void {
    for (const topic of [...this.#retry]) {
      this.#retry.delete(topic);
      const entry = this.#topics.get(topic);
      if (entry) entry.live = this.#listen(topic);
    }
  }
}
