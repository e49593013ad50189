/**
 * One client connection: decodes frames, answers heartbeats, and multiplexes
 * topics onto channels with Phoenix's join/leave/close/error semantics.
 *
 * Every frame of one topic is handled in order; different topics run
 * independently. A throwing channel is reported to its client as
 * `phx_error` and removed; the connection and its other channels carry on.
 */
import { createLogger, type Logger } from '../logger.js';
import type { Channel, ChannelContext, ChannelRouter, ConnectionInfo, Reply, TerminateReason } from './channel.js';
import { CHANNEL_EVENTS, CHANNEL_REASONS, CLOSE_CODES, PHOENIX_TOPIC } from './events.js';
import { decodeBinary, decodeText, encode, encodeReply, isMalformed, type Frame } from './frames.js';

/** The part of a WebSocket the connection needs; `ws` fits, so does a test double. */
export interface WebSocketLike {
  send(data: string | Buffer): void;
  close(code?: number, reason?: string): void;
}

/** Default maximum number of channels one connection may join (Phoenix uses 100). */
export const DEFAULT_MAX_CHANNELS = 100;
/**
 * Default bytes of received frames waiting to be handled before the transport
 * is asked to stop reading (backpressure). Reading resumes below half of it.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** What a queued frame costs besides its bytes (its frame object, closure and promise). */
export const QUEUED_FRAME_OVERHEAD_BYTES = 1024;
/**
 * Default joins that may wait for a free channel once a connection holds
 * `maxChannels`: none, a join past the limit is refused at once. The official
 * client joins one `lvu:` channel per file of a batch, all at once, so a page
 * that takes large batches raises it (the server's `maxWaitingJoins`) and
 * joins past the limit wait in order instead of failing their file.
 */
export const DEFAULT_MAX_WAITING_JOINS = 0;

export interface ConnectionOptions {
  readonly router: ChannelRouter;
  readonly params?: Readonly<Record<string, string>>;
  readonly csrfValid?: boolean;
  /** Channels one connection may hold at once. Default {@link DEFAULT_MAX_CHANNELS}. */
  readonly maxChannels?: number;
  /**
   * Joins that wait, in arrival order, for a free channel while the connection
   * holds `maxChannels`; past that a join is refused with `too_many_channels`.
   * Default {@link DEFAULT_MAX_WAITING_JOINS} (0: refused at once).
   */
  readonly maxWaitingJoins?: number;
  /** Queued bytes that trigger backpressure. Default {@link DEFAULT_MAX_QUEUED_BYTES}. */
  readonly maxQueuedBytes?: number;
  /** Called with true when the transport should stop reading, false when it may read again. */
  readonly onBackpressure?: (paused: boolean) => void;
  /** Where failures are logged (records carry `topic` and `channelEvent`); default: the built-in stderr logger. */
  readonly logger?: Logger;
}

interface Slot {
  readonly joinRef: string;
  channel?: Channel;
  /** Frames of this topic are handled one after another. */
  queue: Promise<void>;
  closed: boolean;
}

export class Connection implements ConnectionInfo {
  readonly params: Readonly<Record<string, string>>;
  readonly csrfValid: boolean;
  readonly #ws: WebSocketLike;
  readonly #router: ChannelRouter;
  readonly #maxChannels: number;
  readonly #logger: Logger;
  readonly #slots = new Map<string, Slot>();
  /**
   * Joins waiting for a free channel, oldest first. A client whose join timed
   * out leaves and joins again: the leave marks the entry (`left`), the new
   * join takes its place in the line.
   */
  readonly #waiting = new Map<string, { frame: Frame; left: boolean }>();
  readonly #maxWaiting: number;
  readonly #maxQueuedBytes: number;
  readonly #onBackpressure?: (paused: boolean) => void;
  #queuedBytes = 0;
  #paused = false;
  #closed = false;

  constructor(ws: WebSocketLike, options: ConnectionOptions) {
    this.#ws = ws;
    this.#router = options.router;
    this.params = options.params ?? {};
    this.csrfValid = options.csrfValid ?? false;
    this.#maxChannels = options.maxChannels ?? DEFAULT_MAX_CHANNELS;
    this.#maxWaiting = options.maxWaitingJoins ?? DEFAULT_MAX_WAITING_JOINS;
    this.#logger = options.logger ?? createLogger();
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#onBackpressure = options.onBackpressure;
  }

