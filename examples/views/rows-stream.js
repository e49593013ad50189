// The 1,000-row table of rows.js as a stream: the rows live in the browser's
// DOM, and each event sends only the rows it inserts, updates or deletes, so
// the client patches those rows instead of re-rendering all 1,000.
// The view keeps its own copy of the data (as an app would keep a database);
// the renderer keeps none of it after sending.
import { createLiveView, html } from 'inletjs';
import { makeRows, ROW_COUNT } from './rows.js';
import { nav } from './layout.js';

const bumped = (r) => ({ ...r, value: r.value + 1, tick: r.tick + 1 });

export const RowsStream = createLiveView({
  mount: (socket) => {
    const rows = makeRows();
    socket.assign({ rows, nextId: ROW_COUNT + 1, updates: 0 });
    socket.streamConfigure('rows', { domId: (r) => `row-${r.id}` });
    socket.stream('rows', rows);
    socket.pageTitle('1,000 rows (stream)');
  },
  handleEvent: (event, socket) => {
    let { rows, nextId, updates } = socket.assigns;
    switch (event.type) {
      case 'bump': {
        const i = Number.parseInt(String(event.index ?? 0), 10);
        if (!Number.isInteger(i) || i < 0 || i >= rows.length) return;
        rows = rows.slice();
        rows[i] = bumped(rows[i]);
        socket.streamInsert('rows', rows[i]);
        break;
      }
      case 'bump-every-10th':
        rows = rows.map((r, i) => (i % 10 === 0 ? bumped(r) : r));
        socket.stream('rows', rows.filter((_, i) => i % 10 === 0));
        break;
      case 'reverse':
        rows = rows.slice().reverse();
        socket.stream('rows', rows, { reset: true });
        break;
      case 'prepend': {
        const row = { id: nextId, label: `Row ${nextId}`, value: 0, tick: 0 };
        rows = [row, ...rows];
        nextId++;
        socket.streamInsert('rows', row, { at: 0 });
        break;
      }
      case 'remove-first':
        if (rows.length === 0) return;
        socket.streamDelete('rows', rows[0]);
        rows = rows.slice(1);
        break;
      default:
        return;
    }
    socket.assign({ rows, nextId, updates: updates + 1 });
  },
  render: ({ rows, updates, streams }) => html`${nav()}<main class="container">
<h1>1,000 rows</h1>
<p><button id="bump" phx-click="bump" phx-value-index="0">Bump row 1</button>
<button id="bump10" phx-click="bump-every-10th">Bump every 10th</button>
<button id="reverse" phx-click="reverse">Reverse</button>
<button id="prepend" phx-click="prepend">Prepend</button>
<button id="remove-first" phx-click="remove-first">Remove first</button>
Updates: <span id="updates">${updates}</span> · Rows: <span id="row-count">${rows.length}</span></p>
<table id="rows"><tbody id="rows-body" phx-update="stream">${streams.rows.map(
    (r, id) => html`<tr id="${id}"><td>${r.id}</td><td>${r.label}</td><td class="value">${r.value}</td><td>${r.tick > 0 ? html`<em>updated ×${r.tick}</em>` : ''}</td></tr>`,
  )}</tbody></table>
</main>`,
});
