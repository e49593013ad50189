// More stream examples: reset and reorder, inserting at an index, updateOnly,
// limits, live components as stream items (with streams of their own), a
// stream reset on live patch, and a stream inside a comprehension.
import { createLiveComponent, createLiveView, html, JS, liveComponent } from 'inletjs';
import { link, nav } from './layout.js';

const letters = (s) => [...s].map((c) => ({ id: c.toLowerCase(), name: c }));
let unique = 0;
const fresh = () => {
  unique++;
  return { id: `a${unique}`, name: `new ${unique}` };
};

const page = (title, body) => html`${nav()}<main class="container"><h1>${title}</h1><p>${link('/streams', 'All stream examples')}</p>${body}</main>`;

/** Reset, reorder, bulk insert at an index, inserts of items already shown, updateOnly. */
export const StreamReset = createLiveView({
  mount: (socket, _session, params) => {
    socket.assign({ phxRemove: 'phx-remove' in params });
    socket.stream('items', letters('ABCD'));
    socket.pageTitle('Stream reset');
  },
  handleEvent: (event, socket) => {
    switch (event.type) {
      case 'filter':
        return socket.stream('items', letters('BCD'), { reset: true });
      case 'reorder':
        return socket.stream('items', letters('BACD'), { reset: true });
      case 'reset':
        return socket.stream('items', letters('ABCD'), { reset: true });
      case 'prepend':
        return socket.streamInsert('items', fresh(), { at: 0 });
      case 'append':
        return socket.streamInsert('items', fresh(), { at: -1 });
      case 'bulk-insert':
        // Each item goes in at index 1 in turn, so reversed input keeps E, F, G in order.
        return socket.stream('items', letters('EFG').reverse(), { at: 1 });
      case 'insert-at-one':
        return socket.streamInsert('items', fresh(), { at: 1 });
      case 'insert-existing-at-one':
        return socket.streamInsert('items', { id: 'c', name: 'C' }, { at: 1 });
      case 'delete-insert-existing-at-one':
        socket.streamDeleteByDomId('items', 'items-c');
        return socket.streamInsert('items', { id: 'c', name: 'C' }, { at: 1 });
      case 'prepend-existing':
        return socket.streamInsert('items', { id: 'c', name: 'C' }, { at: 0 });
      case 'append-existing':
        return socket.streamInsert('items', { id: 'c', name: 'C' }, { at: -1 });
      case 'new-update-only':
        return socket.streamInsert('items', { id: 'e', name: 'E' }, { at: -1, updateOnly: true });
      case 'existing-update-only':
        unique++;
        return socket.streamInsert('items', { id: 'c', name: `C ${unique}` }, { at: -1, updateOnly: true });
      default:
        return undefined;
    }
  },
  render: ({ phxRemove, streams }) =>
    page(
      'Stream reset',
      html`<ul phx-update="stream" id="thelist">${streams.items.map(
        (item, id) => html`<li id="${id}"${phxRemove ? html` phx-remove="${JS.hide()}"` : ''}>${item.name}</li>`,
      )}</ul>
<button phx-click="filter">Filter</button> <button phx-click="reorder">Reorder</button> <button phx-click="reset">Reset</button>
<button phx-click="prepend">Prepend</button> <button phx-click="append">Append</button> <button phx-click="bulk-insert">Bulk insert</button>
<button phx-click="insert-at-one">Insert at 1</button> <button phx-click="insert-existing-at-one">Insert C at 1</button>
<button phx-click="delete-insert-existing-at-one">Delete C and insert at 1</button>
<button phx-click="prepend-existing">Prepend C</button> <button phx-click="append-existing">Append C</button>
<button phx-click="new-update-only">Add E (update only)</button> <button phx-click="existing-update-only">Update C (update only)</button>`,
    ),
});

/** `at` and `limit` from a form: the client trims the container to the limit after each insert. */
export const StreamLimit = createLiveView({
  mount: (socket) => {
    configure(socket, -1, -5);
    socket.pageTitle('Stream limits');
  },
  handleEvent: (event, socket) => {
    const { at, limit, lastId } = socket.assigns;
    switch (event.type) {
      case 'configure': {
        const a = Number.parseInt(String(event.at), 10);
        const l = Number.parseInt(String(event.limit), 10);
        if (Number.isInteger(a) && Number.isInteger(l)) configure(socket, a, l);
        return undefined;
      }
      case 'insert-10':
        socket.assign({ lastId: lastId + 10 });
        return socket.stream('items', range(lastId + 1, 10), { at, limit });
      case 'insert-1':
        socket.assign({ lastId: lastId + 1 });
        return socket.streamInsert('items', { id: lastId + 1 }, { at, limit });
      case 'clear':
        socket.assign({ lastId: 0 });
        return socket.stream('items', [], { reset: true });
      default:
        return undefined;
    }
  },
  render: ({ at, limit, streams }) =>
    page(
      'Stream limits',
      html`<form phx-submit="configure">at: <input type="text" name="at" value="${at}"> limit: <input type="text" name="limit" value="${limit}">
<button type="submit">recreate stream</button></form>
<div id="configured">configured with at: ${at}, limit: ${limit}</div>
<button phx-click="insert-10">add 10</button> <button phx-click="insert-1">add 1</button> <button phx-click="clear">clear</button>
<ul id="items" phx-update="stream">${streams.items.map((item, id) => html`<li id="${id}">${item.id}</li>`)}</ul>`,
    ),
});

