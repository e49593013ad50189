// Portals and phx-update="ignore": content rendered by the view but shown
// elsewhere in the page (a modal, a menu at the end of <body>), events from
// teleported buttons, a component with a stream inside a portal, nested
// portals, a child view in a portal; and an element whose children belong to
// the browser (the server's later renders of it are ignored, data-*
// attributes still follow).
import { createLiveComponent, createLiveView, html, liveComponent, liveRender, portal } from 'inletjs';
import { link, nav } from './layout.js';

let nextId = 3;

/** A component with a stream, placed inside a portal; its button targets it from the teleported DOM. */
const StreamBox = createLiveComponent({
  mount: (socket) => socket.stream('items', [{ id: 1, name: 'one' }, { id: 2, name: 'two' }]),
  handleEvent: (event, socket) => {
    if (event.type === 'prepend') socket.streamInsert('items', { id: nextId, name: `item ${nextId++}` }, { at: 0 });
  },
  render: ({ streams }, { myself }) => html`<div id="stream-box">
<ul id="stream-in-lc" phx-update="stream">${streams.items.map((item, id) => html`<li id="${id}">${item.name}</li>`)}</ul>
<button id="lc-prepend" phx-click="prepend" phx-target="${myself}">Prepend</button>
</div>`,
});

/** A child view shown through a portal: its events reach it, not the parent. */
const Nested = createLiveView({
  mount: (socket) => socket.assign({ clicks: 0 }),
  handleEvent: (event, socket) => {
    if (event.type === 'click') socket.assign({ clicks: socket.assigns.clicks + 1 });
  },
  render: ({ clicks }) => html`<div id="nested-body"><button id="nested-click" phx-click="click">Nested click</button> <output id="nested-clicks">${clicks}</output></div>`,
});

export const Portals = createLiveView({
  mount: (socket) => {
    socket.assign({ count: 0, modal: true, nestedPortals: true });
    socket.pageTitle('Portals');
  },
  handleEvent: (event, socket) => {
    if (event.type === 'tick') socket.assign({ count: socket.assigns.count + 1 });
    if (event.type === 'toggle-modal') socket.assign({ modal: !socket.assigns.modal });
    if (event.type === 'toggle-nested') socket.assign({ nestedPortals: !socket.assigns.nestedPortals });
  },
  render: ({ count, modal, nestedPortals }) => html`${nav()}<main class="container" id="portals-main">
<h1>Portals</h1>
<p>${link('/counter', 'Leave for the counter')}</p>
<p><button id="tick" phx-click="tick">Tick</button> <button id="toggle-modal" phx-click="toggle-modal">Toggle the modal</button>
<button id="toggle-nested" phx-click="toggle-nested">Toggle the nested portals</button></p>
${modal ? portal({ id: 'modal-source', target: '#app-portal' }, html`<div id="my-modal" class="modal" role="dialog">
  <p id="modal-text">DOM patching works as expected: ${count}</p>
  <button id="modal-tick" phx-click="tick">Tick from the modal</button>
</div>`) : ''}
${portal({ id: 'lc-source', target: 'body' }, liveComponent(StreamBox, { id: 'lc' }))}
${nestedPortals ? portal({ id: 'outer-source', target: '#app-portal' }, html`<div id="outer-portal">outer ${portal({ id: 'inner-source', target: 'body' }, html`<p id="inner-portal">Tick count: ${count}</p>`)}</div>`) : ''}
${portal({ id: 'nested-source', target: 'body' }, liveRender(Nested, { id: 'nested' }))}
<h2>phx-update="ignore"</h2>
<div id="ignored" phx-update="ignore" data-count="${count}" title="server title ${count}"><span id="ignored-text">server text ${count}</span></div>
<button id="write-ignored" onclick="document.getElementById('ignored-text').textContent = 'written by the browser'">Write into it</button>
</main>
<div id="app-portal"></div>`,
});
