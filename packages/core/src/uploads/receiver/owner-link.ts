/**
 * Messages between receiver nodes. A receiver session belongs to the view
 * that minted it, on the node holding that view's socket (its "owner" node);
 * a chunk may land on any node. Whatever node stores a chunk tells the owner
 * about progress, completion and failure over pub/sub (one topic per node),
 * and asks it to check an upload's first bytes, since the check is the
 * view's code (its `accept` and `sniff` rules). On one node, messages to
 * itself are handed over in-process and never touch the pub/sub.
 */
import { randomBytes } from 'node:crypto';
import type { PubSub, Unsubscribe } from '../../live/pubsub.js';
import type { Logger } from '../../logger.js';
import type { JsonObject } from '../cluster/json.js';

/** Topic of a node's receiver messages: `inlet:receiver:<node id>`. */
export const RECEIVER_TOPIC_PREFIX = 'inlet:receiver:';
/** How long a node waits for the owner's verdict on an upload's first bytes before answering 503. */
export const FIRST_BYTES_TIMEOUT_MS = 5_000;

/** What the owner needs to know to build the listeners' view of a session. */
export interface SessionSnapshot extends JsonObject {
  id: string;
  viewId: string;
  confRef: string;
  entryRef: string;
  maxSize: number;
  contentType: string | null;
  offset: number;
  total: number | null;
  expiresAt: number;
  state: string;
}

/** A session event for its owner. */
export type OwnerEvent =
  | { readonly t: 'progress'; readonly s: SessionSnapshot; readonly offset: number; readonly total: number }
  /** `meta` is JSON when it crossed nodes; in-process it is what the store returned. */
  | { readonly t: 'complete'; readonly s: SessionSnapshot; readonly meta: Record<string, unknown> }
  | { readonly t: 'error'; readonly s: SessionSnapshot; readonly reason: string; readonly message?: string };

type Wire =
  | OwnerEvent
  | { readonly t: 'check'; readonly record: string; readonly head: string; readonly reply: string; readonly rid: string }
  | { readonly t: 'checked'; readonly rid: string; readonly refusal?: string; readonly unknown?: true };

/** The owner's answer about first bytes: a refusal message, none (accepted), or `unknown` (it no longer holds the session). */
export type FirstBytesVerdict = { readonly refusal?: string } | 'unknown' | 'timeout';

/** What a node does with what it is sent. */
export interface OwnerHandlers {
  event(event: OwnerEvent): void;
  /** Checks first bytes of a session minted here; undefined when this node has no such session. */
  checkFirstBytes(record: string, head: Buffer): Promise<{ refusal?: string } | undefined>;
}

/**
 * One node's end of the receiver messages.
 *
 * @example
 * const link = new OwnerLink({ node, pubsub, handlers, logger });
 * await link.start();
 * link.send(record.owner.node, { t: 'progress', s, offset, total });
 */
export class OwnerLink {
  readonly node: string;
  readonly #pubsub: PubSub | undefined;
  readonly #handlers: OwnerHandlers;
  readonly #logger: Logger;
  readonly #waiting = new Map<string, (verdict: FirstBytesVerdict) => void>();
  #started: Promise<void> | undefined;
  #unsubscribe: Unsubscribe | undefined;
  #closed = false;

  constructor(options: { node: string; pubsub?: PubSub | undefined; handlers: OwnerHandlers; logger: Logger }) {
    this.node = options.node;
    this.#pubsub = options.pubsub;
    this.#handlers = options.handlers;
    this.#logger = options.logger;
  }

  /** Subscribes to this node's topic (once); resolves when messages can arrive. */
  start(): Promise<void> {
    this.#started ??= this.#pubsub
      ? this.#pubsub.subscribe(`${RECEIVER_TOPIC_PREFIX}${this.node}`, (m) => this.#receive(m)).then((off) => {
          if (this.#closed) off();
          else this.#unsubscribe = off;
        })
      : Promise.resolve();
    return this.#started;
  }

  /** Sends an event to the owner node (in-process when that is this node). Never rejects: a lost event is logged. */
  send(node: string, event: OwnerEvent): void {
    if (node === this.node || !this.#pubsub) {
      queueMicrotask(() => this.#handlers.event(event));
      return;
    }
    this.#broadcast(node, event);
  }

  /** Asks the owner node to check an upload's first bytes. */
  async checkFirstBytes(node: string, record: string, head: Buffer): Promise<FirstBytesVerdict> {
    if (node === this.node || !this.#pubsub) return (await this.#handlers.checkFirstBytes(record, head)) ?? 'unknown';
    await this.start();
    const rid = randomBytes(9).toString('base64url');
    return new Promise<FirstBytesVerdict>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(rid);
        resolve('timeout');
      }, FIRST_BYTES_TIMEOUT_MS);
      this.#waiting.set(rid, (verdict) => {
        clearTimeout(timer);
        this.#waiting.delete(rid);
        resolve(verdict);
      });
      this.#broadcast(node, { t: 'check', record, head: head.toString('base64'), reply: this.node, rid });
    });
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const resolve of [...this.#waiting.values()]) resolve('timeout');
  }

  #broadcast(node: string, message: Wire): void {
    this.#pubsub?.broadcast(`${RECEIVER_TOPIC_PREFIX}${node}`, message).catch((err: unknown) => {
      this.#logger.warn({ err, node, type: message.t }, 'upload receiver could not reach the node holding the view');
    });
  }

  #receive(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null) return;
    const message = raw as Wire;
    switch (message.t) {
      case 'progress':
      case 'complete':
      case 'error':
        this.#handlers.event(message);
        return;
      case 'check':
        void this.#answerCheck(message);
        return;
      case 'checked':
        this.#waiting.get(message.rid)?.(message.unknown ? 'unknown' : message.refusal !== undefined ? { refusal: message.refusal } : {});
        return;
      default:
        this.#logger.debug({ type: (message as { t?: unknown }).t }, 'upload receiver ignored a message it does not know');
    }
  }

  async #answerCheck(message: Extract<Wire, { t: 'check' }>): Promise<void> {
    let verdict: { refusal?: string } | undefined;
    try {
      verdict = await this.#handlers.checkFirstBytes(message.record, Buffer.from(message.head, 'base64'));
    } catch (err) {
      this.#logger.error({ err }, 'checking the first bytes of an upload failed');
      verdict = { refusal: 'the server could not check this file' };
    }
    const reply: Wire = verdict === undefined ? { t: 'checked', rid: message.rid, unknown: true } : { t: 'checked', rid: message.rid, ...verdict };
    this.#broadcast(message.reply, reply);
  }
}
