// The examples' index page: one link per example.
import { createLiveView, html } from 'inletjs';
import { link } from './layout.js';

export const EXAMPLES = [
  ['/counter', 'Counter', 'phx-click and assigns'],
  ['/form', 'Validated form', 'phx-change validation and phx-submit'],
  ['/pages/one', 'Live navigation', 'two views, navigated without page loads'],
  ['/rows', '1,000 rows', 'a keyed comprehension updated in place'],
  ['/components', 'Components', 'stateful components with their own events (phx-target)'],
  ['/components/updates', 'Component updates', 'sendUpdate from handleInfo and from update(), updateMany, root ids that change'],
  ['/components/tree', 'Component trees', 'nested components removed and revived, hooks, root id changes, patches while locked'],
  ['/components/tabs/messages', 'A form in a component', 'recovered after a reconnect through a selector phx-target'],
  ['/components/uploads', 'An upload in a component', 'allowUpload on a component, drop target, replacing the sole entry'],
  ['/streams', 'Streams', 'items the server sends once and forgets: insert, update, delete, reset, limits'],
  ['/rows-stream', '1,000 rows as a stream', 'the 1,000-row table, patched row by row'],
  ['/children', 'Child views', 'live views inside a view, a sticky player across navigation, patches, flash, live sessions, a 404 after mount'],
  ['/portals', 'Portals', 'a modal, a menu and a child view rendered elsewhere in the page; phx-update="ignore"'],
  ['/async', 'Async work', 'assigns loaded in the background, tasks with handleAsync, cancelling, failures, components that load their own data'],
  ['/js', 'JS commands', 'show, hide, toggle, classes, attributes, focus, dispatch, push with options, navigation'],
  ['/hooks', 'Colocated hooks', 'hook code beside the view, server pushEvent to hooks, replies to hook pushes'],
  ['/forms/recovery', 'Form recovery', 'forms recovered after a reconnect: default, custom event, in a component, in a portal'],
  ['/forms/select', 'Selects', 'errors once a field is used, dependent selects reset on submit, multiple selects'],
  ['/forms/dynamic', 'Nested inputs', 'rows added and removed with inputsFor and sort/drop params'],
  ['/forms/stream', 'A stream in a form', 'stream items and hooks patched while the form is locked'],
  ['/forms/details', 'Form details', '_target as a key path, an empty form, phx-trigger-action to an HTTP endpoint'],
  ['/uploads/gallery', 'Photo gallery', 'up to 3 images: drop target, previews, progress, cancel, errors'],
  ['/uploads/auto', 'Photo gallery, auto upload', 'files upload as soon as they are chosen'],
  ['/uploads/large', 'Large files', 'any file up to 1 GiB, with its sha256 after saving'],
  ['/uploads/batch', '10,000 files', 'one input, up to 10,000 files: auto upload, saved as each completes, entries as a stream'],
  ['/uploads/chunked', 'Chunked upload', 'resumable Content-Range uploads (UpChunk) to the built-in receiver'],
  ['/uploads/s3', 'Direct to S3', 'presigned POST straight to a bucket (needs INLET_S3_* settings)'],
];

export const Index = createLiveView({
  mount: (socket) => socket.pageTitle('Inlet examples'),
  render: () => html`<main class="container">
<h1>Inlet examples</h1>
<ul class="examples">${EXAMPLES.map(([to, title, about]) => html`<li>${link(to, title)} <small>${about}</small></li>`)}</ul>
</main>`,
});
