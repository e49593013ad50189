/**
 * A raw Phoenix V2 socket for fuzzing: sends any text or binary frame and
 * waits for the server's answer to it, checking every frame the server sends.
 *
 * The answer to a frame is the first of: its reply (matched by ref), a
 * `phx_error` or `phx_close` of the channel it addressed, or the socket
 * closing. A frame without a ref cannot be replied to, so a heartbeat probe
 * follows it and the probe's reply proves the server is still listening
 * (`silent`). Anything else within the timeout is silence: a failure.
 */
import WebSocket from 'ws';

export type ServerFrame = [string | null, string | null, string, string, Record<string, unknown>];

export type Answer =
  | { readonly kind: 'reply'; readonly status: 'ok' | 'error'; readonly response: Record<string, unknown>; readonly ms: number; readonly joinRef: string | null; readonly topic: string }
  | { readonly kind: 'phx_error' | 'phx_close'; readonly ms: number }
  | { readonly kind: 'close'; readonly code: number; readonly ms: number }
  | { readonly kind: 'silent'; readonly ms: number };

/** One frame to send and how to recognise the answer to it. */
export interface Send {
  readonly data: string | Buffer;
  /** Send `data` as a binary frame (a Buffer sent as text makes a text frame of those bytes). */
  readonly binary?: boolean;
  /** The ref the server will read from the frame; `null` when it has none it can read. */
  readonly ref: string | null;
  /** The topic the server will read, to match `phx_error`/`phx_close`. */
  readonly topic?: string;
  /** The join ref of the channel instance addressed, when known. */
  readonly joinRef?: string | null;
}

/** A frame not answered in time: late, or never. */
export class SilenceError extends Error {}

/** How long past the limit a waiter keeps listening, to report a late answer rather than none. */
export const LATE_GRACE_MS = 8000;

interface Waiter {
  readonly send: Send;
  readonly probeRef?: string;
  readonly started: number;
  resolve(a: Answer): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a server frame breaks the V2 format, or undefined. */
export function frameProblem(f: unknown): string | undefined {
  if (!Array.isArray(f) || f.length !== 5) return 'not a 5-element array';
  const [jr, ref, topic, event, payload] = f as unknown[];
  if (jr !== null && typeof jr !== 'string') return 'join_ref not string|null';
  if (ref !== null && typeof ref !== 'string') return 'ref not string|null';
  if (typeof topic !== 'string' || typeof event !== 'string') return 'topic/event not strings';
  if (!isObject(payload)) return 'payload not an object';
  if (event === 'phx_reply') {
    if (payload.status !== 'ok' && payload.status !== 'error') return `reply status ${String(payload.status)}`;
    if (!isObject(payload.response)) return 'reply response not an object';
  }
  return undefined;
}

export class FuzzSocket {
  readonly ws: WebSocket;
  closed?: { code: number; reason: string };
  /** Problems with frames the server sent (must stay empty). */
  readonly anomalies: string[] = [];
  /** Called for every `phx_close`/`phx_error` the server sends. */
  onChannelEnd?: (topic: string, joinRef: string | null) => void;
  readonly #waiters = new Set<Waiter>();
  #probe = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.#waiters) w.resolve({ kind: 'close', code, ms: Date.now() - w.started });
      this.#waiters.clear();
    });
    ws.on('error', () => undefined);
  }

  static async connect(url: string, headers: Record<string, string>): Promise<FuzzSocket> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new FuzzSocket(ws);
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.anomalies.push(`binary frame from the server (${data.length} bytes)`);
      return;
    }
    let f: ServerFrame;
    try {
      f = JSON.parse(data.toString('utf8')) as ServerFrame;
    } catch {
      this.anomalies.push(`server frame is not JSON: ${data.toString('utf8').slice(0, 200)}`);
      return;
    }
    const problem = frameProblem(f);
    if (problem) {
      this.anomalies.push(`${problem}: ${data.toString('utf8').slice(0, 200)}`);
      return;
    }
    const [jr, ref, topic, event, payload] = f;
    if (event === 'phx_close' || event === 'phx_error') this.onChannelEnd?.(topic, jr);
    for (const w of this.#waiters) {
      const answer = this.#match(w, jr, ref, topic, event, payload);
      if (answer) {
        this.#waiters.delete(w);
        w.resolve(answer);
      }
    }
  }

  #match(w: Waiter, jr: string | null, ref: string | null, topic: string, event: string, payload: Record<string, unknown>): Answer | undefined {
    const s = w.send;
    const ms = Date.now() - w.started;
    if (event === 'phx_reply') {
      const mine = s.ref !== null ? ref === s.ref : ref === null && topic === s.topic;
      if (mine) return { kind: 'reply', status: payload.status as 'ok' | 'error', response: payload.response as Record<string, unknown>, ms, joinRef: jr, topic };
      if (w.probeRef !== undefined && ref === w.probeRef) return { kind: 'silent', ms };
      return undefined;
    }
    if ((event === 'phx_error' || event === 'phx_close') && s.topic !== undefined && topic === s.topic) {
      const channel = s.joinRef ?? null;
      if (channel === null || jr === channel || jr === s.ref) return { kind: event, ms };
    }
    return undefined;
  }

  /** Sends one frame and resolves with its answer; rejects with SilenceError after `timeoutMs`. */
  exchange(send: Send, timeoutMs: number): Promise<Answer> {
    return this.exchangeAll([send], timeoutMs).then((a) => a[0] as Answer);
  }

  /** Sends frames back to back (pipelined), then waits for every answer. */
  async exchangeAll(sends: readonly Send[], timeoutMs: number): Promise<Answer[]> {
    const started = Date.now();
    const items = sends.map((send) => ({ send, probeRef: send.ref === null ? `probe.${++this.#probe}` : undefined }));
    const pending = items.map(
      ({ send, probeRef }) =>
        new Promise<Answer>((resolve, reject) => {
          if (this.closed) {
            resolve({ kind: 'close', code: this.closed.code, ms: 0 });
            return;
          }
          const waiter: Waiter = {
            send,
            probeRef,
            started,
            resolve: (a) => {
              clearTimeout(timer);
              if (a.ms > timeoutMs) reject(new SilenceError(`answer (${a.kind}) came only after ${a.ms} ms, limit ${timeoutMs} ms, to ${describe(send)}`));
              else resolve(a);
            },
          };
          // Past the limit, keep listening a while to tell a late answer from none.
          const timer = setTimeout(() => {
            this.#waiters.delete(waiter);
            reject(new SilenceError(`no answer within ${timeoutMs + LATE_GRACE_MS} ms to ${describe(send)}`));
          }, timeoutMs + LATE_GRACE_MS);
          this.#waiters.add(waiter);
        }),
    );
    for (const { send, probeRef } of items) {
      this.#send(send.data, send.binary === true);
      if (probeRef !== undefined) this.#send(JSON.stringify([null, probeRef, 'phoenix', 'heartbeat', {}]), false);
    }
    return Promise.all(pending);
  }

  #send(data: string | Buffer, binary: boolean): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(data, { binary });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A short description of a frame for failure messages. */
export function describe(send: Send): string {
  const text = typeof send.data === 'string' ? send.data : `${send.binary ? 'binary' : 'text bytes'} ${send.data.subarray(0, 60).toString('hex')}`;
  const len = typeof send.data === 'string' ? send.data.length : send.data.length;
  return `${text.slice(0, 300)}${len > 300 ? `… (${len} chars)` : ''}`;
}
