/**
 * The contract between the connection (frames, topics, replies) and what runs
 * behind a topic (a live view, an upload). Knows nothing of LiveView.
 */

/** What a channel may do towards its client. */
export interface ChannelContext {
  readonly topic: string;
  readonly joinRef: string;
  /** Data the transport established for this connection (connect params, CSRF outcome, …). */
  readonly connection: ConnectionInfo;
  /** Pushes an event to the client (ref null). */
  push(event: string, payload: unknown): void;
  /** Ends the channel on purpose: the client gets `phx_close` and does not rejoin. */
  close(): void;
  /** Ends the channel as crashed: the client gets `phx_error` and rejoins with backoff. */
  crash(): void;
}

/** Facts about the transport connection, shared by its channels. */
export interface ConnectionInfo {
  /** The connect query parameters (e.g. `_csrf_token`). */
  readonly params: Readonly<Record<string, string>>;
  /** Whether the connect request passed the CSRF check. */
  readonly csrfValid: boolean;
  /** The channels open on this connection, by topic. */
  readonly channels: ReadonlyMap<string, Channel>;
}

/** A reply: `ok` or `error` with a response object. */
export interface Reply {
  readonly status: 'ok' | 'error';
  readonly response: Record<string, unknown>;
}

export const ok = (response: Record<string, unknown> = {}): Reply => ({ status: 'ok', response });
export const error = (response: Record<string, unknown>): Reply => ({ status: 'error', response });

/** The server side of one joined topic. */
export interface Channel {
  /** Handles a client event. A returned reply is sent to the event's ref. */
  handleIn(event: string, payload: Record<string, unknown> | Buffer): Promise<Reply | undefined> | Reply | undefined;
  /**
   * Fields added to the log record when handling `event` threw (e.g. a view's
   * id and the name of its event). Optional.
   */
  logContext?(event: string, payload: Record<string, unknown> | Buffer): Record<string, unknown>;
  /** The channel is gone (leave, close, crash or socket drop): release everything. Must not throw. */
  terminate(reason: TerminateReason): void;
}

export type TerminateReason = 'leave' | 'close' | 'crash' | 'socket_closed' | 'rejoin';

/** The outcome of a join: a channel and the reply, or an error reply. */
export type JoinResult = { readonly channel: Channel; readonly reply?: Record<string, unknown> } | { readonly error: Record<string, unknown> };

/** Creates channels for topics it recognises, or returns undefined. */
export type ChannelRouter = (
  topic: string,
) => ((payload: Record<string, unknown>, ctx: ChannelContext) => Promise<JoinResult> | JoinResult) | undefined;
