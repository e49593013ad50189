// Upload examples: the photo gallery from the LiveViewJS uploads guide (with a
// drop target, previews, progress, cancel and errors in plain words), its
// auto-upload variant, and a large-file page.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createLiveView, html, live_file_input, live_img_preview, uploadErrorMessages } from 'inletjs';
import { flashes, nav } from './layout.js';

async function listFiles(dir) {
  await mkdir(dir, { recursive: true });
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  const files = await Promise.all(names.map(async (name) => ({ name, size: (await stat(join(dir, name)).catch(() => undefined))?.size })));
  return files.filter((f) => f.size !== undefined);
}

function sha256(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (d) => hash.update(d)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
  });
}

const errors = (messages) => messages.map((m) => html`<p class="error">${m}</p>`);

const entryRow = (config, entry, preview) => html`<div class="entry" id="entry-${entry.ref}" data-name="${entry.clientName}">
${preview ? live_img_preview(entry) : ''}
<span class="name">${entry.clientName}</span>
<progress value="${entry.progress}" max="100">${entry.progress}%</progress> <span class="pct">${entry.progress}%</span>
<button type="button" class="cancel" phx-click="cancel" phx-value-ref="${entry.ref}" aria-label="Cancel ${entry.clientName}">✕</button>
${errors(uploadErrorMessages(config, entry))}
</div>`;

async function save(socket, name, dir) {
  const saved = await socket.consumeUploadedEntries(name, async (meta, entry) => {
    const path = await meta.fileSystem.moveInto(dir, entry.clientName, meta.path);
    return { path, sha256: meta.sha256, verified: meta.sha256Verified === true };
  });
  socket.assign({ files: await listFiles(dir), lastSaved: saved });
  if (saved.length > 0) socket.putFlash('info', `Saved ${saved.length} file${saved.length === 1 ? '' : 's'}.`);
}

/**
 * The photo gallery: up to 3 images of at most 10 MB. With `auto`, files
 * upload as soon as they are chosen and are saved when complete.
 */
export function createGallery({ dir, auto = false }) {
  return createLiveView({
    mount: async (socket) => {
      socket.allowUpload('photos', {
        accept: ['.png', '.jpg', '.jpeg', '.gif', '.webp'],
        maxEntries: 3,
        maxFileSize: 10 * 1024 * 1024,
        autoUpload: auto,
        progress: auto
          ? async (name, entry, s) => {
              if (entry.done) await save(s, name, dir);
            }
          : undefined,
      });
      socket.assign({ files: await listFiles(dir), lastSaved: [] });
      socket.pageTitle(auto ? 'Photo gallery (auto upload)' : 'Photo gallery');
    },
    handleEvent: async (event, socket) => {
      if (event.type === 'cancel') await socket.cancelUpload('photos', String(event.ref));
      if (event.type === 'save') await save(socket, 'photos', dir);
    },
    render: ({ files, flash }, { uploads }) => {
      const photos = uploads.photos;
      return html`${nav()}<main class="container">
<h1>Photo gallery${auto ? ' (auto upload)' : ''}</h1>
${flashes(flash)}
<form id="upload-form" phx-change="validate" phx-submit="save">
<div class="drop" id="drop" phx-drop-target="${photos.ref}">
<p>Drop up to ${photos.maxEntries} images here, or ${live_file_input(photos)}</p>
</div>
${errors(uploadErrorMessages(photos))}
${auto ? '' : html`<button type="submit" id="save">Upload</button>`}
</form>
<!-- Outside the form: the client locks the form while it uploads, and cancel must stay clickable. -->
<div id="entries">${photos.entries.map((e) => entryRow(photos, e, true))}</div>
<h2>Gallery</h2>
<div class="gallery" id="gallery">${files.map((f) => html`<img src="/uploads/${encodeURIComponent(f.name)}" alt="${f.name}" title="${f.name}">`)}</div>
</main>`;
    },
  });
}

/** Any file type, up to 1 GiB and 5 files: shows the sha256 of each saved file. */
export function createLargeFiles({ dir }) {
  return createLiveView({
    mount: async (socket) => {
      socket.allowUpload('files', { accept: 'any', maxEntries: 5, maxFileSize: 1024 * 1024 * 1024 });
      socket.assign({ files: await listFiles(dir), lastSaved: [] });
      socket.pageTitle('Large files');
    },
    handleEvent: async (event, socket) => {
      if (event.type === 'cancel') await socket.cancelUpload('files', String(event.ref));
      if (event.type === 'save') await save(socket, 'files', dir);
    },
    render: ({ files, lastSaved, flash }, { uploads }) => {
      const config = uploads.files;
      return html`${nav()}<main class="container">
<h1>Large files</h1>
${flashes(flash)}
<form id="upload-form" phx-change="validate" phx-submit="save">
<div class="drop" phx-drop-target="${config.ref}">${live_file_input(config)}</div>
${errors(uploadErrorMessages(config))}
<button type="submit" id="save">Upload</button>
</form>
<div id="entries">${config.entries.map((e) => entryRow(config, e, false))}</div>
<ul id="saved">${lastSaved.map((s) => html`<li data-sha256="${s.sha256}" data-verified="${String(s.verified)}">${s.path.split('/').pop()}: <code>${s.sha256}</code></li>`)}</ul>
<p>${files.length} file(s) stored.</p>
</main>`;
    },
  });
}

export { sha256 };
