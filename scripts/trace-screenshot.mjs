// Makes docs/img/trace.png: a real trace of the example app, drawn as a waterfall.
// @inletjs/otel records into the OpenTelemetry SDK's in-memory exporter while the
// official client, in Debian's Chromium, mounts the counter, clicks it, then
// auto-uploads a picture on the gallery page; the spans are then laid out on a
// timeline page and screenshotted by the same browser. Run: node scripts/trace-screenshot.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { chromium } from 'playwright-core';
import { instrumentInlet } from '@inletjs/otel';
import { createServer } from 'inletjs/node';
import { exampleOptions } from '../examples/app.js';

const exporter = new InMemorySpanExporter();
const otel = instrumentInlet({ tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }), chunkSpans: true });
const root = await mkdtemp(join(tmpdir(), 'inlet-trace-'));
const server = createServer(exampleOptions({ storeRoot: join(root, 'store'), uploadTmpDir: join(root, 'tmp'), s3: null, logger: 'error' }));
await server.listen(0, '127.0.0.1');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${server.url}/counter`);
  await page.waitForSelector('[data-phx-main].phx-connected');
  for (let i = 0; i < 2; i++) {
    await page.click('button[phx-click="inc"]');
    await page.waitForTimeout(150);
  }
  await page.goto(`${server.url}/uploads/auto`);
  await page.waitForSelector('[data-phx-main].phx-connected');
  // A PNG signature and 3 MiB after it: several chunks, sniffed as a PNG.
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(3 * 1024 * 1024, 7)]);
  await page.setInputFiles('input[type=file]', { name: 'photo.png', mimeType: 'image/png', buffer: png });
  await page.waitForTimeout(2500);

  const spans = exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    start: s.startTime[0] * 1e3 + s.startTime[1] / 1e6,
    ms: s.duration[0] * 1e3 + s.duration[1] / 1e6,
    attrs: Object.entries(s.attributes).filter(([k]) => !k.startsWith('http.request')).slice(0, 4).map(([k, v]) => `${k}=${String(v).slice(0, 28)}`).join('  '),
  })).sort((a, b) => a.start - b.start);
  if (spans.length === 0) throw new Error('no spans were recorded');
  // Chunk spans are many: keep the first few of each upload and say how many were left out.
  const shown = [];
  let chunks = 0;
  for (const s of spans) if (!s.name.includes('chunk') || ++chunks <= 8) shown.push(s);
  const t0 = shown[0].start;
  const end = Math.max(...shown.map((s) => s.start + s.ms));
  const scale = 640 / Math.max(1, end - t0);
  const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = shown.map((s) => `<tr><td class="n">${esc(s.name)}</td><td class="bar"><div style="margin-left:${((s.start - t0) * scale).toFixed(1)}px;width:${Math.max(2, s.ms * scale).toFixed(1)}px"></div></td><td class="d">${s.ms.toFixed(2)} ms</td><td class="a">${esc(s.attrs)}</td></tr>`).join('');
  const title = `${spans.length} spans from @inletjs/otel (in-memory exporter): counter mount + 2 clicks, then an auto upload of a 3 MiB PNG${chunks > 8 ? ` (${chunks - 8} more chunk spans not drawn)` : ''}`;
  await page.setContent(`<style>body{font:12px system-ui;margin:16px}table{border-collapse:collapse}td{padding:2px 6px;white-space:nowrap}.bar{width:660px}.bar div{height:10px;background:#4a7bd0;border-radius:2px}.d{text-align:right;color:#444}.a{color:#666;font-size:11px}.n{font-family:monospace}</style><h3>${esc(title)}</h3><table>${rows}</table>`);
  await page.screenshot({ path: new URL('../docs/img/trace.png', import.meta.url).pathname, fullPage: true });
  console.log(`docs/img/trace.png: ${shown.length} of ${spans.length} spans drawn`);
} finally {
  otel.disable();
  await browser.close();
  await server.close();
  await rm(root, { recursive: true, force: true });
}
