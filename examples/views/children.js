// Child views and navigation: live views rendered inside a view (each on its
// own channel, crashing alone), a sticky player that survives live
// navigation, sendParent, patches with and without replace, flash carried
// across navigation and cleared with lv:clear-flash, a route in another live
// session (a full page load), and a view whose connected mount fails with 404.
import { createLiveView, html, HttpError, liveRender } from 'inletjs';
import { flashes, link, nav } from './layout.js';

/** A child with its own state and events; tells its parent about clicks. */
const Counter = createLiveView({
  mount: (socket, session) => socket.assign({ count: 0, label: String(session.label ?? 'child') }),
  handleEvent: (event, socket) => {
    if (event.type === 'inc') {
      socket.assign({ count: socket.assigns.count + 1 });
      socket.sendParent({ clicked: socket.assigns.count });
    }
    if (event.type === 'crash') throw new Error('the child crashed on purpose');
  },
  render: ({ count, label }) => html`<div class="child" id="counter-body">
<p>${label}: <output id="child-count">${count}</output></p>
<button id="child-inc" phx-click="inc">Child +1</button>
<button id="child-crash" phx-click="crash">Crash the child</button>
</div>`,
});

/** Sticky: rendered at the same place by every view of the session, it keeps its state across live navigation. */
const Player = createLiveView({
  mount: (socket) => socket.assign({ plays: 0 }),
  handleEvent: (event, socket) => {
    if (event.type === 'play') socket.assign({ plays: socket.assigns.plays + 1 });
  },
  render: ({ plays }) => html`<aside class="player"><button id="play" phx-click="play">Play</button> played <output id="plays">${plays}</output> times</aside>`,
});

const shell = (flash, body) => html`${nav()}${liveRender(Player, { id: 'player', sticky: true })}<main class="container">${flashes(flash)}${body}</main>`;

/** A child whose connected mount always fails (opened with ?broken): the client gives up after three tries. */
const Broken = createLiveView({
  mount: (socket) => {
    if (socket.connected) throw new Error('this child cannot mount');
  },
  render: () => html`<p>broken child</p>`,
});

export const ChildrenHome = createLiveView({
  mount: (socket, _session, params) => {
    socket.assign({ count: 0, fromChild: 0, tab: 'one', broken: 'broken' in params });
    socket.pageTitle('Child views');
  },
  handleParams: (url, socket) => socket.assign({ tab: url.searchParams.get('tab') ?? 'one' }),
  handleEvent: (event, socket) => {
    if (event.type === 'inc') socket.assign({ count: socket.assigns.count + 1 });
    if (event.type === 'crash') throw new Error('the parent crashed on purpose');
    if (event.type === 'tab') socket.pushPatch(`/children?tab=${encodeURIComponent(String(event.tab))}`, { replace: event.replace === 'true' });
    if (event.type === 'away-with-flash') {
      socket.putFlash('info', 'Welcome to the other page.');
      socket.pushNavigate('/children/other');
    }
  },
  handleInfo: (info, socket) => {
    if (info && typeof info === 'object' && 'clicked' in info) socket.assign({ fromChild: socket.assigns.fromChild + 1 });
  },
  render: ({ count, fromChild, tab, flash, broken }) =>
    shell(
      flash,
      html`<h1>Child views</h1>
<p>Parent: <output id="parent-count">${count}</output> <button id="parent-inc" phx-click="inc">Parent +1</button>
<button id="parent-crash" phx-click="crash">Crash the parent</button></p>
<p>Clicks reported by the child: <output id="from-child">${fromChild}</output></p>
${liveRender(Counter, { id: 'counter', session: { label: 'The child' } })}
${broken ? liveRender(Broken, { id: 'broken' }) : ''}
<p>Tab: <strong id="tab">${tab}</strong>
${link('/children?tab=two', 'Tab two', 'patch')}
<button id="tab-three" phx-click="tab" phx-value-tab="three">Tab three (push)</button>
<button id="tab-four" phx-click="tab" phx-value-tab="four" phx-value-replace="true">Tab four (replace)</button></p>
<p>${link('/children/other', 'The other page')} <button id="away-with-flash" phx-click="away-with-flash">Go with a flash</button>
${link('/children/admin', 'Admin (another live session)')} ${link('/children/missing', 'A page that is gone')}</p>`,
    ),
});

export const ChildrenOther = createLiveView({
  mount: (socket) => socket.pageTitle('The other page'),
  render: ({ flash }) => shell(flash, html`<h1 id="other">The other page</h1><p>${link('/children', 'Back')}</p>`),
});

export const ChildrenAdmin = createLiveView({
  mount: (socket) => socket.pageTitle('Admin'),
  render: () => html`${nav()}<main class="container"><h1 id="admin">Admin</h1><p>${link('/children', 'Back')}</p></main>`,
});

/** Renders over HTTP, but its connected mount finds the record gone: the client reloads and gets the 404 page. */
export const ChildrenMissing = createLiveView({
  mount: (socket) => {
    if (socket.connected) throw new HttpError(404, 'the record is gone');
  },
  render: () => html`<p>loading…</p>`,
});
