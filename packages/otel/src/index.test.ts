/**
 * @inletjs/otel against the official SDK: spans caught by the in-memory span
 * exporter of @opentelemetry/sdk-trace-base, metrics read from a manual
 * @opentelemetry/sdk-metrics reader. Views run in-process (mountLive); the
 * chunk receiver over real HTTP on port 0.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DataPointType, MeterProvider, MetricReader, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';
import { createLiveView, html, live_file_input, MemoryStore, silentLogger } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { mountLive } from 'inletjs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { instrumentInlet, METRIC_NAMES, SPAN_NAMES, type Instrumentation } from './index.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let exporter: InMemorySpanExporter;
let reader: TestReader;
let otel: Instrumentation;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  reader = new TestReader();
  otel = instrumentInlet({
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    meterProvider: new MeterProvider({ readers: [reader] }),
    chunkSpans: true,
  });
});
afterEach(() => otel.disable());

const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

async function metric<T extends HistogramMetricData | SumMetricData>(name: string): Promise<T | undefined> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name) as T | undefined;
}

const stored = new MemoryStore();
const done: Record<string, unknown>[] = [];
const Shop = createLiveView<{ n: number }>({
  mount: (s) => {
    s.assign({ n: 0 });
    s.allowUpload('photo', { accept: 'any', chunkSize: 1000, store: stored, progress: (_n, e) => void (e.done && done.push(e.meta ?? {})) });
  },
  handleEvent: (e, s) => {
    if (e.type === 'explode') throw new RangeError('handler exploded');
    if (e.type === 'inc') s.assign({ n: s.assigns.n + 1 });
  },
  render: ({ n }, { uploads }) => html`<p>${n}</p>${live_file_input(uploads.photo!)}`,
});

describe('spans of a view', () => {
  it('mount, event and render spans, the render a child of its event; a crash is an ERROR span with the exception', async () => {
    const view = await mountLive({ routes: { '/shop': Shop } }, '/shop', { logger: silentLogger });
    const id = view.topic.slice(3);
    await view.click('inc');
    await view.click('explode').catch(() => undefined);

    const mounts = spans(SPAN_NAMES.mount);
    expect(mounts.map((s) => s.attributes['inlet.connected'])).toEqual([false, true]);
    expect(mounts[1]?.attributes).toMatchObject({ 'inlet.view.id': id, [ATTR_URL_PATH]: '/shop' });

    const events = spans(SPAN_NAMES.event);
    expect(events.map((s) => s.attributes['inlet.event.name'])).toEqual(['inc', 'explode']);
    const [inc, explode] = events;
    const renders = spans(SPAN_NAMES.render).filter((s) => s.parentSpanContext?.spanId === inc?.spanContext().spanId);
    expect(renders).toHaveLength(1);
    expect(renders[0]?.spanContext().traceId).toBe(inc?.spanContext().traceId);

    expect(inc?.status.code).toBe(SpanStatusCode.UNSET);
    expect(explode?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'handler exploded' });
    expect(explode?.attributes[ATTR_ERROR_TYPE]).toBe('RangeError');
    expect(explode?.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'handler exploded']]);

    const durations = await metric<HistogramMetricData>(METRIC_NAMES.eventDuration);
    expect(durations?.descriptor.unit).toBe('s');
    expect(durations?.dataPoints.map((p) => [p.attributes['inlet.event.name'], p.value.count]).sort()).toEqual([['explode', 1], ['inc', 1]]);
  });

  it('preflight, one span per chunk, completion, and the bytes counted, for a byte-exact upload', async () => {
    const view = await mountLive({ routes: { '/': Shop } }, '/');
    const ref = /id="([^"]+)" type="file"/.exec(view.html())?.[1] ?? '';
    const content = randomBytes(2500);
    const result = await view.upload(ref, 'photo', [{ name: 'p.jpg', content }]);
    expect(result.entries.map((e) => e.ok)).toEqual([true]);
    expect(done.at(-1)?.sha256).toBe(createHash('sha256').update(content).digest('hex'));

    expect(spans(SPAN_NAMES.preflight).map((s) => s.attributes['inlet.upload.config'])).toEqual([ref]);
    expect(spans(SPAN_NAMES.chunk).map((s) => [s.attributes['inlet.upload.offset'], s.attributes['inlet.upload.chunk.size']])).toEqual([
      [0, 1000],
      [1000, 1000],
      [2000, 500],
    ]);
    const complete = spans(SPAN_NAMES.complete);
    expect(complete.map((s) => s.attributes)).toEqual([{ 'inlet.view.id': view.topic.slice(3), 'inlet.upload.name': 'photo', 'inlet.upload.entry': '0', 'inlet.upload.size': 2500 }]);

    const bytes = await metric<SumMetricData>(METRIC_NAMES.uploadBytes);
    expect(bytes?.descriptor.unit).toBe('By');
    expect(bytes?.dataPoints.map((p) => [p.attributes['inlet.upload.name'], p.value])).toEqual([['photo', 2500]]);
    const completed = await metric<SumMetricData>(METRIC_NAMES.uploadCompleted);
    expect(completed?.dataPoints.map((p) => p.value)).toEqual([1]);
  });

  it('records nothing once disabled', async () => {
    otel.disable();
    const view = await mountLive({ routes: { '/': Shop } }, '/');
    await view.click('inc');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('the chunk receiver as an HTTP server', () => {
  let server: InletServer;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'inlet-otel-'));
    server = createServer({ routes: { '/': Shop }, uploadTmpDir: root, logger: silentLogger });
    await server.listen(0);
  });
  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('SERVER spans named "{method} {http.route}" with the semantic-convention attributes, never the token; the duration histogram', async () => {
    const body = randomBytes(10);
    const metas = new Map<string, Record<string, unknown>>();
    server.receiver.onComplete((session, meta) => void metas.set(session.id, meta));
    const { token, id } = await server.receiver.mint({ maxSize: 10, entry: { viewId: 'phx-x', confRef: 'c', entryRef: '0' } });
    const ok = await fetch(`${server.url}/_inlet/uploads/${token}`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body });
    expect(ok.status).toBeLessThan(300);
    const meta = metas.get(id);
    expect(createHash('sha256').update(await readFile(String(meta?.path))).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    const missing = await fetch(`${server.url}/_inlet/uploads/nosuchtoken`, { method: 'PUT', headers: { 'content-range': 'bytes 0-9/10' }, body });
    expect(missing.status).toBe(404);

    const http = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(http.map((s) => [s.name, s.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]])).toEqual([
      ['PUT /_inlet/uploads/:token', ok.status],
      ['PUT /_inlet/uploads/:token', 404],
    ]);
    expect(http[0]?.attributes).toMatchObject({ [ATTR_HTTP_REQUEST_METHOD]: 'PUT', [ATTR_HTTP_ROUTE]: '/_inlet/uploads/:token' });
    expect(JSON.stringify(http.map((s) => s.attributes))).not.toContain(token);
    // A 4xx is the client's error, not the server span's.
    expect(http.map((s) => s.status.code)).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET]);

    const duration = await metric<HistogramMetricData>(METRIC_HTTP_SERVER_REQUEST_DURATION);
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPoints.map((p) => [p.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], p.value.count]).sort()).toEqual([[404, 1], [ok.status, 1]].sort());
  });
});

describe('packaging', () => {
  it('the core package does not depend on OpenTelemetry; this one has @opentelemetry/api as a peer on a low caret range', async () => {
    const core = JSON.parse(await readFile(new URL('../../core/package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const all = { ...core.dependencies, ...core.peerDependencies, ...core.optionalDependencies };
    expect(Object.keys(all).filter((n) => n.startsWith('@opentelemetry/'))).toEqual([]);
    const own = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(own.peerDependencies?.['@opentelemetry/api']).toBe('^1.3.0');
    expect(Object.keys(own.dependencies ?? {})).toEqual(['inletjs']);
  });
});
