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

/**
 * Context of `inlet:view:mount`.
 *
 * @example
 * TRACING.mount.asyncEnd.subscribe((message) => {
 *   const { view, route, connected } = message as MountContext
 *   console.log(view, route, connected ? 'joined' : 'HTTP render')
 * })
 */
export interface MountContext {
  readonly view: string;
  readonly route: string;
  readonly connected: boolean;
}
/**
 * Context of `inlet:view:event`.
 *
 * @example
 * TRACING.event.error.subscribe((message) => {
 *   const { view, event, error } = message as EventContext & { error: unknown }
 *   report(error, { view, event })
 * })
 */
export interface EventContext {
  readonly view: string;
  readonly event: string;
}
/**
 * Context of `inlet:view:render`.
 *
 * @example
 * TRACING.render.start.subscribe((message) => renders.add(1, { view: (message as RenderTraceContext).view }))
 */
export interface RenderTraceContext {
  readonly view: string;
}
/**
 * Context of `inlet:upload:preflight`.
 *
 * @example
 * TRACING.preflight.start.subscribe((message) => {
 *   const { view, ref } = message as PreflightContext
 *   console.log('preflight', ref, 'in', view)
 * })
 */
export interface PreflightContext {
  readonly view: string;
  readonly ref: string;
}
/**
 * Context of `inlet:upload:chunk`: one chunk of a socket upload written to its store.
 *
 * @example
 * TRACING.chunk.asyncEnd.subscribe((message) => {
 *   const { upload, bytes } = message as ChunkContext
 *   uploadedBytes.add(bytes, { upload })
 * })
 */
export interface ChunkContext {
  readonly view: string;
  readonly upload: string;
  readonly ref: string;
  /** Where the chunk starts in the file, in bytes. */
  readonly offset: number;
  readonly bytes: number;
}
/**
 * Context of `inlet:upload:complete`: a socket upload's store completing it (every byte written).
 *
 * @example
 * TRACING.complete.asyncEnd.subscribe((message) => {
 *   const { upload, ref, size } = message as CompleteContext
 *   console.log(`${upload}/${ref}: ${size} bytes stored`)
 * })
 */
export interface CompleteContext {
  readonly view: string;
  readonly upload: string;
  readonly ref: string;
  /** Bytes stored. */
  readonly size: number;
}
/**
 * Context of `inlet:receiver:request`.
 *
 * @example
 * TRACING.receiverRequest.asyncEnd.subscribe((message) => {
 *   const { method, template, status } = message as ReceiverRequestContext
 *   console.log(method, template, status) // template: '/_inlet/uploads/:token' by default
 * })
 */
export interface ReceiverRequestContext {
  readonly method: string;
  /** The request's path (with the session token). */
  readonly route: string;
  /** The path with the token left out, `<basePath>/:token` (what `http.route` wants). */
  readonly template: string;
  /** The response's status code, set before `asyncEnd`. */
  status?: number;
}
/**
 * Message of `inlet:upload:error`.
 *
 * @example
 * uploadErrorChannel.subscribe((message) => {
 *   const { upload, ref, reason } = message as UploadErrorMessage
 *   console.warn(`upload ${upload}/${ref} failed: ${reason}`)
 * })
 */
export interface UploadErrorMessage {
  readonly view: string;
  readonly upload: string;
  readonly ref: string;
  readonly reason: string;
}

/**
 * Channel names, for subscribers.
 *
 * @example
 * import diagnostics_channel from 'node:diagnostics_channel'
 * diagnostics_channel.subscribe(CHANNEL_NAMES.uploadError, (message) => console.warn('upload failed', message))
 */
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
 * // One sub-channel at a time (TypeScript's Node types want all five handlers in `subscribe({...})`).
 * TRACING.event.start.subscribe((ctx) => timers.set(ctx, performance.now()))
 * TRACING.event.asyncEnd.subscribe((ctx) => {
 *   histogram.record(performance.now() - timers.get(ctx), { event: (ctx as EventContext).event })
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

/**
 * `inlet:upload:error`: an entry failed (client- or server-caused), with LiveView's reason.
 *
 * @example
 * uploadErrorChannel.subscribe((message) => failures.add(1, { reason: (message as UploadErrorMessage).reason }))
 */
export const uploadErrorChannel = channel(CHANNEL_NAMES.uploadError);
