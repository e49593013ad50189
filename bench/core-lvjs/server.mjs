// The LiveViewJS side of bench/core.mjs: the 1,000-row view of
// examples/views/rows.js written against LiveViewJS 0.8.1 (npm liveviewjs +
// @liveviewjs/express), served with express, express-session and ws the way
// LiveViewJS's own examples do, and its bundled client (phoenix_live_view
// 0.18.0 on phoenix 1.6.12).
//
// LiveViewJS is not a dependency of this repository: bench/core-lvjs/setup.sh
// installs it into BENCH_DIR, and this file loads it from there.
//
// Same markup as examples/views/rows.js, byte for byte, with one difference
// that LiveViewJS cannot express: the rows are a plain `rows.map(...)` (it has
// no keyed comprehension), so the wire format is 0.18's `{s, d}` list.
//
// env: BENCH_DIR (required), PORT (default 4012), APP_CSS (path of
// examples/public/app.css, served at /app.css like the Inlet example).
// Prints "LISTENING <port>" when ready.
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { join } from 'node:path';

const BENCH_DIR = process.env.BENCH_DIR;
if (!BENCH_DIR) throw new Error('BENCH_DIR is required (see bench/core-lvjs/setup.sh)');
const require = createRequire(join(BENCH_DIR, 'package.json'));
const { createLiveView, html } = require('liveviewjs');
const { NodeExpressLiveViewServer } = require('@liveviewjs/express');
const express = require('express');
const session = require('express-session');
const { WebSocketServer } = require('ws');

const PORT = Number(process.env.PORT ?? 4012);
const ROW_COUNT = 1000;

// Identical to examples/views/rows.js.
const makeRows = (n = ROW_COUNT) =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, label: `Row ${i + 1}`, value: (i * 7919) % 1000, tick: 0 }));

// Identical to examples/views/layout.js nav().
const nav = () => html`<nav class="nav"><a data-phx-link="redirect" data-phx-link-state="push" href="/">Examples</a></nav>`;

const rowsView = createLiveView({
  mount: (socket) => {
    socket.assign({ rows: makeRows(), nextId: ROW_COUNT + 1, updates: 0 });
    socket.pageTitle('1,000 rows');
  },
  handleEvent: (event, socket) => {
    let { rows, nextId, updates } = socket.context;
    switch (event.type) {
      case 'bump': {
        const i = Number(event.index ?? 0) % rows.length;
        rows = rows.slice();
        rows[i] = { ...rows[i], value: rows[i].value + 1, tick: rows[i].tick + 1 };
        break;
      }
      case 'bump-every-10th':
        rows = rows.map((r, i) => (i % 10 === 0 ? { ...r, value: r.value + 1, tick: r.tick + 1 } : r));
        break;
      case 'reverse':
        rows = rows.slice().reverse();
        break;
      case 'prepend':
        rows = [{ id: nextId, label: `Row ${nextId}`, value: 0, tick: 0 }, ...rows];
        nextId++;
        break;
      case 'remove-first':
        rows = rows.slice(1);
        break;
      default:
        return;
    }
    socket.assign({ rows, nextId, updates: updates + 1 });
  },
  render: ({ rows, updates }) => html`${nav()}<main class="container">
<h1>1,000 rows</h1>
<p><button id="bump" phx-click="bump" phx-value-index="0">Bump row 1</button>
<button id="bump10" phx-click="bump-every-10th">Bump every 10th</button>
<button id="reverse" phx-click="reverse">Reverse</button>
<button id="prepend" phx-click="prepend">Prepend</button>
<button id="remove-first" phx-click="remove-first">Remove first</button>
Updates: <span id="updates">${updates}</span> · Rows: <span id="row-count">${rows.length}</span></p>
<table id="rows"><tbody>${rows.map(
    (r) => html`<tr id="row-${r.id}"><td>${r.id}</td><td>${r.label}</td><td class="value">${r.value}</td><td>${r.tick > 0 ? html`<em>updated ×${r.tick}</em>` : ''}</td></tr>`,
  )}</tbody></table>
</main>`,
});

const pageTemplate = (titleOptions, csrfToken, content) => html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="csrf-token" content="${csrfToken}">
<title>${titleOptions.title}</title>
<link rel="stylesheet" href="/app.css">
<script src="/js/phoenix.js"></script>
<script src="/js/phoenix_live_view.js"></script>
<script>
window.addEventListener("DOMContentLoaded", () => {
  const csrf = document.querySelector("meta[name='csrf-token']").getAttribute("content");
  window.liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, { params: { _csrf_token: csrf } });
  window.liveSocket.connect();
});
</script>
</head>
<body>
${content}
</body>
</html>`;

const secret = 'bench-core-secret-not-for-production';
// npm 0.8.1 API: (router, pageTemplate, liveTitleOptions, options); the
// middlewares are methods that return the middleware.
const liveServer = new NodeExpressLiveViewServer({ '/rows': rowsView }, pageTemplate, { title: '1,000 rows' }, { serDeSigningSecret: secret });

const app = express();
app.use(session({ secret, resave: false, saveUninitialized: true, cookie: { sameSite: 'strict' } }));
app.get('/js/phoenix.js', (_q, r) => r.sendFile(join(BENCH_DIR, 'node_modules/phoenix/priv/static/phoenix.js')));
app.get('/js/phoenix_live_view.js', (_q, r) => r.sendFile(join(BENCH_DIR, 'node_modules/phoenix_live_view/priv/static/phoenix_live_view.js')));
app.get('/app.css', (_q, r) => (process.env.APP_CSS ? r.sendFile(process.env.APP_CSS) : r.type('css').send('')));
app.get('/favicon.ico', (_q, r) => r.status(204).end());
app.use(liveServer.httpMiddleware());

const server = createServer(app);
liveServer.wsMiddleware()(new WebSocketServer({ server }));
server.listen(PORT, '127.0.0.1', () => console.log(`LISTENING ${PORT}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0));
