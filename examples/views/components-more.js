// Stateful components beyond the basics: sendUpdate (from handleInfo, and a
// component updating itself from update), updateMany (one call for every
// instance in a render), nested components removed and revived, components
// whose root id changes, hooks in components, and uploads a component owns.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { attrs, createLiveComponent, createLiveView, hook, html, liveComponent, live_file_input, patchLink, uploadErrors } from 'inletjs';
import { nav } from './layout.js';

// ---------------------------------------------------------------- updates

/** Its root id changes with its counter, and a sendUpdate sets the counter later. */
export const Badge = createLiveComponent({
  render: ({ domId, counter }) => html`<div id="${domId}" class="box">${counter}</div>`,
});

/** Loads its record in a second step: update() sends an update to itself (Phoenix issue 3169). */
export const RecordLoader = createLiveComponent({
  mount: (socket) => socket.assign({ record: null }),
  update: (props, socket) => {
    if (props.action) return socket.assign({ record: { id: Math.floor(Math.random() * 1e6), name: `Record ${props.action}` } });
    if (props.selected) {
      socket.sendUpdate(RecordLoader, { id: props.id, action: props.selected });
      return socket.assign({ record: null });
    }
    return undefined;
  },
  render: ({ record }) => html`<div id="record-loader">${record ? liveComponent(RecordCore, { id: 'core', record }) : html`<p>Nothing selected</p>`}</div>`,
});

export const RecordCore = createLiveComponent({
  render: ({ record }) => html`<div>${liveComponent(RecordColumn, { id: `column-${record.id}`, name: record.name })}</div>`,
});

export const RecordColumn = createLiveComponent({
  render: ({ name }) => html`<div>Column (c3) <input type="text" value="${name}"> <span>${name}</span> <input type="text" value="${name}"></div>`,
});

/** Every instance placed with new props in one render arrives in one updateMany call: here, labels "loaded" in one batch. */
export const BatchRow = createLiveComponent({
  updateMany: (updates) => {
    const batch = updates.length;
    for (const [props, socket] of updates) socket.assign({ id: props.id, label: `${props.id} (batch of ${batch})` });
  },
  render: ({ id, label }) => html`<li id="${id}">${label}</li>`,
});

export const ComponentUpdates = createLiveView({
  mount: (socket) => {
    socket.assign({ next: 1, badges: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, counter: 0 })), selected: null, rows: 3 });
    socket.pageTitle('Component updates');
  },
  handleEvent: (event, socket) => {
    switch (event.type) {
      case 'bump': {
        const { next, badges } = socket.assigns;
        socket.sendInfo({ update: next }, 100);
        return socket.assign({ next: next + 1, badges: badges.map((b) => (b.id === next ? { ...b, counter: b.counter + 1 } : b)) });
      }
      case 'select':
        return socket.assign({ selected: String(event.name) });
      case 'more-rows':
        return socket.assign({ rows: socket.assigns.rows + 1 });
      default:
        return undefined;
    }
  },
  handleInfo: (info, socket) => {
    // The component is addressed by definition and id; its update (here: assign) runs, then it renders.
    if (info.update) socket.sendUpdate(Badge, { id: `comp-${info.update}`, counter: 10 });
  },
  render: ({ badges, selected, rows }) => html`${nav()}<main class="container">
<h1>Component updates</h1>
<h2>sendUpdate from handleInfo, with root ids that change</h2>
<div class="row">${badges.map((b) => liveComponent(Badge, { id: `comp-${b.id}`, domId: `hello-${b.id}-${b.counter}`, counter: b.counter }))}</div>
<button id="bump" phx-click="bump">Bump ID (and counter)</button>
<h2>A component that updates itself</h2>
${liveComponent(RecordLoader, { id: 'loader', selected })}
${['a', 'b', 'z'].map((name) => html`<button id="select-${name}" phx-click="select" phx-value-name="${name}">Select ${name}</button>`)}
<h2>updateMany</h2>
<ul id="batch">${Array.from({ length: rows }, (_, i) => liveComponent(BatchRow, { id: `row-${i + 1}` }))}</ul>
<button id="more-rows" phx-click="more-rows">Add a row</button>
</main>`,
});

