#!/usr/bin/env node
// The Inlet upload app under test, run as its own process so that the driver
// (run.mjs) can sample its RSS from /proc. Source files are served to the pages
// by the driver (lib.mjs startDataServer), not by this process, so that serving
// them does not touch the memory measured here. One view at /upload with one upload
// config "files"; the form's submit consumes the entries by streaming each temp
// file to OUT_DIR with meta.fileSystem.createOrAppendFile.
//
// env:
//   PORT             port to listen on (0 = any free port; default 0)
//   CHUNK_BYTES      chunkSize for allowUpload (unset = Inlet's default)
//   MAX_FRAME_BYTES  maxFrameBytes for the socket (unset = Inlet's default)
//   OUT_DIR          where consumed files are written (required)
//   UPLOAD_TMP       uploadTmpDir (required)
//
// stdout protocol (one line each):
//   LISTENING <port> <pid>           once ready
//   SAVED {json}                     per consumed entry: name, dest, size, sha256, consumeMs
//   READY <run id>                   a self-driving page is connected and holds its file
//   REPORT {json}                    a self-driving page's timings
//   MEMPEAK {json}                   answer to MEMSTOP (see below)
// stdin: "GO <run id>" releases the page waiting in GET /bench/ready?run=<id>;
//        "MEMSTART" starts sampling process.memoryUsage() every 10 ms, "MEMSTOP" prints
//        the largest heapUsed / heapTotal / external / arrayBuffers seen, in bytes.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLiveView, html, live_file_input } from 'inletjs';
import { createServer } from 'inletjs/node';

const env = process.env;
const OUT_DIR = env.OUT_DIR;
const UPLOAD_TMP = env.UPLOAD_TMP;
if (!OUT_DIR || !UPLOAD_TMP) throw new Error('OUT_DIR and UPLOAD_TMP are required');
const CHUNK_BYTES = env.CHUNK_BYTES ? Number(env.CHUNK_BYTES) : undefined;
const MAX_FRAME_BYTES = env.MAX_FRAME_BYTES ? Number(env.MAX_FRAME_BYTES) : undefined;
const WINDOW = env.WINDOW ? Number(env.WINDOW) : undefined;
// CLIENT=plain: the page builds its LiveSocket by hand (the official client's own uploader).
const PLAIN = env.CLIENT === 'plain';
mkdirSync(OUT_DIR, { recursive: true });
mkdirSync(UPLOAD_TMP, { recursive: true });

const PAGE_JS = readFileSync(new URL('./page.js', import.meta.url));
let saveSeq = 0;

const UploadBench = createLiveView({
  mount: (socket) =>
    socket.allowUpload('files', {
      accept: 'any',
      maxEntries: 10,
      maxFileSize: 2 * 1024 ** 3,
      ...(CHUNK_BYTES ? { chunkSize: CHUNK_BYTES } : {}),
      ...(WINDOW ? { window: WINDOW } : {}),
    }),
  handleEvent: async (event, socket) => {
    if (event.type !== 'save') return;
    const tSave = performance.now();
    const saved = await socket.consumeUploadedEntries('files', async (meta, entry) => {
      saveSeq += 1;
      const dest = join(OUT_DIR, `${process.pid}-${saveSeq}-${meta.fileSystem.sanitizeFilename(entry.clientName)}`);
      await meta.fileSystem.createOrAppendFile(dest, meta.path);
      const rec = { name: entry.clientName, dest, size: meta.size, sha256: meta.sha256 };
      console.log(`SAVED ${JSON.stringify({ ...rec, consumeMs: +(performance.now() - tSave).toFixed(1) })}`);
      return rec;
    });
    socket.assign({ saved });
  },
  render: ({ saved = [] }, { uploads }) =>
    html`<form id="f" phx-change="validate" phx-submit="save">${live_file_input(uploads.files)}<button type="submit">Go</button></form><ul id="saved">${saved.map(
      (s) => html`<li data-sha="${s.sha256}" data-dest="${s.dest}">${s.name}</li>`,
    )}</ul>`,
});

// Pages waiting for the driver's "GO <id>" (see page.js).
const waiting = new Map();
let memTimer;
let memPeak;
const memSample = () => {
  const m = process.memoryUsage();
  for (const k of ['heapUsed', 'heapTotal', 'external', 'arrayBuffers']) memPeak[k] = Math.max(memPeak[k] ?? 0, m[k]);
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'MEMSTART') {
    clearInterval(memTimer);
    memPeak = {};
    memSample();
    memPeak.start = process.memoryUsage();
    memTimer = setInterval(memSample, 10);
    return;
  }
  if (line.trim() === 'MEMSTOP') {
    clearInterval(memTimer);
    if (memPeak) memSample();
    console.log(`MEMPEAK ${JSON.stringify(memPeak ?? {})}`);
    return;
  }
  const m = /^GO (\S+)$/.exec(line.trim());
  const res = m && waiting.get(m[1]);
  if (!res) return;
  waiting.delete(m[1]);
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('go');
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

async function handler(req, res) {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/bench/page.js') {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(PAGE_JS);
    return true;
  }
  if (req.method === 'GET' && url.pathname === '/bench/raw') {
    // a page without LiveView for the Chromium -> bare ws reference (page.js, #raw=<port>)
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><title>raw</title><script type="module" src="/bench/page.js"></script>');
    return true;
  }
  if (req.method === 'GET' && url.pathname === '/bench/ready') {
    const id = url.searchParams.get('run') ?? '';
    waiting.set(id, res);
    console.log(`READY ${id}`);
    return true;
  }
  if (req.method === 'POST' && url.pathname === '/bench/report') {
    const body = await readBody(req);
    console.log(`REPORT ${JSON.stringify(JSON.parse(body))}`);
    res.writeHead(204).end();
    return true;
  }
  return false;
}

const server = createServer({
  routes: { '/upload': UploadBench },
  secret: 'inlet-upload-bench-secret-0123456789abcdef',
  handler,
  scripts:
    '<script type="module" src="/bench/page.js"></script>' +
    (PLAIN
      ? '<script type="module">import { Socket, LiveSocket } from "/inlet/inlet-client.js"; const csrf = document.querySelector("meta[name=\'csrf-token\']").content; window.liveSocket = new LiveSocket("/live", Socket, { params: { _csrf_token: csrf } }); window.liveSocket.connect();</script>'
      : '<script type="module">import { connect } from "/inlet/inlet-client.js"; window.liveSocket = connect();</script>'),
  uploadTmpDir: UPLOAD_TMP,
  ...(MAX_FRAME_BYTES ? { maxFrameBytes: MAX_FRAME_BYTES } : {}),
  log: (m, e) => console.error(`[inlet] ${m}`, e ?? ''),
});
const { port } = await server.listen(Number(env.PORT ?? 0), '127.0.0.1');
console.log(`LISTENING ${port} ${process.pid}`);
process.on('SIGTERM', () => {
  server.close().finally(() => process.exit(0));
});
