// 1,000 rows in a keyed comprehension. Updating one row, shuffling or
// prepending sends only what changed (moves travel as indexes).
import { createLiveView, html, repeat } from 'inletjs';
import { nav } from './layout.js';

export const ROW_COUNT = 1000;

export function makeRows(n = ROW_COUNT) {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, label: `Row ${i + 1}`, value: (i * 7919) % 1000, tick: 0 }));
}

export const Rows = createLiveView({
  mount: (socket) => {
    socket.assign({ rows: makeRows(), nextId: ROW_COUNT + 1, updates: 0 });
    socket.pageTitle('1,000 rows');
  },
  handleEvent: (event, socket) => {
    let { rows, nextId, updates } = socket.assigns;
    switch (event.type) {
      case 'bump': {
        const i = Number.parseInt(String(event.index ?? 0), 10);
        if (!Number.isInteger(i) || i < 0 || i >= rows.length) return;
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
<table id="rows"><tbody>${repeat(
    rows,
    (r) => r.id,
    (r) => html`<tr id="row-${r.id}"><td>${r.id}</td><td>${r.label}</td><td class="value">${r.value}</td><td>${r.tick > 0 ? html`<em>updated ×${r.tick}</em>` : ''}</td></tr>`,
  )}</tbody></table>
</main>`,
});
