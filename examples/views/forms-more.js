// More forms: selects (errors shown once a field is used, dependent selects,
// multiple selects the server sets), nested inputs added and removed
// (inputsFor with sort and drop params), a form whose events stream items
// while it is locked, _target, and phx-trigger-action.
import { attrs, createLiveView, formTag, hook, html, inputsFor, JS, optionsForSelect, toForm, usedInput } from 'inletjs';
import { gate } from './gate.js';
import { nav } from './layout.js';

// ---------------------------------------------------------------- selects

/** Select 3 must be above 5; its error shows only once the user has used it. */
function validateSelect(params) {
  const n = Number(params.select3);
  return Number.isInteger(n) && n <= 5 ? { select3: ['must be greater than 5'] } : {};
}

const GREETINGS = { greetings: ['hello', 'hallo', 'hei'], goodbyes: ['goodbye', 'auf wiedersehen', 'ha det bra'] };

const selectInput = (field, options, extra = {}) => {
  const errors = usedInput(field) ? field.errors : [];
  return html`<div><select${attrs({ id: field.id, name: field.name, class: errors.length > 0 ? 'has-error' : undefined, ...extra })}>${optionsForSelect(options, field.value)}</select>
${errors.map((e) => html`<p class="error">${e}</p>`)}</div>`;
};

export const FormSelect = createLiveView({
  mount: (socket) => {
    socket.assign({
      form: toForm({ select3: '2' }, { as: 'select_form' }),
      demo: toForm({}, { as: 'demo' }),
      ids: toForm({ ids: [] }),
      enabled: false,
      submitted: 0,
    });
    socket.pageTitle('Selects');
  },
  handleEvent: (event, socket) => {
    switch (event.type) {
      case 'validate': {
        const params = event.select_form ?? {};
        return socket.assign({ form: toForm(params, { as: 'select_form', errors: validateSelect(params), action: 'validate' }) });
      }
      case 'demo-updated':
        return socket.assign({ demo: toForm(event.demo ?? {}, { as: 'demo' }) });
      case 'demo-submitted':
        // A fresh, empty form: both selects go back to their prompt.
        return socket.assign({ demo: toForm({}, { as: 'demo' }), submitted: socket.assigns.submitted + 1 });
      case 'select-ids':
        return socket.assign({ ids: toForm({ ids: (Array.isArray(event.ids) ? event.ids : []).map(String) }) });
      case 'unnamed-changed':
        return socket.assign({ enabled: true });
      default:
        return undefined;
    }
  },
  render: ({ form, demo, ids, enabled, submitted }) => {
    const first = demo.field('select1');
    const second = demo.field('select2');
    return html`${nav()}<main class="container">
<h1>Selects</h1>
<style>.has-error { border: 4px solid #c0392b; }</style>
<form id="select-form" phx-change="validate">
<label for="select_form_select3">Pick a number above 5</label>
${selectInput(form.field('select3'), Array.from({ length: 10 }, (_, i) => i + 1))}
</form>
<h2>Dependent selects, reset on submit</h2>
<form id="demo-form" phx-change="demo-updated" phx-submit="demo-submitted">
<select id="${first.id}" name="${first.name}"><option value="">Select</option>${optionsForSelect(Object.keys(GREETINGS), first.value)}</select>
<select id="${second.id}" name="${second.name}"><option value="">Select</option>${optionsForSelect(GREETINGS[first.value] ?? [], second.value)}</select>
<button id="demo-submit">Submit</button> <span id="demo-submitted">${submitted}</span>
</form>
<h2>A multiple select the server sets</h2>
<form id="ids-form" phx-change="validate">
<select id="${ids.field('ids').id}" name="${ids.field('ids').name}[]" multiple>${optionsForSelect([1, 2, 3, 4, 5], ids.field('ids').value)}</select>
<input type="text" placeholder="focus me!">
</form>
<h2>A select without a name</h2>
<form id="unnamed-form" phx-change="unnamed-changed">
<select id="unnamed"><option value="ONE">ONE</option><option value="TWO">TWO</option></select>
<button id="unnamed-ok"${attrs({ disabled: !enabled })}>OK</button>
</form>
</main>`;
  },
});

// ------------------------------------------------------- nested inputs

/**
 * Rows in `users_sort` order without those in `users_drop`; a sort key with no
 * row ("new", "on") adds an empty one; rows in neither list follow, by index.
 */
export function buildUsers(users = {}, sort = [], drop = []) {
  const pending = new Map(Object.entries(users));
  const dropped = new Set(drop);
  const rows = [];
  for (const key of sort) {
    if (dropped.has(key)) continue;
    rows.push(pending.get(key) ?? { name: '' });
    pending.delete(key);
  }
  const rest = [...pending.entries()].filter(([k]) => !dropped.has(k)).sort(([a], [b]) => Number(a) - Number(b));
  for (const [, row] of rest) rows.push(row);
  return Object.fromEntries(rows.map((row, i) => [String(i), row]));
}

const usersForm = (params = {}) =>
  toForm({ name: params.name ?? '', users: buildUsers(params.users, params.users_sort, params.users_drop) }, { as: 'my_form', id: 'my-form' });

