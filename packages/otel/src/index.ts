/**
 * OpenTelemetry for Inlet: spans and metrics made from Inlet's
 * `node:diagnostics_channel` tracing channels (see `TRACING` in `inletjs`).
 * The core package has no OpenTelemetry dependency; this one needs only
 * `@opentelemetry/api` (a peer), so it records into whatever SDK the app set
 * up, or into the providers it is given.
 *
 * Names: the chunk receiver is an HTTP server, so its requests are
 * `SERVER` spans named `{method} {http.route}` with the `http.*` semantic
 * conventions and the `http.server.request.duration` histogram; everything
 * else is in the `inlet.*` namespace.
 *
 * @example
 * import { instrumentInlet } from '@inletjs/otel'
 * const otel = instrumentInlet() // the global tracer and meter providers
 * // … later, e.g. in tests: otel.disable()
 */
import { tracingChannel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { context, metrics, SpanKind, SpanStatusCode, trace, type Attributes, type Histogram, type MeterProvider, type Span, type TracerProvider } from '@opentelemetry/api';
import {
  CHANNEL_NAMES,
  type ChunkContext,
  type CompleteContext,
  type EventContext,
  type MountContext,
  type PreflightContext,
  type ReceiverRequestContext,
  type RenderTraceContext,
  type UploadErrorMessage,
} from 'inletjs';

/**
 * The instrumentation scope name spans and metrics are recorded under.
 * @example
 * exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === INSTRUMENTATION_NAME)
 */
export const INSTRUMENTATION_NAME = '@inletjs/otel';

/**
 * Span names.
 * @example
 * exporter.getFinishedSpans().filter((s) => s.name === SPAN_NAMES.event)
 */
export const SPAN_NAMES = {
  mount: 'inlet.view.mount',
  event: 'inlet.view.event',
  render: 'inlet.view.render',
  preflight: 'inlet.upload.preflight',
  chunk: 'inlet.upload.chunk',
  complete: 'inlet.upload.complete',
} as const;

/**
 * Metric names (durations in seconds, sizes in bytes, as the semantic conventions ask).
 * @example
 * (await reader.collect()).resourceMetrics.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === METRIC_NAMES.uploadBytes)
 */
export const METRIC_NAMES = {
  httpServerDuration: 'http.server.request.duration',
  mountDuration: 'inlet.view.mount.duration',
  eventDuration: 'inlet.view.event.duration',
  renderDuration: 'inlet.view.render.duration',
  uploadBytes: 'inlet.upload.bytes',
  uploadCompleted: 'inlet.upload.completed',
  uploadErrors: 'inlet.upload.errors',
} as const;

/**
 * Options of {@link instrumentInlet}.
 * @example
 * instrumentInlet({ tracerProvider, meterProvider, chunkSpans: true, renderSpans: false })
 */
export interface InstrumentOptions {
  /** Where spans go; default: the global provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider;
  /** Where metrics go; default: the global provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider;
  /** One span per upload chunk (they are always counted in `inlet.upload.bytes`); default false. */
  readonly chunkSpans?: boolean;
  /** One span per template render, as a child of its mount or event; default true. */
  readonly renderSpans?: boolean;
}

/**
 * What {@link instrumentInlet} returns.
 * @example
 * const otel: Instrumentation = instrumentInlet()
 * afterAll(() => otel.disable())
 */
export interface Instrumentation {
  /** Unsubscribes from every channel; spans under way are left unended. */
  disable(): void;
}

type Handlers<C extends object> = {
  start?: (ctx: C) => void;
  end?: (ctx: C) => void;
  asyncStart?: (ctx: C) => void;
  asyncEnd?: (ctx: C) => void;
  error?: (ctx: C & { error: unknown }) => void;
};

interface Open {
  readonly span?: Span;
  readonly started: number;
}

/** `error.type` for an error: its class name or code, as the semantic conventions suggest. */
function errorType(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

/**
 * Subscribes to Inlet's tracing channels and records spans and metrics
 * through `@opentelemetry/api`. Call it once, at start-up (any number of
 * Inlet servers in the process are covered).
 *
 * Spans: `inlet.view.mount` (`inlet.view.id`, `url.path`, `inlet.connected`),
 * `inlet.view.event` (`inlet.event.name`), `inlet.view.render` (a child of
 * its mount or event), `inlet.upload.preflight`, `inlet.upload.complete`
 * (`inlet.upload.name`, `inlet.upload.entry`, `inlet.upload.size`),
 * optionally `inlet.upload.chunk`, and `{method} {http.route}` for the chunk
 * receiver. A failed operation's span has status `ERROR`, the exception
 * recorded and `error.type`.
 *
 * @example
 * import { metrics, trace } from '@opentelemetry/api'
 * import { instrumentInlet } from '@inletjs/otel'
 * instrumentInlet({ tracerProvider: trace.getTracerProvider(), meterProvider: metrics.getMeterProvider(), chunkSpans: true })
 */
export function instrumentInlet(options: InstrumentOptions = {}): Instrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
  const seconds = (name: string, description: string): Histogram => meter.createHistogram(name, { unit: 's', description });
  const httpDuration = seconds(METRIC_NAMES.httpServerDuration, 'Duration of chunk receiver requests.');
  const mountDuration = seconds(METRIC_NAMES.mountDuration, 'Duration of a view mount (mount + handleParams).');
  const eventDuration = seconds(METRIC_NAMES.eventDuration, 'Duration of a client event, through its render.');
  const renderDuration = seconds(METRIC_NAMES.renderDuration, 'Duration of one template render.');
  const uploadBytes = meter.createCounter(METRIC_NAMES.uploadBytes, { unit: 'By', description: 'Bytes of socket uploads written to their stores.' });
  const uploadCompleted = meter.createCounter(METRIC_NAMES.uploadCompleted, { unit: '{upload}', description: 'Socket uploads completed in their stores.' });
  const uploadErrors = meter.createCounter(METRIC_NAMES.uploadErrors, { unit: '{error}', description: 'Upload entries that failed, by reason.' });

  const open = new WeakMap<object, Open>();
  /** The mount or event span under way for each view: renders are its children. */
  const current = new Map<string, Span>();
  const offs: (() => void)[] = [];

  const begin = (ctx: object, name: string, attributes: Attributes, parent?: Span, kind: SpanKind = SpanKind.INTERNAL): Span => {
    const parentContext = parent ? trace.setSpan(context.active(), parent) : context.active();
    const span = tracer.startSpan(name, { kind, attributes }, parentContext);
    open.set(ctx, { span, started: performance.now() });
    return span;
  };
  const fail = (ctx: object, error: unknown): void => {
    const span = open.get(ctx)?.span;
    if (!span) return;
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    span.setAttribute('error.type', errorType(error));
  };
  /** Ends the span and returns the operation's duration in seconds. */
  const finish = (ctx: object): number => {
    const o = open.get(ctx);
    open.delete(ctx);
    o?.span?.end();
    return o ? (performance.now() - o.started) / 1000 : 0;
  };
  const on = <C extends object>(name: string, handlers: Handlers<C>): void => {
    const channel = tracingChannel<C>(name);
    channel.subscribe(handlers as never);
    offs.push(() => channel.unsubscribe(handlers as never));
  };

  on<MountContext>(CHANNEL_NAMES.mount, {
    start: (c) => void current.set(c.view, begin(c, SPAN_NAMES.mount, { 'inlet.view.id': c.view, 'url.path': c.route, 'inlet.connected': c.connected })),
    error: (c) => fail(c, c.error),
    asyncEnd: (c) => {
      if (current.get(c.view) === open.get(c)?.span) current.delete(c.view);
      mountDuration.record(finish(c), { 'inlet.connected': c.connected });
    },
  });
  on<EventContext>(CHANNEL_NAMES.event, {
    start: (c) => void current.set(c.view, begin(c, SPAN_NAMES.event, { 'inlet.view.id': c.view, 'inlet.event.name': c.event })),
    error: (c) => fail(c, c.error),
    asyncEnd: (c) => {
      if (current.get(c.view) === open.get(c)?.span) current.delete(c.view);
      eventDuration.record(finish(c), { 'inlet.event.name': c.event });
    },
  });
  on<RenderTraceContext>(CHANNEL_NAMES.render, {
    start: (c) =>
      options.renderSpans === false
        ? void open.set(c, { started: performance.now() })
        : void begin(c, SPAN_NAMES.render, { 'inlet.view.id': c.view }, current.get(c.view)),
    error: (c) => fail(c, c.error),
    end: (c) => renderDuration.record(finish(c)),
  });
  on<PreflightContext>(CHANNEL_NAMES.preflight, {
    start: (c) => void begin(c, SPAN_NAMES.preflight, { 'inlet.view.id': c.view, 'inlet.upload.config': c.ref }, current.get(c.view)),
    error: (c) => fail(c, c.error),
    asyncEnd: (c) => void finish(c),
  });
  on<ChunkContext>(CHANNEL_NAMES.chunk, {
    start: (c) =>
      options.chunkSpans
        ? void begin(c, SPAN_NAMES.chunk, { 'inlet.view.id': c.view, 'inlet.upload.name': c.upload, 'inlet.upload.entry': c.ref, 'inlet.upload.offset': c.offset, 'inlet.upload.chunk.size': c.bytes })
        : undefined,
    error: (c) => fail(c, c.error),
    asyncEnd: (c) => {
      finish(c);
      if (!('error' in c)) uploadBytes.add(c.bytes, { 'inlet.upload.name': c.upload });
    },
  });
  on<CompleteContext>(CHANNEL_NAMES.complete, {
    start: (c) => void begin(c, SPAN_NAMES.complete, { 'inlet.view.id': c.view, 'inlet.upload.name': c.upload, 'inlet.upload.entry': c.ref, 'inlet.upload.size': c.size }),
    error: (c) => fail(c, c.error),
    asyncEnd: (c) => {
      finish(c);
      if (!('error' in c)) uploadCompleted.add(1, { 'inlet.upload.name': c.upload });
    },
  });
  on<ReceiverRequestContext>(CHANNEL_NAMES.receiverRequest, {
    // The path holds the session token, a credential: only the template is recorded.
    start: (c) => void begin(c, `${c.method} ${c.template}`, { 'http.request.method': c.method, 'http.route': c.template }, undefined, SpanKind.SERVER),
    error: (c) => {
      fail(c, c.error);
      open.get(c)?.span?.setAttribute('http.response.status_code', 500);
    },
    asyncEnd: (c) => {
      const span = open.get(c)?.span;
      if (c.status !== undefined) {
        span?.setAttribute('http.response.status_code', c.status);
        // Server spans are errors for 5xx only.
        if (c.status >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
      }
      const status = c.status ?? 500;
      httpDuration.record(finish(c), {
        'http.request.method': c.method,
        'http.route': c.template,
        'http.response.status_code': status,
        ...(status >= 500 ? { 'error.type': String(status) } : {}),
      });
    },
  });
  const onUploadError = (message: unknown): void => {
    const m = message as UploadErrorMessage;
    uploadErrors.add(1, { 'inlet.upload.name': m.upload, 'inlet.upload.error.reason': m.reason });
  };
  subscribe(CHANNEL_NAMES.uploadError, onUploadError);
  offs.push(() => unsubscribe(CHANNEL_NAMES.uploadError, onUploadError));

  return {
    disable: () => {
      for (const off of offs.splice(0)) off();
      current.clear();
    },
  };
}
