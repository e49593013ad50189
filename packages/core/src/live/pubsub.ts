/**
 * Publish/subscribe between views. The in-process implementation serves one
 * node; a multi-node one (Redis, …) implements the same interface.
 */

/** Receives broadcast messages. */
export type Subscriber = (message: unknown) => void;

/** A pub/sub backend. */
export interface PubSub {
  /** Subscribes; the returned function unsubscribes. */
  subscribe(topic: string, subscriber: Subscriber): () => void;
  /** Delivers `message` to every subscriber of `topic`, possibly on other nodes. */
  broadcast(topic: string, message: unknown): void;
}

/**
 * In-process pub/sub. Delivery is asynchronous (a microtask later), so a
 * broadcaster never runs subscribers' code inside its own handler.
 *
 * @example
 * const pubsub = new MemoryPubSub()
 * const off = pubsub.subscribe('room:1', (m) => console.log(m))
 * pubsub.broadcast('room:1', { text: 'hi' })
 */
export class MemoryPubSub implements PubSub {
  readonly #topics = new Map<string, Set<Subscriber>>();

  subscribe(topic: string, subscriber: Subscriber): () => void {
    let subs = this.#topics.get(topic);
    if (!subs) this.#topics.set(topic, (subs = new Set()));
    subs.add(subscriber);
    return () => {
      const set = this.#topics.get(topic);
      if (!set) return;
      set.delete(subscriber);
      if (set.size === 0) this.#topics.delete(topic);
    };
  }

  broadcast(topic: string, message: unknown): void {
    const subs = this.#topics.get(topic);
    if (!subs) return;
    for (const sub of [...subs]) {
      queueMicrotask(() => {
        try {
          sub(message);
        } catch (e) {
          console.error('[inlet] pubsub subscriber failed', e);
        }
      });
    }
  }

  /** Number of topics with subscribers (for tests and metrics). */
  get topicCount(): number {
    return this.#topics.size;
  }
}