const range = (from, n) => Array.from({ length: n }, (_, i) => ({ id: from + i }));

function configure(socket, at, limit) {
  socket.assign({ at, limit, lastId: 10 });
  socket.stream('items', range(1, 10), { reset: true, at, limit });
}

/** A live component as a stream item, with a stream of its own. */
export const NestedItem = createLiveComponent({
  update: (props, socket) => {
    const first = socket.assigns.id === undefined;
    socket.assign(props);
    // The HTML render shows other items than the live one: the browser must drop the dead render's.
    const names = socket.connected ? 'ABCD' : 'EFGH';
    if (first) socket.stream('nested', letters(names).map((n) => ({ id: `${props.id}-${n.id}`, name: `N-${n.name}` })), { reset: true });
  },
  handleEvent: (event, socket) => {
    if (event.type !== 'reorder') return;
    const id = socket.assigns.id;
    socket.stream('nested', letters('EAFG').map((n) => ({ id: `${id}-${n.id}`, name: `N-${n.name}` })), { reset: true });
  },
  render: ({ id, item, streams }, { myself }) => html`<li id="${id}">${item.name}
<div id="${id}-nested" phx-update="stream" class="row">${streams.nested.map((n, nid) => html`<span id="${nid}">${n.name}</span>`)}</div>
<button phx-click="reorder" phx-target="${myself}">Reorder</button>
</li>`,
});

/** Live components as the direct children of a stream container, reset and reordered. */
export const StreamComponents = createLiveView({
  mount: (socket) => {
    socket.stream('items', letters('ABCD'));
    socket.pageTitle('Streams of components');
  },
  handleEvent: (event, socket) => {
    if (event.type === 'reorder') socket.stream('items', letters('EAFG'), { reset: true });
  },
  render: ({ streams }) =>
    page(
      'Streams of components',
      html`<p>Each item is a live component with a nested stream; its Reorder resets only that stream.</p>
<ul phx-update="stream" id="thelist">${streams.items.map((item, id) => liveComponent(NestedItem, { id, item }))}</ul>
<button phx-click="reorder" id="parent-reorder">Reorder</button>`,
    ),
});

const HEALTHY = {
  fruits: [
    { id: 1, name: 'Apples' },
    { id: 2, name: 'Oranges' },
  ],
  veggies: [
    { id: 3, name: 'Carrots' },
    { id: 4, name: 'Tomatoes' },
  ],
};

/** A stream reset in handleParams: switching category by live patch replaces the items. */
export const StreamHealthy = createLiveView({
  mount: (socket) => {
    socket.assign({ category: 'fruits' });
    socket.stream('items', []);
  },
  handleParams: (url, socket) => {
    const category = url.pathname.endsWith('/veggies') ? 'veggies' : 'fruits';
    socket.assign({ category });
    socket.pageTitle(category === 'fruits' ? 'Fruits' : 'Veggies');
    socket.stream('items', HEALTHY[category], { reset: true });
  },
  render: ({ category, streams }) =>
    page(
      category === 'fruits' ? 'Fruits' : 'Veggies',
      html`<p>${link(category === 'fruits' ? '/streams/healthy/veggies' : '/streams/healthy/fruits', 'Switch', 'patch')}</p>
<ul id="items" phx-update="stream">${streams.items.map((item, id) => html`<li id="${id}">${item.name}</li>`)}</ul>`,
    ),
});

/** A stream inside a comprehension, filled after mount (a timer standing in for async work). */
export const StreamInsideFor = createLiveView({
  mount: (socket) => {
    socket.stream('items', []);
    if (socket.connected) socket.sendInfo('load', 50);
  },
  handleInfo: (_info, socket) => socket.stream('items', letters('ABCD')),
  render: ({ streams }) =>
    page(
      'A stream inside a comprehension',
      html`${[1].map(
        () => html`<div class="wrap"><ul phx-update="stream" id="thelist">${streams.items.map((item, id) => html`<li id="${id}">${item.name}</li>`)}</ul></div>`,
      )}`,
    ),
});
