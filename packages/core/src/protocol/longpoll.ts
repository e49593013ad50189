/**
 * Phoenix's long-poll transport, the part that knows nothing of HTTP: one
 * session per client (a {@link Connection} behind a message buffer), the
 * client's batches (newline-separated frames, binary ones base64) and the
 * JSON bodies the official client's `LongPoll` reads.
 *
 * Every answer is HTTP 200 with `{ status, token?, messages? }`: 410 with a
 * token opens a session (410 without one says the session is gone), 200
 * carries messages, 204 is a poll that waited its window out, 403 refuses.
 */
import type { WebSocketLike } from './connection.js';

/** Statuses the client's `LongPoll` understands, in the JSON body. */
export const LONGPOLL_STATUS = {
  OK: 200,
  NO_CONTENT: 204,
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  REQUEST_TIMEOUT: 408,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
} as const;

/** Frames one POST may carry; the client sends at most 100 per batch. */
export const MAX_LONGPOLL_BATCH = 100;

/** One frame of a client batch. */
export type BatchFrame = { readonly data: string; readonly binary: false } | { readonly data: Buffer; readonly binary: true };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Splits a client batch (`application/x-ndjson`: one frame a line; a text
 * frame starts with `[`, any other line is a binary frame in base64). A
 * body of another content type is one text frame. Returns an error string
 * for a batch that cannot be read: too many frames, bad base64, a frame
 * over `maxFrameBytes`.
 *
 * @example
 * parseBatch('[null,"1","phoenix","heartbeat",{}]\nAQID', true, 1024)
 * // [{ data: '[null,…]', binary: false }, { data: <Buffer 01 02 03>, binary: true }]
 */
export function parseBatch(body: string, ndjson: boolean, maxFrameBytes: number): BatchFrame[] | string {
  const lines = ndjson ? body.split(/\r?\n/).filter((l) => l.length > 0) : [body];
  if (lines.length > MAX_LONGPOLL_BATCH) return `a batch may hold at most ${MAX_LONGPOLL_BATCH} frames, got ${lines.length}`;
  const frames: BatchFrame[] = [];
  for (const line of lines) {
    if (line.startsWith('[') || !ndjson) {
      if (Buffer.byteLength(line) > maxFrameBytes) return `a frame is larger than ${maxFrameBytes} bytes`;
      frames.push({ data: line, binary: false });
      continue;
    }
    if (line.length % 4 !== 0 || !BASE64.test(line)) return 'a binary frame is not valid base64';
    const data = Buffer.from(line, 'base64');
    if (data.length > maxFrameBytes) return `a frame is larger than ${maxFrameBytes} bytes`;
    frames.push({ data, binary: true });
  }
  return frames;
}

/** A poll waiting for messages: answered once. */
type Waiter = (messages: string[] | undefined) => void;

/**
 * The server end of one long-poll client: looks like a WebSocket to its
 * {@link Connection} (`send` buffers, `close` ends the session) and hands
 * the buffer to whichever poll is waiting.
 */
export class LongPollSession implements WebSocketLike {
  readonly token: string;
  #buffer: string[] = [];
  #waiter?: Waiter;
  #closed = false;
  #lastSeen = Date.now();
  readonly #onClose: () => void;

  constructor(token: string, onClose: () => void) {
    this.token = token;
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** When a client request last reached this session (ms epoch). */
  get lastSeen(): number {
    return this.#lastSeen;
  }

  /** Messages waiting for a poll. */
  get buffered(): number {
    return this.#buffer.length;
  }

  touch(): void {
    this.#lastSeen = Date.now();
  }

  /** The connection sends a frame: buffered, and handed to a waiting poll. */
  send(data: string | Buffer): void {
    if (this.#closed) return;
    // The client's LongPoll reads text messages; Inlet sends no binary ones.
    this.#buffer.push(typeof data === 'string' ? data : data.toString('utf8'));
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      // Frames sent in one turn of the event loop go out in one answer.
      queueMicrotask(() => waiter(this.#take()));
    }
  }

  /** The connection closes the transport: what is buffered still goes out with the next poll, then the session is gone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) waiter(this.#take());
  }

  /**
   * A poll: resolves at once with buffered messages, else with the next ones
   * within `windowMs`, else with `undefined` (nothing came: 204). A newer
   * poll answers an older one still waiting with `undefined`.
   */
  poll(windowMs: number, signal?: AbortSignal): Promise<string[] | undefined> {
    this.touch();
    if (this.#buffer.length > 0 || this.#closed) return Promise.resolve(this.#take());
    this.#waiter?.(undefined);
    return new Promise((resolve) => {
      const done: Waiter = (messages) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        this.touch();
        resolve(messages);
      };
      const abort = () => {
        if (this.#waiter === done) this.#waiter = undefined;
        done(undefined);
      };
      const timer = setTimeout(abort, windowMs);
      signal?.addEventListener('abort', abort, { once: true });
      this.#waiter = done;
    });
  }

  /** Gives a poll that could not be answered its messages back, first in line. */
  unread(messages: readonly string[]): void {
    if (messages.length > 0) this.#buffer = [...messages, ...this.#buffer];
  }

  #take(): string[] | undefined {
    if (this.#buffer.length === 0) return undefined;
    const out = this.#buffer;
    this.#buffer = [];
    return out;
  }
}