// ------------------------------------------------ nesting, removal, revival

export const Leaf = createLiveComponent({
  mount: (socket) => socket.assign({ count: 0 }),
  handleEvent: (_event, socket) => socket.assign({ count: socket.assigns.count + 1 }),
  render: ({ count }, { myself }) => html`<div id="leaf">count: <span id="leaf-count">${count}</span>
<button id="leaf-bump" phx-click="bump" phx-target="${myself}">bump</button></div>`,
});

/** Re-renders when its tick changes; the leaf inside it does not. */
export const Branch = createLiveComponent({
  render: ({ tick }) => html`<div id="branch">tick: ${tick} ${liveComponent(Leaf, { id: 'leaf' })}</div>`,
});

/** Pushes to its own component some time after each input, whether or not it is still on the page. */
export const DelayedPush = hook('DelayedPush', {
  mounted() {
    this.el.addEventListener('input', () => {
      setTimeout(() => {
        this.pushEventTo(this.el, 'do-something', { value: 100 });
        this.liveSocket.js().setAttribute(document.body, 'data-pushed', 'yes');
      }, Number(this.el.dataset.delay));
    });
  },
});

export const Pusher = createLiveComponent({
  hooks: [DelayedPush],
  handleEvent: () => undefined,
  render: ({ delay }, { myself }) => html`<input id="pusher" phx-hook="${DelayedPush}" data-delay="${delay}" data-target="${myself}">`,
});

/** Logs each mount, to show a component root whose id changes is a new element with a new hook. */
export const RootLogger = hook('RootLogger', {
  mounted() {
    console.log('RootLogger mounted');
  },
});

export const RootChanger = createLiveComponent({
  hooks: [RootLogger],
  mount: (socket) => socket.assign({ changed: false }),
  handleEvent: (_event, socket) => socket.assign({ changed: true }),
  render: ({ changed }, { myself }) => html`<section id="${changed ? 'new-root' : 'old-root'}" phx-hook="${RootLogger}" class="stream-box">
<button id="change-root" phx-click="change-root-id" phx-target="${myself}">Change component root id</button>
<p id="${changed ? 'new-child' : 'old-child'}">${changed ? 'The new child is visible' : 'The old child is visible'}</p></section>`,
});

/** Radios the component re-renders while its form is locked by a change the view handles. */
export const Radios = createLiveComponent({
  mount: (socket) => socket.assign({ type: 'huey' }),
  handleEvent: (event, socket) => socket.assign({ type: String(event.params.type) }),
  render: ({ type }, { myself }) => html`<div><form id="radios" phx-change="radios-changed">
<fieldset><legend>Radios</legend>${['huey', 'dewey'].map(
    (t) => html`<div phx-click="change-type" phx-value-type="${t}" phx-target="${myself}"><input type="radio" id="${t}" name="type" value="${t}"${attrs({ checked: type === t })}><label for="${t}">${t}</label></div>`,
  )}</fieldset></form></div>`,
});

export const ComponentTree = createLiveView({
  mount: (socket, _session, query) => {
    socket.assign({ show: true, tick: 0, pusher: true, delay: Number(query.delay ?? 100), renderedAt: new Date().toISOString() });
    socket.pageTitle('Component trees');
  },
  handleEvent: (event, socket) => {
    switch (event.type) {
      case 'tick':
        return socket.assign({ tick: socket.assigns.tick + 1 });
      case 'hide':
        return socket.assign({ show: false });
      case 'show':
        return socket.assign({ show: true });
      case 'toggle-pusher':
        return socket.assign({ pusher: !socket.assigns.pusher });
      default:
        return undefined;
    }
  },
  render: ({ show, tick, pusher, delay, renderedAt }) => html`${nav()}<main class="container">
<h1>Component trees</h1>
<p id="render-time">${renderedAt}</p>
<h2>Nested components, removed and revived</h2>
<button id="tick" phx-click="tick">tick</button><button id="hide" phx-click="hide">hide</button><button id="show" phx-click="show">show</button>
${show ? html`<div id="wrapper">${liveComponent(Branch, { id: 'branch', tick })}</div>` : ''}
<h2>A component removed while its hook is about to push</h2>
<button id="toggle-pusher" phx-click="toggle-pusher">Toggle</button>
${pusher ? liveComponent(Pusher, { id: 'pusher', delay }) : ''}
<h2>A root id that changes</h2>
${liveComponent(RootChanger, { id: 'root-changer' })}
<h2>Re-rendered while locked</h2>
${liveComponent(Radios, { id: 'radios' })}
</main>`,
});

