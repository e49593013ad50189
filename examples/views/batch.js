// A batch of up to 10,000 files in one input (issue #11): each file uploads as
// soon as it is chosen, is saved (moved into `dir`) the moment it completes, and
// leaves the view's state at once. The pending entries are a stream: the
// server renders each entry row when it changes and keeps none of them, so
// memory and diff size stay flat however many files are chosen.
import { createLiveView, html, live_file_input, uploadErrorMessages } from 'inletjs';
import { nav } from './layout.js';

/** Most files one batch may hold. */
export const BATCH_MAX_ENTRIES = 10_000;

const entryRow = (entry, id) => html`<li id="${id}" class="entry" data-name="${entry.clientName}">
<span class="name">${entry.clientName}</span> <span class="pct">${entry.progress}%</span>
${entry.errors.length > 0 ? html`<span class="error">${entry.errors.join(', ')}</span>` : ''}
</li>`;

const savedRow = (s, id) => html`<li id="${id}" data-sha256="${s.sha256}">${s.name} <code>${s.sha256.slice(0, 12)}</code></li>`;

/**
 * `/uploads/batch`: up to {@link BATCH_MAX_ENTRIES} files of at most
 * `maxFileSize` bytes, auto-uploaded through the official client's uploader
 * and saved into `dir` one by one. `onSaved(record)` sees every saved file
 * (name, path, size, sha256), for tests and benches.
 */
export function createBatch({ dir, maxFileSize = 1024 * 1024, onSaved } = {}) {
  const save = async (name, entry, socket) => {
    const record = await socket.consumeUploadedEntry(name, entry, async (meta, e) => {
      const path = await meta.fileSystem.moveInto(dir, e.clientName, meta.path);
      return { name: e.clientName, path, size: e.clientSize, sha256: meta.sha256 };
    });
    onSaved?.(record);
    socket.streamDeleteByDomId('entries', `entry-${entry.ref}`);
    // The last 20 saved files are shown; the count says how many there are.
    socket.streamInsert('saved', record, { at: 0, limit: 20 });
    const { saved, bytes } = socket.assigns;
    socket.assign({ saved: saved + 1, bytes: bytes + record.size });
  };
  return createLiveView({
    mount: (socket) => {
      socket.allowUpload('files', {
        accept: 'any',
        maxEntries: BATCH_MAX_ENTRIES,
        maxFileSize,
        autoUpload: true,
        // The official client's uploader: one lvu channel per file.
        uploader: 'channel',
        progress: async (name, entry, s) => {
          if (entry.done) await save(name, entry, s);
          else s.streamInsert('entries', entry);
        },
      });
      socket.streamConfigure('entries', { domId: (e) => `entry-${e.ref}` });
      socket.stream('entries', []);
      socket.streamConfigure('saved', { domId: (s) => `saved-${s.name}` });
      socket.stream('saved', []);
      socket.assign({ saved: 0, bytes: 0, chosen: 0 });
      socket.pageTitle('10,000 files');
    },
    handleEvent: (event, socket) => {
      if (event.type !== 'validate') return;
      // New entries appear once, when chosen; progress updates them in place.
      const { inProgress } = socket.uploadedEntries('files');
      const fresh = inProgress.filter((e) => e.progress === 0);
      socket.stream('entries', fresh);
      socket.assign({ chosen: socket.assigns.chosen + fresh.length });
    },
    render: ({ saved, bytes, chosen, streams }, { uploads }) => {
      const files = uploads.files;
      return html`${nav()}<main class="container">
<h1>10,000 files</h1>
<form id="upload-form" phx-change="validate" phx-submit="save">
<div class="drop" phx-drop-target="${files.ref}">Choose up to ${BATCH_MAX_ENTRIES} files: ${live_file_input(files)}</div>
${uploadErrorMessages(files).map((m) => html`<p class="error">${m}</p>`)}
</form>
<p id="counts"><span id="chosen">${chosen}</span> chosen, <span id="saved-count">${saved}</span> saved (<span id="saved-bytes">${bytes}</span> bytes)</p>
<ul id="entries" phx-update="stream">${streams.entries.map(entryRow)}</ul>
<h2>Last saved</h2>
<ul id="saved" phx-update="stream">${streams.saved.map(savedRow)}</ul>
</main>`;
    },
  });
}
