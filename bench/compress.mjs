// WebSocket permessage-deflate (the `compress` option) on the 1,000-row example:
// bytes on the wire for the join reply and for each kind of event, off and on,
// measured as the growth of the client socket's bytesRead (frame headers included).
// Run: npm run build && node bench/compress.mjs
import { createServer } from 'inletjs/node';
import WebSocket from 'ws';
import { routes } from '../examples/app.js';

const EVENTS = [
  ['bump', { index: '0' }],
  ['bump-every-10th', {}],
  ['prepend', {}],
  ['reverse', {}],
  ['remove-first', {}],
];
const ROUNDS = 5;

async function page(base) {
  const res = await fetch(`${base}/rows`);
  const html = await res.text();
  const pick = (re) => re.exec(html)?.[1];
  return {
    id: pick(/<div id="([^"]+)" data-phx-main/),
    session: pick(/data-phx-session="([^"]+)"/),
    static: pick(/data-phx-static="([^"]+)"/),
    csrf: pick(/<meta name="csrf-token" content="([^"]+)"/),
    cookie: (res.headers.get('set-cookie') ?? '').split(';')[0],
    htmlBytes: Buffer.byteLength(html),
  };
}

async function measure(compress) {
  const server = createServer({ routes, compress, logger: false, secret: 'compress-bench-secret-0123456789abcdef' });
  await server.listen(0);
  const p = await page(server.url);
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/live/websocket?_csrf_token=${encodeURIComponent(p.csrf)}&vsn=2.0.0`, {
    headers: { cookie: p.cookie },
    perMessageDeflate: true,
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const negotiated = ws.extensions.includes('permessage-deflate');
  const tcp = ws._socket;
  let ref = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    const waiter = pending.get(frame[1]);
    if (waiter && frame[3] === 'phx_reply') {
      pending.delete(frame[1]);
      waiter({ frame, textBytes: data.length });
    }
  });
  const request = (joinRef, topic, event, payload) => {
    const r = String(ref++);
    const before = tcp.bytesRead;
    return new Promise((resolve) => {
      pending.set(r, ({ frame, textBytes }) => resolve({ frame, textBytes, wireBytes: tcp.bytesRead - before }));
      ws.send(JSON.stringify([joinRef, r, topic, event, payload]));
    });
  };
  const topic = `lv:${p.id}`;
  const join = await request('1', topic, 'phx_join', { url: `${server.url}/rows`, params: { _csrf_token: p.csrf, _mounts: 0 }, session: p.session, static: p.static });
  if (join.frame[4].status !== 'ok') throw new Error(`join failed: ${JSON.stringify(join.frame[4])}`);
  const events = {};
  for (const [name, value] of EVENTS) {
    const wire = [];
    const text = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await request('1', topic, 'event', { type: 'click', event: name, value });
      wire.push(r.wireBytes);
      text.push(r.textBytes);
    }
    events[name] = { wire: median(wire), first: wire[0], text: median(text) };
  }
  ws.close();
  await server.close();
  return { negotiated, page: p.htmlBytes, join: { wire: join.wireBytes, text: join.textBytes }, events };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const off = await measure(false);
const on = await measure(true);
const pad = (s, n) => String(s).padStart(n);
console.log(`compress: off negotiated=${off.negotiated}, on negotiated=${on.negotiated}; HTML page ${off.page} B`);
console.log(`${'message'.padEnd(26)}${pad('text B', 9)}${pad('wire off', 10)}${pad('wire on', 10)}${pad('on/off', 8)}${pad('on, 1st', 9)}`);
const row = (label, a, b) =>
  console.log(`${label.padEnd(26)}${pad(a.text, 9)}${pad(a.wire, 10)}${pad(b.wire, 10)}${pad((b.wire / a.wire).toFixed(2), 8)}${pad(b.first ?? '', 9)}`);
row('join reply (1,000 rows)', off.join, on.join);
for (const [name] of EVENTS) row(`event ${name}`, off.events[name], on.events[name]);
console.log(`events: median of ${ROUNDS} in a row; "on, 1st" is the first of its kind after the join`);
