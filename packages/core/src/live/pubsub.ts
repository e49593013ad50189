/**
 * Publish/subscribe between views. The in-process implementation serves one
 * node; a multi-node one (`RedisPubSub` in `@inletjs/redis`) implements the
 * same interface, and both pass the suite in `test/conformance/pubsub`.
 */

import { createLogger, type Logger } from '../logger.js';

/**
 * Receives broadcast messages.
 *
 * @example
 * const onMessage: Subscriber = (message) => socket.sendInfo(message)
 * const unsubscribe = await pubsub.subscribe('room:lobby', onMessage)
 */
export type Subscriber = (message: unknown) => void;

/**
 * Stops one subscription. Synchronous: no message reaches the subscriber after it returns.
 *
 * @example
 * const unsubscribe: Unsubscribe = await pubsub.subscribe('room:lobby', (m) => console.log(m))
 * unsubscribe() // no message reaches the subscriber from here on
 */
export type Unsubscribe = () => void;

/**
 * A pub/sub backend.
 *
 * The contract every implementation keeps (and the conformance suite checks):
 * - `subscribe` resolves once the subscription is live: a message broadcast
 *   after that, from any node, reaches the subscriber.
 * - Messages of one topic from one broadcaster arrive in the order they were
 *   broadcast.
 * - Delivery is asynchronous: a subscriber never runs inside `broadcast`.
 * - A subscriber that throws harms no one else: the others still receive the
 *   message, and it still receives later ones.
 * - Messages are JSON values. A backend that crosses processes sends them as
 *   JSON, so a `Date` arrives as a string and `undefined` fields vanish.
 *
 * @example
 * async function announce(pubsub: PubSub, text: string) {
 *   await pubsub.broadcast('room:lobby', { kind: 'said', text })
 * }
 */
export interface PubSub {
  /** Subscribes; resolves to the function that unsubscribes, once the subscription is live. */
  subscribe(topic: string, subscriber: Subscriber): Promise<Unsubscribe>;
  /**
   * Delivers `message` to every subscriber of `topic`, possibly on other nodes.
   * Resolves once the backend took the message; rejects when it could not
   * (a network backend that is down).
   */
  broadcast(topic: string, message: unknown): Promise<void>;
}

/**
 * In-process pub/sub. Delivery is asynchronous (a microtask later), so a
 * broadcaster never runs subscribers' code inside its own handler.
 *
 * @example
 * const pubsub = new MemoryPubSub()
 * const off = await pubsub.subscribe('room:1', (m) => console.log(m))
 * await pubsub.broadcast('room:1', { text: 'hi' })
 * off()
 */
export class MemoryPubSub implements PubSub {
  readonly #topics = new Map<string, Set<Subscriber>>();
  readonly #logger: Logger;

  /** `logger` receives subscribers' failures; default: the built-in stderr logger. */
  constructor(options: { readonly logger?: Logger } = {}) {
    this.#logger = options.logger ?? createLogger();
  }

  async subscribe(topic: string, subscriber: Subscriber): Promise<Unsubscribe> {
    let subs = this.#topics.get(topic);
    if (!subs) this.#topics.set(topic, (subs = new Set()));
    // A wrapper per call, so one function subscribed twice is two subscriptions.
    const entry: Subscriber = (message) => subscriber(message);
    subs.add(entry);
    return () => {
      const set = this.#topics.get(topic);
      if (!set) return;
      set.delete(entry);
      if (set.size === 0) this.#topics.delete(topic);
    };
  }

  async broadcast(topic: string, message: unknown): Promise<void> {
    const subs = this.#topics.get(topic);
    if (!subs) return;
    for (const sub of [...subs]) {
      queueMicrotask(() => {
        // Unsubscribed between the broadcast and this microtask: skip it.
        if (!this.#topics.get(topic)?.has(sub)) return;
        try {
          sub(message);
        } catch (e) {
          this.#logger.error({ err: e, topic }, 'pubsub subscriber failed');
        }
      });
    }
  }

  /** Number of topics with subscribers (for tests and metrics). */
  get topicCount(): number {
    return this.#topics.size;
  }
}