export const FormDynamic = createLiveView({
  mount: (socket, _session, query) => {
    socket.assign({ form: usersForm(), checkboxes: query.checkboxes === '1', submitted: false });
    socket.pageTitle('Nested inputs');
  },
  handleEvent: (event, socket) => {
    if (event.type === 'validate') socket.assign({ form: usersForm(event.my_form) });
    if (event.type === 'save') socket.assign({ form: usersForm(event.my_form), submitted: true });
  },
  render: ({ form, checkboxes, submitted }) => html`${nav()}<main class="container">
<h1>Nested inputs</h1>
<form id="my-form" phx-change="validate" phx-submit="save">
<fieldset>
<input type="text" id="${form.field('name').id}" name="${form.field('name').name}" value="${form.field('name').value}" placeholder="name">
${inputsFor(form.field('users')).map((user) => {
    const name = user.field('name');
    return html`<div class="row">
<input type="hidden" name="my_form[users_sort][]" value="${user.index}">
<input type="text" id="${name.id}" name="${name.name}" value="${name.value ?? ''}" placeholder="name">
${checkboxes
    ? html`<label><input type="checkbox" name="my_form[users_drop][]" value="${user.index}"> Remove</label>`
    : html`<button type="button" name="my_form[users_drop][]" value="${user.index}" phx-click="${JS.dispatch('change')}">Remove</button>`}
</div>`;
  })}
</fieldset>
<input type="hidden" name="my_form[users_drop][]">
${checkboxes
    ? html`<label><input type="checkbox" name="my_form[users_sort][]"> add more</label>`
    : html`<button type="button" name="my_form[users_sort][]" value="new" phx-click="${JS.dispatch('change')}">add more</button>`}
<button type="submit">Save</button>
</form>
${submitted ? html`<p>Form was submitted!</p>` : ''}
</main>`,
});

// ------------------------------------------- a stream in a locked form

/** Pushes "ping" when mounted and writes the reply's arrival as "pong". */
export const PingOnMount = hook('PingOnMount', {
  mounted() {
    this.pushEvent('ping', {}, () => {
      this.el.innerText += 'pong';
    });
  },
});

export const FormStream = createLiveView({
  hooks: [PingOnMount],
  mount: (socket, _session, query) => {
    socket.assign({ count: 0, streamCount: 3, gated: 'gate' in query });
    socket.stream('items', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    if (socket.connected) socket.sendInfo('tick', 100);
    socket.pageTitle('Stream in a form');
  },
  handleInfo: (info, socket) => {
    if (info !== 'tick') return;
    socket.assign({ count: socket.assigns.count + 1 });
    socket.sendInfo('tick', 100);
  },
  handleEvent: async (event, socket) => {
    if (event.type === 'ping') return socket.reply({});
    if (socket.assigns.gated) await gate.acquire(event.type);
    if (event.type === 'validate' || event.type === 'save') {
      const next = socket.assigns.streamCount + 1;
      socket.assign({ count: socket.assigns.count + 1, streamCount: next });
      socket.streamInsert('items', { id: next });
    }
    return undefined;
  },
  render: ({ count, streams }) => html`<main class="container">
<p id="count">${count}</p>
<form id="test-form" phx-change="validate" phx-submit="save">
<input name="myname" value="${count}">
<input id="other" name="other" value="${count}">
<div id="form-stream-hook" phx-hook="${PingOnMount}" phx-update="ignore"></div>
<ul id="form-stream" phx-update="stream">${streams.items.map((item, id) => html`<li id="${id}" phx-hook="${PingOnMount}">*item ${item.id}</li>`)}</ul>
<button id="submit" phx-disable-with="Saving...">Submit</button>
</form>
</main>`,
});

// ------------------------------------------- _target, empty forms, trigger action

export const FormDetails = createLiveView({
  mount: (socket) => {
    socket.assign({ target: [], reconnected: false, triggered: false, greeting: 'hello' });
    socket.pageTitle('Form details');
  },
  handleEvent: (event, socket) => {
    switch (event.type) {
      case 'target':
        return socket.assign({ target: event._target });
      case 'reconnected':
        return socket.assign({ reconnected: true });
      case 'trigger':
        // The next render sets phx-trigger-action: the browser then submits the form over HTTP.
        return socket.assign({ triggered: true });
      default:
        return undefined;
    }
  },
  render: ({ target, reconnected, triggered }, meta) => html`${nav()}<main class="container">
<h1>Form details</h1>
<h2>The changed field, as a key path</h2>
<form id="target-form" phx-change="target">
<input id="a" type="text" name="foo"><input id="b" type="text" name="foo[bar]">
</form>
<p id="target">${JSON.stringify(target)}</p>
<h2>A form with no inputs</h2>
<form id="recover" phx-change="noop" phx-submit="noop"><button>Submit</button></form>
${reconnected ? html`<p id="reconnected">Reconnected!</p>` : ''}
<h2>Validate over the socket, then submit over HTTP</h2>
${formTag(
    { id: 'trigger-form', action: '/forms/echo', csrfToken: meta.csrfToken, 'phx-submit': 'trigger', 'phx-trigger-action': triggered },
    html`<input type="hidden" name="greeting" value="hello"><button type="submit" name="i-am-the-submitter" value="submitter-value">Submit over HTTP</button>`,
  )}
</main>`,
});

/** POST /forms/echo answers the submitted fields as JSON (the trigger-action form's target). */
export async function formEcho(req, res) {
  if (req.method !== 'POST' || !req.url?.startsWith('/forms/echo')) return false;
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) break;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(Object.fromEntries(new URLSearchParams(body))));
  return true;
}
