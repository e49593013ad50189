// Async work: assigns that load in the background (assignAsync), a task whose
// outcome goes to handleAsync (startAsync), a stream filled in the background
// (streamAsync), cancelling, failures that leave the view working, and
// components that load their own data. Opened with ?gate, every task waits
// for gate.release('async:<name>') instead of a short delay, so tests can
// watch the loading states.
import { asyncResult, createLiveComponent, createLiveView, html, liveComponent } from 'inletjs';
import { gate } from './gate.js';
import { link, nav } from './layout.js';

/** What the tasks saw: how many ran, and how many were aborted (view gone, cancelled, replaced). */
export const asyncStats = { started: 0, aborted: 0, reset() { this.started = 0; this.aborted = 0; } };

/** Waits for the gate (with ?gate) or `ms`; rejects when `signal` aborts. */
function later(gated, name, ms, signal) {
  asyncStats.started++;
  return new Promise((resolve, reject) => {
    let timer;
    const onAbort = () => {
      asyncStats.aborted++;
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      if (!signal.aborted) resolve();
    };
    if (gated) void gate.acquire(`async:${name}`).then(done);
    else timer = setTimeout(done, ms);
  });
}

const reasonText = (reason) => (reason instanceof Error ? reason.message : String(reason));

/** A row that loads its own detail (assignAsync in update), with static markup beside it. */
const Row = createLiveComponent({
  update: (props, socket) => {
    socket.assign(props);
    if (!socket.assigns.detail) {
      socket.assignAsync('detail', async (signal) => {
        await later(props.gated, 'row', 80, signal);
        return { detail: `details of ${props.id}` };
      });
    }
  },
  render: ({ id, detail }) => html`<div class="row" id="row-${id}"><div class="static">static content</div>${asyncResult(detail, {
    loading: () => html`<span class="loading">loading ${id}…</span>`,
    ok: (d) => html`<span class="detail">${d}</span>`,
  })}</div>`,
});

/** A keyed list inside a component, from an AsyncResult the parent hands down. */
const ItemList = createLiveComponent({
  render: ({ items }) => html`<div id="items">${asyncResult(items, {
    loading: () => html`<p>loading items…</p>`,
    ok: (list) => html`${list.map((item) => html`<p class="item" id="item-${item.id}">${item.name}</p>`)}`,
  })}</div>`,
});

const ITEMS = [
  { id: 1, name: 'First' },
  { id: 2, name: 'Second' },
  { id: 3, name: 'Third' },
];

export const AsyncDemo = createLiveView({
  mount: (socket, _session, params) => {
    const gated = 'gate' in params;
    socket.assign({ gated, count: 0, report: 'no report yet' });
    socket.pageTitle('Async work');
    socket.assignAsync('org', async (signal) => {
      await later(gated, 'org', 150, signal);
      return { org: { name: 'Acme', members: 12 } };
    });
    socket.assignAsync('items', async (signal) => {
      await later(gated, 'items', 100, signal);
      return { items: ITEMS };
    });
    socket.stream('songs', []);
  },
  handleEvent: (event, socket) => {
    const { gated } = socket.assigns;
    switch (event.type) {
      case 'count':
        return socket.assign({ count: socket.assigns.count + 1 });
      case 'reload':
        return socket.assignAsync(
          'org',
          async (signal) => {
            await later(gated, 'org', 150, signal);
            return { org: { name: 'Acme', members: 13 } };
          },
          { reset: event.reset === 'true' },
        );
      case 'fail':
        return socket.assignAsync('org', async (signal) => {
          await later(gated, 'org', 50, signal);
          throw new Error('the directory is unavailable');
        }, { reset: true });
      case 'cancel':
        return socket.cancelAsync(socket.assigns.org, 'cancelled by the user');
      case 'drop-first':
        return socket.assignAsync('items', async (signal) => {
          await later(gated, 'items', 100, signal);
          return { items: ITEMS.slice(1) };
        });
      case 'report':
        socket.assign({ report: 'working…' });
        return socket.startAsync('report', async (signal) => {
          await later(gated, 'report', 100, signal);
          if (event.fail === 'true') throw new Error('the report failed');
          return `report ready (${socket.assigns.count} clicks)`;
        });
      case 'cancel-report':
        return socket.cancelAsync('report');
      case 'songs':
        return socket.streamAsync('songs', async (signal) => {
          await later(gated, 'songs', 100, signal);
          return [
            { id: 1, title: 'Blue in Green' },
            { id: 2, title: 'So What' },
          ];
        });
    }
  },
  handleAsync: (name, outcome, socket) => {
    if (name === 'report') socket.assign({ report: outcome.ok ? outcome.result : `no report: ${reasonText(outcome.reason)}` });
  },
  render: ({ org, items, count, report, songs, streams, gated }) => html`${nav()}<main class="container">
<h1>Async work</h1>
<p>${link('/async/elsewhere', 'Go elsewhere')} ${link('/async?nav', 'This page again')}</p>
<section id="org">${asyncResult(org, {
    loading: () => html`<p class="loading">Loading the organisation…</p>`,
    failed: (reason) => html`<p class="error">Could not load the organisation: ${reasonText(reason)}</p>`,
    ok: (o) => html`<p class="ok">${o.name}, ${o.members} members${org.loading ? html` <small>(refreshing)</small>` : ''}${org.failed !== undefined ? html` <small class="stale">(refresh failed: ${reasonText(org.failed)})</small>` : ''}</p>`,
  })}</section>
<p>
  <button phx-click="reload">Refresh</button>
  <button phx-click="reload" phx-value-reset="true">Reload from scratch</button>
  <button phx-click="fail">Load and fail</button>
  <button phx-click="cancel">Cancel</button>
</p>
<p><button phx-click="count">Clicked <span id="count">${count}</span></button></p>
<p><button phx-click="report">Report</button> <button phx-click="report" phx-value-fail="true">Failing report</button> <button phx-click="cancel-report">Cancel report</button> <span id="report">${report}</span></p>
<p><button phx-click="songs">Load songs</button> <span id="songs-state">${songs ? (songs.loading ? 'loading songs…' : songs.ok ? 'songs loaded' : '') : ''}</span></p>
<ul id="songs" phx-update="stream">${streams.songs.map((song, id) => html`<li id="${id}">${song.title}</li>`)}</ul>
<h2>Components</h2>
${['a', 'b'].map((id) => liveComponent(Row, { id, gated }))}
<p><button phx-click="drop-first">Remove first entry</button></p>
${liveComponent(ItemList, { id: 'item-list', items })}
</main>`,
});

export const AsyncElsewhere = createLiveView({
  render: () => html`${nav()}<main class="container"><h1 id="elsewhere">Elsewhere</h1><p>${link('/async', 'Back to async work')}</p></main>`,
});
