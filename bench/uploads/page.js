// Loaded by the bench page (server.mjs) before the LiveView client. Runs in Chromium.
//
// 1. Marks (performance.now(), in window.__uploadMarks) when the form's submit event
//    fires and when the first preflight (allow_upload), first binary chunk frame and
//    first progress push leave the page. The official client pushes its first progress
//    event right after the first chunk's ok reply, so `progress - submit` is the time
//    until the user first sees progress.
// 2. With #auto=<file>&run=<id>, the page uploads that file by itself (no DevTools
//    client attached): fetch it as a Blob from <data>/data/<file> (the driver's
//    data server, given as &data=<origin>), tell the server it is ready
//    (GET /bench/ready, answered when the driver says go), put it into the
//    live_file_input with a DataTransfer, dispatch `input`, wait for the server's
//    change reply (data-phx-active-refs), submit, wait until #saved lists the file,
//    and POST the timings to /bench/report.
const marks = (window.__uploadMarks = {});
const nativeSend = WebSocket.prototype.send;
WebSocket.prototype.send = function send(data) {
  const now = performance.now();
  if (typeof data === 'string') {
    if (marks.preflight === undefined && data.includes('"allow_upload"')) marks.preflight = now;
    else if (marks.progress === undefined && data.includes('"progress"')) marks.progress = now;
  } else if (marks.chunk === undefined) {
    marks.chunk = now;
  }
  return nativeSend.call(this, data);
};
document.addEventListener('submit', () => (marks.submit ??= performance.now()), true);

/** Resolves when `check()` is truthy, re-checking on every DOM mutation. */
function until(check) {
  return new Promise((resolve) => {
    const first = check();
    if (first) return resolve(first);
    const observer = new MutationObserver(() => {
      const v = check();
      if (v) {
        observer.disconnect();
        resolve(v);
      }
    });
    observer.observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

const report = (body) =>
  fetch('/bench/report', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function selfDrive(names, run) {
  await until(() => document.querySelector('[data-phx-main].phx-connected'));
  const files = await Promise.all(names.split(',').map((n) => fetchFile(n)));
  const name = names;
  const file = { size: files.reduce((n, f) => n + f.size, 0) };
  await (await fetch(`/bench/ready?run=${encodeURIComponent(run)}`, { cache: 'no-store' })).text();

  const input = () => document.querySelector('#f input[type=file]');
  const t0 = performance.now();
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  input().files = dt.files;
  input().dispatchEvent(new Event('input', { bubbles: true }));
  await until(() => (input()?.getAttribute('data-phx-active-refs') ?? '') !== '');
  const tChange = performance.now();
  const tClick = performance.now();
  document.querySelector('#f button[type=submit]').click();
  const tSubmit = marks.submit ?? tClick;
  await until(() => document.querySelectorAll('#saved li').length >= files.length);
  const t1 = performance.now();
  const saved = [...document.querySelectorAll('#saved li')].map((li) => ({ name: li.textContent, sha256: li.dataset.sha, dest: li.dataset.dest }));
  await report({
    run,
    name,
    size: file.size,
    t0Epoch: performance.timeOrigin + t0,
    totalMs: t1 - t0,
    changeMs: tChange - t0,
    submitToSavedMs: t1 - tSubmit,
    preflightMs: marks.preflight - tSubmit,
    firstChunkMs: marks.chunk - tSubmit,
    firstProgressMs: marks.progress - tSubmit,
    saved,
  });
}

/**
 * Reference without LiveView: the same file, the same pacing as the official
 * client's channel uploader (FileReader slice -> copy behind a small header ->
 * WebSocket.send -> wait for the reply -> setTimeout(next, 0)), sent to the bare
 * ws server of ws-raw.mjs, which answers every message with "ok".
 */
async function fetchFile(name) {
  const res = await fetch(`${hash.get('data') ?? ''}/data/${encodeURIComponent(name)}`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`fetching ${name}: HTTP ${res.status}`);
  return new File([await res.blob()], name, { type: 'application/octet-stream' });
}

async function rawDrive(name, run, port, chunkSize) {
  const file = await fetchFile(name);
  await (await fetch(`/bench/ready?run=${encodeURIComponent(run)}`, { cache: 'no-store' })).text();
  const header = new Uint8Array(19); // the size of a typical chunk push header
  const t0 = performance.now();
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  ws.binaryType = 'arraybuffer';
  let offset = 0;
  let firstAck;
  const readNext = () => {
    const reader = new FileReader();
    reader.onload = () => {
      const data = new Uint8Array(reader.result);
      const frame = new Uint8Array(header.length + data.length);
      frame.set(header, 0);
      frame.set(data, header.length);
      offset += data.length;
      ws.send(frame.buffer);
    };
    reader.readAsArrayBuffer(file.slice(offset, offset + chunkSize));
  };
  const done = new Promise((resolve, reject) => {
    ws.onmessage = () => {
      firstAck ??= performance.now() - t0;
      if (offset >= file.size) resolve();
      else setTimeout(readNext, 0);
    };
    ws.onerror = () => reject(new Error('raw ws error'));
  });
  ws.onopen = readNext;
  await done;
  const t1 = performance.now();
  ws.close();
  await report({ run, name, size: file.size, totalMs: t1 - t0, firstProgressMs: firstAck, saved: [] });
}

/**
 * The browser streaming reference: the same file sent to a bare ws server with
 * many messages in flight and no wait for replies (Blob.arrayBuffer() per
 * chunk, WebSocket.send, pausing only while more than `window` bytes are
 * buffered). The server answers once, when every byte has arrived.
 */
async function streamDrive(name, run, port, chunkSize, windowBytes) {
  const file = await fetchFile(name);
  await (await fetch(`/bench/ready?run=${encodeURIComponent(run)}`, { cache: 'no-store' })).text();
  const t0 = performance.now();
  const ws = new WebSocket(`ws://${location.hostname}:${port}`);
  ws.binaryType = 'arraybuffer';
  const done = new Promise((resolve, reject) => {
    ws.onmessage = (m) => (m.data === 'done' ? resolve() : undefined);
    ws.onerror = () => reject(new Error('stream ws error'));
  });
  await new Promise((r) => (ws.onopen = r));
  ws.send(`size ${file.size}`);
  const channel = new MessageChannel();
  const yieldNow = () => new Promise((r) => ((channel.port1.onmessage = r), channel.port2.postMessage(0)));
  for (let offset = 0; offset < file.size; offset += chunkSize) {
    const data = await file.slice(offset, offset + chunkSize).arrayBuffer();
    while (ws.bufferedAmount > windowBytes) await yieldNow();
    ws.send(data);
  }
  await done;
  const t1 = performance.now();
  ws.close();
  await report({ run, name, size: file.size, totalMs: t1 - t0, saved: [] });
}

const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get('stream')) {
  const run = hash.get('run') ?? '';
  streamDrive(hash.get('file'), run, Number(hash.get('stream')), Number(hash.get('chunk')), Number(hash.get('window'))).catch((e) =>
    report({ run, error: String((e && e.stack) || e) }),
  );
} else if (hash.get('raw')) {
  const run = hash.get('run') ?? '';
  rawDrive(hash.get('file'), run, Number(hash.get('raw')), Number(hash.get('chunk'))).catch((e) => report({ run, error: String((e && e.stack) || e) }));
} else if (hash.get('auto')) {
  const run = hash.get('run') ?? '';
  selfDrive(hash.get('auto'), run).catch((e) => report({ run, error: String((e && e.stack) || e) }));
}