  /** Bytes of received frames not handled yet. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  #account(delta: number): void {
    this.#queuedBytes += delta;
    if (!this.#paused && this.#queuedBytes > this.#maxQueuedBytes) {
      this.#paused = true;
      this.#onBackpressure?.(true);
    } else if (this.#paused && this.#queuedBytes <= this.#maxQueuedBytes / 2) {
      this.#paused = false;
      this.#onBackpressure?.(false);
    }
  }

  get channels(): ReadonlyMap<string, Channel> {
    const out = new Map<string, Channel>();
    for (const [topic, slot] of this.#slots) if (slot.channel) out.set(topic, slot.channel);
    return out;
  }

  /** Feeds one WebSocket message. */
  receive(data: Buffer | string, isBinary: boolean): void {
    if (this.#closed) return;
    const frame = isBinary ? decodeBinary(Buffer.isBuffer(data) ? data : Buffer.from(data)) : decodeText(data.toString());
    if (isMalformed(frame)) {
      if (frame.ref !== undefined && frame.topic !== undefined) {
        this.#send(encodeReply(frame.joinRef ?? null, frame.ref, frame.topic, 'error', { reason: CHANNEL_REASONS.MALFORMED, detail: frame.malformed }));
      } else {
        this.#logger.warn({ reason: frame.malformed }, 'closing a connection that sent a malformed frame');
        this.close(CLOSE_CODES.INVALID_PAYLOAD, frame.malformed);
      }
      return;
    }
    this.#dispatch(frame, data.length + QUEUED_FRAME_OVERHEAD_BYTES);
  }

  /** The transport went away: terminate every channel. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting.clear();
    for (const [topic, slot] of this.#slots) this.#drop(topic, slot, 'socket_closed');
  }

  /** Closes the transport and terminates every channel. */
  close(code: number = CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.#closed) return;
    try {
      this.#ws.close(code, reason.slice(0, 120));
    } catch {
      // already closing
    }
    this.closed();
  }

  #send(text: string): void {
    if (this.#closed) return;
    try {
      this.#ws.send(text);
    } catch (e) {
      this.#logger.error({ err: e }, 'send failed');
    }
  }

  #dispatch(frame: Frame, size: number): void {
    const { topic, event, ref, joinRef } = frame;
    if (topic === PHOENIX_TOPIC) {
      if (event === CHANNEL_EVENTS.HEARTBEAT) this.#send(encodeReply(null, ref, PHOENIX_TOPIC, 'ok', {}));
      else this.#send(encodeReply(null, ref, PHOENIX_TOPIC, 'error', { reason: CHANNEL_REASONS.UNMATCHED_TOPIC }));
      return;
    }
    if (event === CHANNEL_EVENTS.JOIN) {
      this.#join(frame);
      return;
    }
    const slot = this.#slots.get(topic);
    const waiting = slot ? undefined : this.#waiting.get(topic);
    if (waiting && event === CHANNEL_EVENTS.LEAVE) {
      waiting.left = true;
      this.#send(encodeReply(joinRef, ref, topic, 'ok', {}));
      return;
    }
    if (!slot || slot.closed || (joinRef !== null && joinRef !== slot.joinRef)) {
      this.#send(encodeReply(joinRef, ref, topic, 'error', { reason: CHANNEL_REASONS.UNMATCHED_TOPIC }));
      return;
    }
    if (event === CHANNEL_EVENTS.LEAVE) {
      this.#enqueue(topic, slot, async () => {
        this.#send(encodeReply(slot.joinRef, ref, topic, 'ok', {}));
        // Like Phoenix, a channel that ends says so; the client has already forgotten it.
        if (!slot.closed) this.#send(encode(slot.joinRef, slot.joinRef, topic, CHANNEL_EVENTS.CLOSE, {}));
        this.#drop(topic, slot, 'leave');
      });
      return;
    }
    this.#account(size);
    this.#enqueue(topic, slot, async () => {
      this.#account(-size);
      const channel = slot.channel;
      if (!channel) {
        // The join was refused, or a leave or close came first: answer, never drop.
        if (ref !== null) this.#send(encodeReply(joinRef, ref, topic, 'error', { reason: CHANNEL_REASONS.UNMATCHED_TOPIC }));
        return;
      }
      let reply: Reply | undefined;
      try {
        reply = await channel.handleIn(event, frame.payload);
      } catch (e) {
        this.#logger.error({ err: e, topic, channelEvent: event, ...channel.logContext?.(event, frame.payload) }, 'channel crashed');
        this.#crash(topic, slot);
        return;
      }
      if (reply && ref !== null && !slot.closed) this.#send(encodeReply(slot.joinRef, ref, topic, reply.status, reply.response));
    });
  }

  #join(frame: Frame): void {
    const { topic, ref } = frame;
    const joinRef = frame.joinRef ?? ref;
    const reply = (status: 'ok' | 'error', response: Record<string, unknown>): void =>
      this.#send(encodeReply(joinRef, ref, topic, status, response));
    if (joinRef === null || Buffer.isBuffer(frame.payload)) {
      reply('error', { reason: CHANNEL_REASONS.MALFORMED });
      return;
    }
    const factory = this.#router(topic);
    if (!factory) {
      reply('error', { reason: CHANNEL_REASONS.UNMATCHED_TOPIC });
      return;
    }
    const previous = this.#slots.get(topic);
    if (previous) {
      this.#send(encode(previous.joinRef, previous.joinRef, topic, CHANNEL_EVENTS.CLOSE, {}));
      this.#drop(topic, previous, 'rejoin');
    }
    if (this.#slots.size >= this.#maxChannels) {
      if (!this.#waiting.has(topic) && this.#waiting.size >= this.#maxWaiting) {
        reply('error', { reason: CHANNEL_REASONS.TOO_MANY_CHANNELS });
        return;
      }
      this.#waiting.set(topic, { frame, left: false });
      return;
    }
    this.#waiting.delete(topic);
    // A rejoin runs after whatever the superseded join still has under way, so
    // that one is fully torn down before the new one binds (e.g. an upload entry).
    const slot: Slot = { joinRef, queue: previous ? previous.queue : Promise.resolve(), closed: false };
    this.#slots.set(topic, slot);
    const payload = frame.payload;
    const ctx = this.#context(topic, slot);
    this.#enqueue(topic, slot, async () => {
      try {
        const result = await factory(payload, ctx);
        if (slot.closed) {
          if ('channel' in result) result.channel.terminate('socket_closed');
          return;
        }
        if ('error' in result) {
          this.#release(topic, slot);
          slot.closed = true;
          reply('error', result.error);
          return;
        }
        slot.channel = result.channel;
        reply('ok', result.reply ?? {});
      } catch (e) {
        this.#logger.error({ err: e, topic }, 'join crashed');
        this.#release(topic, slot);
        slot.closed = true;
        reply('error', { reason: CHANNEL_REASONS.JOIN_CRASHED });
      }
    });
  }

  #context(topic: string, slot: Slot): ChannelContext {
    return {
      topic,
      joinRef: slot.joinRef,
      connection: this,
      push: (event, payload) => {
        if (!slot.closed) this.#send(encode(slot.joinRef, null, topic, event, payload));
      },
      close: () => {
        if (slot.closed) return;
        this.#send(encode(slot.joinRef, slot.joinRef, topic, CHANNEL_EVENTS.CLOSE, {}));
        this.#drop(topic, slot, 'close');
      },
      crash: () => this.#crash(topic, slot),
    };
  }

  #crash(topic: string, slot: Slot): void {
    if (slot.closed) return;
    this.#send(encode(slot.joinRef, slot.joinRef, topic, CHANNEL_EVENTS.ERROR, { reason: CHANNEL_REASONS.CRASHED }));
    this.#drop(topic, slot, 'crash');
  }

  /** Frees the topic's channel (when `slot` still holds it) and lets a waiting join in. */
  #release(topic: string, slot: Slot): void {
    if (this.#slots.get(topic) !== slot) return;
    this.#slots.delete(topic);
    if (this.#waiting.size > 0) queueMicrotask(() => this.#admitWaiting());
  }

  #drop(topic: string, slot: Slot, reason: TerminateReason): void {
    this.#release(topic, slot);
    if (slot.closed && reason !== 'socket_closed') return;
    slot.closed = true;
    const channel = slot.channel;
    slot.channel = undefined;
    if (!channel) return;
    try {
      channel.terminate(reason);
    } catch (e) {
      this.#logger.error({ err: e, topic }, 'terminating a channel failed');
    }
  }

  /** Lets waiting joins in, oldest first, while channels are free. */
  #admitWaiting(): void {
    while (!this.#closed && this.#slots.size < this.#maxChannels && this.#waiting.size > 0) {
      const [topic, waiting] = this.#waiting.entries().next().value as [string, { frame: Frame; left: boolean }];
      this.#waiting.delete(topic);
      if (!waiting.left) this.#join(waiting.frame);
    }
  }

  #enqueue(topic: string, slot: Slot, task: () => Promise<void>): void {
    slot.queue = slot.queue.then(task).catch((e: unknown) => {
      this.#logger.error({ err: e, topic }, 'unexpected failure on a channel');
    });
  }
}
