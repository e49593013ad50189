// Streams: collections the server renders once and then forgets. The items
// live in the browser's DOM (inside phx-update="stream" containers); each
// event sends only the inserted, updated or deleted items.
import { createLiveComponent, createLiveView, html, JS, liveComponent } from 'inletjs';
import { link, nav } from './layout.js';

const INITIAL_USERS = [
  { id: 1, name: 'chris' },
  { id: 2, name: 'callan' },
];

/** `users-7` -> `7`; the item a button's DOM id names. */
const idOf = (domId, prefix) => String(domId ?? '').slice(prefix.length + 1);

/** A component with a stream of its own (its refs are prefixed with its cid). */
export const UserStreamComponent = createLiveComponent({
  mount: (socket) => socket.stream('c_users', INITIAL_USERS),
  handleEvent: (event, socket) => {
    const id = idOf(event.id, 'c_users');
    switch (event.type) {
      case 'delete':
        return socket.streamDeleteByDomId('c_users', String(event.id));
      case 'update':
        return socket.streamInsert('c_users', { id, name: 'updated' });
      case 'move-to-first':
        socket.streamDeleteByDomId('c_users', String(event.id));
        return socket.streamInsert('c_users', { id, name: 'updated' }, { at: 0 });
      case 'reset':
        return socket.stream('c_users', [], { reset: true });
      default:
        return undefined;
    }
  },
  render: ({ streams }, { myself }) => html`<section class="stream-box">
<h2>In a component</h2>
<div id="c_users" phx-update="stream">${streams.c_users.map(
    (user, id) => html`<div id="${id}">${user.name}
<button phx-click="delete" phx-value-id="${id}" phx-target="${myself}">delete</button>
<button phx-click="update" phx-value-id="${id}" phx-target="${myself}">update</button>
<button phx-click="move-to-first" phx-value-id="${id}" phx-target="${myself}">make first</button>
</div>`,
  )}</div>
<button phx-click="reset" phx-target="${myself}">Reset component users</button>
</section>`,
});

const userRow = (prefix, count) => (user, id) =>
  html`<div id="${id}" data-count="${count}">${user.name}
<button phx-click="${prefix}delete" phx-value-id="${id}">delete</button>
<button phx-click="${prefix}update" phx-value-id="${id}">update</button>
<button phx-click="${prefix}move-to-first" phx-value-id="${id}">make first</button>
<button phx-click="${prefix}move-to-last" phx-value-id="${id}">make last</button>
<button phx-click="${JS.hide({ to: `#${id}` })}">JS Hide</button>
</div>`;

export const Streams = createLiveView({
  mount: (socket) => {
    socket.assign({ count: 0, nextId: 10 });
    socket.stream('users', INITIAL_USERS);
    socket.stream('admins', [
      { id: 1, name: 'chris-admin' },
      { id: 2, name: 'callan-admin' },
    ]);
    socket.pageTitle('Streams');
  },
  handleEvent: (event, socket) => {
    const [stream, type] = event.type.startsWith('admin-') ? ['admins', event.type.slice(6)] : ['users', event.type];
    const domId = String(event.id ?? '');
    const id = idOf(domId, stream);
    switch (type) {
      case 'delete':
        return socket.streamDeleteByDomId(stream, domId);
      case 'update':
        return socket.streamInsert(stream, { id, name: 'updated' });
      case 'move-to-first':
      case 'move-to-last':
        socket.streamDeleteByDomId(stream, domId);
        return socket.streamInsert(stream, { id, name: 'updated' }, { at: type === 'move-to-first' ? 0 : -1 });
      case 'add': {
        const { nextId } = socket.assigns;
        socket.assign({ nextId: nextId + 1 });
        return socket.streamInsert(stream, { id: nextId, name: `user ${nextId}` }, { at: Number(event.at ?? -1) });
      }
      case 'reset-users':
        socket.assign({ count: socket.assigns.count + 1 });
        return socket.stream('users', [], { reset: true });
      case 'reset-users-reorder':
        socket.assign({ count: socket.assigns.count + 1 });
        return socket.stream('users', [{ id: 3, name: 'peter' }, { id: 1, name: 'chris' }, { id: 4, name: 'mona' }], { reset: true });
      case 'append-users':
        return socket.stream('users', [{ id: 4, name: 'foo' }, { id: 3, name: 'last_user' }], { at: -1 });
      default:
        return undefined;
    }
  },
  render: ({ count, streams }) => html`${nav()}<main class="container">
<h1>Streams</h1>
<p>More: ${link('/streams/reset', 'reset, reorder, insert at')} · ${link('/streams/limit', 'limits')} ·
${link('/streams/components', 'components as items, nested streams')} · ${link('/streams/healthy/fruits', 'reset on live patch')} ·
${link('/rows-stream', '1,000 rows as a stream')}</p>
<section class="stream-box">
<h2>Users</h2>
<div id="users" phx-update="stream">${streams.users.map(userRow('', count))}<div id="users-empty" class="only-child">No users.</div></div>
<button phx-click="add">Add a user</button> <button phx-click="add" phx-value-at="0">Prepend a user</button>
<button phx-click="reset-users">Reset users</button> <button phx-click="reset-users-reorder">Reorder users</button>
<button phx-click="append-users">Append users</button>
</section>
<section class="stream-box">
<h2>Admins</h2>
<div id="admins" phx-update="stream">${streams.admins.map(userRow('admin-', count))}</div>
</section>
${liveComponent(UserStreamComponent, { id: 'stream-component' })}
</main>`,
});
