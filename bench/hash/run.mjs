// SHA-256 and CRC-32 candidates for the Inlet uploader, measured in Debian's
// Chromium (no downloaded browser) and in Node, on the same sizes.
//   node bench/hash/run.mjs [--mib 128] [--chunk 512] [--rounds 5]
// Prints MB/s per candidate and the machine load.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const totalMiB = arg('mib', 128);
const chunkKiB = arg('chunk', 512);
const rounds = arg('rounds', 5);
const here = fileURLToPath(new URL('.', import.meta.url));

const bundle = await build({ entryPoints: [`${here}page.js`], bundle: true, format: 'esm', write: false, minify: true, logLevel: 'warning' });
const js = bundle.outputFiles[0].text;
const server = createServer((req, res) => {
  if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/bench.js"></script>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const load = [loadavg()[0]];
let browserResults;
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction('window.benchReady === true');
  browserResults = await page.evaluate((o) => window.runBench(o), { totalMiB, chunkKiB, rounds });
} finally {
  await browser.close();
  server.close();
}

// The server side of the same work.
const data = Buffer.alloc(totalMiB * 1024 * 1024);
for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
const chunk = chunkKiB * 1024;
const nodeCases = {
  'node createHash sha256 (incremental)': () => {
    const h = createHash('sha256');
    for (let i = 0; i < data.length; i += chunk) h.update(data.subarray(i, i + chunk));
    h.digest();
  },
  'node zlib.crc32 per chunk': () => {
    for (let i = 0; i < data.length; i += chunk) crc32(data.subarray(i, i + chunk));
  },
  'node createHash sha256 per chunk': () => {
    for (let i = 0; i < data.length; i += chunk) createHash('sha256').update(data.subarray(i, i + chunk)).digest();
  },
};
const nodeResults = {};
for (const [name, fn] of Object.entries(nodeCases)) {
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  nodeResults[name] = { medianMs: ms, mbps: data.length / 1e6 / (ms / 1000) };
}
load.push(loadavg()[0]);

console.log(`# ${totalMiB} MiB in ${chunkKiB} KiB chunks, median of ${rounds}; load ${load.map((l) => l.toFixed(2)).join(' -> ')}`);
console.log('| where | candidate | MB/s | ms |');
console.log('|---|---|---:|---:|');
for (const [name, r] of Object.entries(browserResults)) console.log(`| Chromium | ${name} | ${r.mbps.toFixed(0)} | ${r.medianMs.toFixed(0)} |`);
for (const [name, r] of Object.entries(nodeResults)) console.log(`| Node | ${name} | ${r.mbps.toFixed(0)} | ${r.medianMs.toFixed(0)} |`);
