// External uploads: chunked, resumable uploads (UpChunk) to Inlet's built-in
// receiver, on local disk or S3 multipart, and direct-to-S3 presigned POSTs.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createLiveView, chunkedUpload, html, live_file_input, sanitizeFilename, uploadErrorMessages } from 'inletjs';
import { flashes, nav } from './layout.js';

const errors = (messages) => messages.map((m) => html`<p class="error">${m}</p>`);

const entryRow = (config, entry) => html`<div class="entry" id="entry-${entry.ref}" data-name="${entry.clientName}">
<span class="name">${entry.clientName}</span>
<progress value="${entry.progress}" max="100">${entry.progress}%</progress> <span class="pct">${entry.progress}%</span>
<button type="button" class="cancel" phx-click="cancel" phx-value-ref="${entry.ref}" aria-label="Cancel ${entry.clientName}">✕</button>
${errors(uploadErrorMessages(config, entry))}
</div>`;

function sha256File(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/**
 * Chunked upload to the built-in receiver: any file up to 2 GiB, 5 MiB chunks,
 * retried and resumed by UpChunk. With `?store=s3` (and S3 configured), the
 * receiver writes S3 multipart parts instead of local files.
 */
export function createChunked({ dir, s3 }) {
  return createLiveView({
    mount: async (socket, _session, params) => {
      const useS3 = params.store === 's3' && s3;
      const store = useS3 ? await s3.multipartStore() : undefined;
      socket.allowUpload('files', {
        accept: 'any',
        maxEntries: 3,
        maxFileSize: 2 * 1024 ** 3,
        autoUpload: true,
        external: chunkedUpload({ chunkSizeKiB: 5120, ...(store ? { store } : {}) }),
        progress: async (name, entry, s) => {
          if (!entry.done) return;
          const saved = await s.consumeUploadedEntry(name, entry, async (meta) => {
            if (meta.key) return { name: entry.clientName, key: meta.key };
            const path = await meta.fileSystem.moveInto(dir, entry.clientName, meta.path);
            return { name: entry.clientName, path, sha256: await sha256File(path) };
          });
          s.assign({ saved: [...s.assigns.saved, saved] });
        },
      });
      socket.assign({ saved: [], store: useS3 ? 's3' : 'disk', s3Available: Boolean(s3) });
      socket.pageTitle('Chunked upload');
    },
    handleEvent: async (event, socket) => {
      if (event.type === 'cancel') await socket.cancelUpload('files', String(event.ref));
    },
    render: ({ saved, store, s3Available, flash }, { uploads }) => {
      const files = uploads.files;
      return html`${nav()}<main class="container">
<h1>Chunked upload <small>(to ${store === 's3' ? 'S3 multipart' : 'local disk'})</small></h1>
${flashes(flash)}
<p>Files go to this server in 5 MiB <code>Content-Range</code> requests (Mux UpChunk). Dropped requests are retried and
the server keeps every byte it already has, so a flaky network resumes instead of starting over.</p>
${s3Available ? html`<p><a href="/uploads/chunked">Local disk</a> · <a href="/uploads/chunked?store=s3">S3 multipart</a></p>` : ''}
<form id="upload-form" phx-change="validate"><div class="drop" phx-drop-target="${files.ref}">${live_file_input(files)}</div></form>
${errors(uploadErrorMessages(files))}
<div id="entries">${files.entries.map((e) => entryRow(files, e))}</div>
<ul id="saved">${saved.map(
        (s) => html`<li data-name="${s.name}" data-key="${s.key ?? ''}" data-sha256="${s.sha256 ?? ''}">${s.name}${s.key ? html` → <code>${s.key}</code>` : html` <code>${s.sha256}</code>`}</li>`,
      )}</ul>
</main>`;
    },
  });
}

/**
 * Direct to S3 with a presigned POST policy: the browser sends the file to the
 * bucket itself; the policy pins the key, the Content-Type and the size.
 */
export function createDirectS3({ s3 }) {
  return createLiveView({
    mount: (socket) => {
      socket.pageTitle('Direct to S3');
      socket.assign({ saved: [], configured: Boolean(s3) });
      if (!s3) return;
      socket.allowUpload('files', {
        accept: 'any',
        maxEntries: 3,
        maxFileSize: s3.maxFileSize ?? 50 * 1024 * 1024,
        external: async (entry) =>
          s3.presignPost({
            key: `uploads/${randomUUID()}/${sanitizeFilename(entry.clientName)}`,
            contentType: entry.clientType || 'application/octet-stream',
          }),
      });
    },
    handleEvent: async (event, socket) => {
      if (!socket.assigns.configured) return;
      if (event.type === 'cancel') await socket.cancelUpload('files', String(event.ref));
      if (event.type === 'save') {
        const saved = await socket.consumeUploadedEntries('files', (meta, entry) => ({ name: entry.clientName, key: meta.key }));
        socket.assign({ saved: [...socket.assigns.saved, ...saved] });
        if (saved.length) socket.putFlash('info', `Stored ${saved.length} object${saved.length === 1 ? '' : 's'} in S3.`);
      }
    },
    render: ({ saved, configured, flash }, { uploads }) => {
      if (!configured) {
        return html`${nav()}<main class="container"><h1>Direct to S3</h1>
<p id="not-configured"><strong>S3 is not configured.</strong> Set <code>INLET_S3_ENDPOINT</code> (omit for AWS), <code>INLET_S3_REGION</code>,
<code>INLET_S3_BUCKET</code>, <code>INLET_S3_ACCESS_KEY</code> and <code>INLET_S3_SECRET</code>, then restart. The bucket needs a CORS rule
allowing POST from this origin.</p></main>`;
      }
      const files = uploads.files;
      return html`${nav()}<main class="container">
<h1>Direct to S3</h1>
${flashes(flash)}
<form id="upload-form" phx-change="validate" phx-submit="save">
<div class="drop" phx-drop-target="${files.ref}">${live_file_input(files)}</div>
${errors(uploadErrorMessages(files))}
<button type="submit" id="save">Upload</button>
</form>
<div id="entries">${files.entries.map((e) => entryRow(files, e))}</div>
<ul id="saved">${saved.map((s) => html`<li data-key="${s.key}">${s.name} → <code>${s.key}</code></li>`)}</ul>
</main>`;
    },
  });
}

export { sha256File };
