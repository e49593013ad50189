/**
 * What a running view waits on outside a client request: its pubsub
 * subscriptions (each live once the pubsub confirms it) and the timers of
 * delayed messages and updates. Stopping the view ends both.
 */
import type { Logger } from '../logger.js';
import type { PubSub, Unsubscribe } from './pubsub.js';

/** One topic's subscription; `off` is set once the pubsub confirmed it. */
interface Subscription {
  off?: Unsubscribe;
}

/** The pubsub topics one view instance is subscribed to. */
export class Subscriptions {
  readonly #pubsub: PubSub;
  readonly #logger: Logger;
  readonly #view: string;
  readonly #deliver: (message: unknown) => void;
  readonly #subscriptions = new Map<string, Subscription>();
  /** Subscriptions asked for and not yet live; a callback's outcome waits for them. */
  readonly #pendingSubscriptions = new Set<Promise<void>>();

  constructor(pubsub: PubSub, logger: Logger, view: string, deliver: (message: unknown) => void) {
    this.#pubsub = pubsub;
    this.#logger = logger;
    this.#view = view;
    this.#deliver = deliver;
  }

  /** Subscribes to `topic` (once), delivering its messages to the view. */
  subscribe(topic: string): void {
    if (this.#subscriptions.has(topic)) return;
    const subscription: Subscription = {};
    this.#subscriptions.set(topic, subscription);
    const live = this.#pubsub.subscribe(topic, (message) => this.#deliver(message)).then(
      (off) => {
        // Unsubscribed (or stopped) while the subscription was being set up.
        if (this.#subscriptions.get(topic) === subscription) subscription.off = off;
        else off();
      },
      (e: unknown) => {
        if (this.#subscriptions.get(topic) === subscription) this.#subscriptions.delete(topic);
        this.#logger.error({ err: e, view: this.#view, topic }, 'pubsub subscribe failed');
      },
    );
    this.#pendingSubscriptions.add(live);
    void live.finally(() => this.#pendingSubscriptions.delete(live));
  }

  unsubscribe(topic: string): void {
    const subscription = this.#subscriptions.get(topic);
    this.#subscriptions.delete(topic);
    subscription?.off?.();
  }

  /** Unsubscribes from every topic (the view stopped). */
  unsubscribeAll(): void {
    for (const topic of [...this.#subscriptions.keys()]) this.unsubscribe(topic);
  }

  /** Waits until every subscription asked for so far is live (Redis confirms a SUBSCRIBE in a round trip). */
  async live(): Promise<void> {
    if (this.#pendingSubscriptions.size > 0) await Promise.all(this.#pendingSubscriptions);
  }
}

/** The timers of one view instance's delayed work, cleared when it stops. */
export class Timers {
  readonly #timers = new Set<NodeJS.Timeout>();

  /** Runs `fn` in a microtask, or after `delayMs` when that is positive. */
  schedule(fn: () => void, delayMs?: number): void {
    if (delayMs === undefined || delayMs <= 0) {
      queueMicrotask(fn);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, delayMs);
    this.#timers.add(timer);
  }

  clear(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