// ---------------------------------------------------- tabs with a form in a component

export const MessageForm = createLiveComponent({
  update: (props, socket) => socket.assign({ id: props.id, value: '' }),
  handleEvent: (event, socket) => {
    if (event.type === 'add-message-change') socket.assign({ value: String(event.params.new_message ?? '') });
  },
  // phx-target is a selector pointing at the form itself: the client finds the component around it.
  render: ({ value }) => html`<div><form id="full_add_message_form" phx-change="add-message-change" phx-target="#full_add_message_form">
<input id="new_message_input" name="new_message" value="${value}"></form></div>`,
});

export const SettingsTab = createLiveComponent({ render: () => html`<div>Settings</div>` });

export const ComponentTabs = createLiveView({
  handleParams: (url, socket) => socket.assign({ tab: url.pathname.endsWith('/messages') ? 'messages' : 'settings' }),
  render: ({ tab }) => html`${nav()}<main class="container">
<h1>Tabs</h1>
${patchLink('/components/tabs/messages', 'Messages')} ${patchLink('/components/tabs/settings', 'Settings')}
<aside>${tab === 'messages' ? liveComponent(MessageForm, { id: 'messages_tab' }) : liveComponent(SettingsTab, { id: 'settings_tab' })}</aside>
</main>`,
});

// ----------------------------------------------------------- component uploads

/** A component that allows its own upload: its form targets it, so the entries are its own. */
export const AvatarUploader = createLiveComponent({
  mount: (socket) => {
    socket.allowUpload('file', { accept: ['.jpg', '.jpeg', '.png', '.gif'], maxEntries: 1 });
    socket.assign({ saved: [] });
  },
  handleEvent: async (event, socket) => {
    if (event.type !== 'save') return;
    // Each file's name and the sha256 of the bytes the server received.
    const names = await socket.consumeUploadedEntries('file', async (meta, entry) => `${entry.clientName}:${createHash('sha256').update(await readFile(meta.path)).digest('hex')}`);
    socket.assign({ saved: names });
  },
  render: ({ saved }, { myself, uploads }) => html`<div>
<form id="upload-form" phx-change="validate" phx-submit="save" phx-target="${myself}">
<div id="dropzone" class="drop" phx-drop-target="${uploads.file.ref}">Drop a picture here</div>
${live_file_input(uploads.file)}
<button type="submit">Upload</button>
</form>
${uploads.file.entries.map((e) => html`<p class="upload-entry">${e.clientName}</p>`)}
${uploadErrors(uploads.file).map((e) => html`<p class="upload-error">${e}</p>`)}
<p id="saved-files">${saved.join(',')}</p>
</div>`,
});

export const ComponentUploads = createLiveView({
  mount: (socket) => {
    socket.assign({ shown: true });
    socket.pageTitle('An upload in a component');
  },
  handleEvent: (event, socket) => {
    if (event.type === 'toggle') socket.assign({ shown: !socket.assigns.shown });
  },
  render: ({ shown }) => html`${nav()}<main class="container">
<h1>An upload in a component</h1>
<button id="toggle" phx-click="toggle">${shown ? 'Remove the uploader' : 'Show the uploader'}</button>
${shown ? liveComponent(AvatarUploader, { id: 'uploader' }) : ''}
</main>`,
});
