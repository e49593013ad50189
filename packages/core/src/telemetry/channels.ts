/**
 * Inlet's `node:diagnostics_channel` tracing channels: zero-dependency
 * hooks an APM agent, a logger or OpenTelemetry glue can subscribe to.
 * Each traced operation publishes `start`, `end`, `asyncStart`,
 * `asyncEnd` and `error` on `tracing:<name>:*` with one context object,
 * the same object for every event of one operation.
 *
 * | channel | context |
 * |---|---|
 * | `inlet:view:mount` | `view` (id), `route` (path), `connected` |
 * | `inlet:view:event` | `view`, `event` (name) |
 * | `inlet:view:render` | `view` |
 * | `inlet:upload:preflight` | `view`, `ref` (config ref) |
 * | `inlet:upload:chunk` | `view`, `upload` (config name), `ref` (entry ref), `offset`, `bytes` |
 * | `inlet:upload:complete` | `view`, `upload`, `ref`, `size` |
 * | `inlet:receiver:request` | `method`, `route` (the path), `template`, then `status` |
 *
 * Plain channels: `inlet:upload:error` (`view`, `upload`, `ref`, `reason`).
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';

/** Context of `inlet:view:mount`. */
export interface MountContext {
  readonly view: string;
  readonly route: string;
  readonly connected: boolean;
}
/** Context of `inlet:view:event`. */
export interface EventContext {
  readonly view: string;
  readonly event: string;
}
/** Context of `inlet:view:render`. */
export interface RenderTraceContext {
  readonly view: string;
}
/** Context of `inlet:upload:preflight`. */
export interface PreflightContext {
  readonly view: string;
  readonly ref: string;
}
/** Context of `inlet:upload:chunk`: one chunk of a socket upload written to its store. */
export interface ChunkContext {
  readonly view: string;
  readonly upload: string;
  readonly ref: string;
  /** Where the chunk starts in the file, in bytes. */
  readonly offset: number;
  readonly bytes: number;
}
/** Context of `inlet:upload:complete`: a socket upload's store completing it (every byte written). */
export interface CompleteContext {
  readonly view: string;
  readonly upload: string;
  readonly ref: string;
  /** Bytes stored. */
  readonly size: number;
}
/** Context of `inlet:receiver:request`. */
export interface ReceiverRequestContext {
  readonly method: string;
  /** The request's path (with the session token). */
  readonly route: string;
  /** The path with the token left out, `<basePath>/:token` (what `http.route` wants). */
  readonly template: string;
  /** The response's status code, set before `asyncEnd`. */
  status?: number;
}
/** Message of `inlet:upload:error`. */
export interface UploadErrorMessage {
  readonly view: string;
  readonly upload: string;
  readonly ref: string;
  readonly reason: string;
}

/** Channel names, for subscribers. */
export const CHANNEL_NAMES = {
  mount: 'inlet:view:mount',
  event: 'inlet:view:event',
  render: 'inlet:view:render',
  preflight: 'inlet:upload:preflight',
  chunk: 'inlet:upload:chunk',
  complete: 'inlet:upload:complete',
  receiverRequest: 'inlet:receiver:request',
  uploadError: 'inlet:upload:error',
} as const;

/**
 * The tracing channels. Subscribe with `diagnostics_channel.tracingChannel(name).subscribe({...})`
 * or through these objects.
 *
 * @example
 * import { TRACING } from 'inletjs'
 * TRACING.event.subscribe({
 *   start: (ctx) => timers.set(ctx, performance.now()),
 *   asyncEnd: (ctx) => histogram.record(performance.now() - timers.get(ctx), { event: ctx.event }),
 * })
 */
export const TRACING = {
  mount: tracingChannel<MountContext>(CHANNEL_NAMES.mount),
  event: tracingChannel<EventContext>(CHANNEL_NAMES.event),
  render: tracingChannel<RenderTraceContext>(CHANNEL_NAMES.render),
  preflight: tracingChannel<PreflightContext>(CHANNEL_NAMES.preflight),
  chunk: tracingChannel<ChunkContext>(CHANNEL_NAMES.chunk),
  complete: tracingChannel<CompleteContext>(CHANNEL_NAMES.complete),
  receiverRequest: tracingChannel<ReceiverRequestContext>(CHANNEL_NAMES.receiverRequest),
} as const;

/** `inlet:upload:error`: an entry failed (client- or server-caused), with LiveView's reason. */
export const uploadErrorChannel = channel(CHANNEL_NAMES.uploadError);
