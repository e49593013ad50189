// Views for the abuse, fault and soak suites, in plain JS so the same code runs
// in-process (vitest) and in a child server (node + test/fuzz/register-ts.mjs).
//
// The fault view is self-checking: a file's name starts with the sha256 of
// its content, and a directive in the name tells the writer what to do:
//   <sha256>.<directive>.bin   directive: ok | init | chunkN | close | slowMS | enospcN
// Every entry the server declares done is consumed at once (in `progress`),
// moved into `dir`, read back and hashed: a record per consumed file says
// whether it is byte-exact, so a corrupted file presented as complete is
// caught by the app itself, even across server restarts.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createLiveView, html, live_file_input, TmpFileWriter, uploadErrorMessages } from 'inletjs';

export function sha256File(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Reads the directive of a fault-view file name. */
export function directiveOf(name) {
  const d = String(name).split('.')[1] ?? 'ok';
  const m = /^(init|close|ok|chunk|slow|enospc)(\d*)$/.exec(d);
  return m ? { kind: m[1], n: Number(m[2] || 0) } : { kind: 'ok', n: 0 };
}

/**
 * A writer that wraps the default temp-file writer and fails or slows down
 * on command. A failing `close('done')` first lets the temp file go (as a
 * careful writer would), then throws.
 */
export class FaultWriter {
  constructor(dir, directive, counters) {
    this.dir = dir;
    this.inner = new TmpFileWriter(dir);
    this.directive = directive;
    this.counters = counters;
    this.chunks = 0;
  }

  async init() {
    await mkdir(this.dir, { recursive: true });
    if (this.directive.kind === 'init') {
      this.counters.injected++;
      throw new Error('injected: init failed');
    }
    await this.inner.init();
  }

  meta() {
    return this.inner.meta();
  }

  async writeChunk(chunk) {
    this.chunks++;
    if (this.directive.kind === 'slow') await sleep(this.directive.n);
    if (this.directive.kind === 'chunk' && this.chunks === this.directive.n) {
      this.counters.injected++;
      throw new Error(`injected: chunk ${this.chunks} failed`);
    }
    if (this.directive.kind === 'enospc' && this.chunks === this.directive.n) {
      this.counters.injected++;
      throw Object.assign(new Error('ENOSPC: no space left on device, write (simulated)'), { code: 'ENOSPC' });
    }
    await this.inner.writeChunk(chunk);
  }

  async close(reason) {
    if (reason === 'done' && this.directive.kind === 'close') {
      this.counters.injected++;
      await this.inner.close({ error: 'injected' });
      throw new Error('injected: close failed');
    }
    await this.inner.close(reason);
  }
}

const errors = (messages) => messages.map((m) => html`<p class="error">${m}</p>`);

/**
 * The fault view at protocol level. `records` receives one record per
 * consumed file; `counters.injected` counts writer faults fired. Without
 * `writerDir`, uploads use the default temp-file writer.
 *
 * @param {{ dir: string, writerDir?: string, records: { ok: boolean, name: string, ref: string }[], counters?: { injected: number }, chunkSize?: number, maxEntries?: number, chunkTimeout?: number }} options
 */
export function createFaultView({ dir, writerDir, records, counters = { injected: 0 }, chunkSize = 64 * 1024, maxEntries = 10, chunkTimeout }) {
  return createLiveView({
    mount: (socket) => {
      socket.allowUpload('files', {
        accept: 'any',
        maxEntries,
        maxFileSize: 1024 * 1024 * 1024,
        chunkSize,
        ...(chunkTimeout ? { chunkTimeout } : {}),
        autoUpload: true,
        writer: writerDir ? (_name, entry) => new FaultWriter(writerDir, directiveOf(entry.clientName), counters) : undefined,
        progress: async (name, entry, s) => {
          if (!entry.done) return;
          const saved = await s.consumeUploadedEntry(name, entry, async (meta) => {
            const expected = entry.clientName.split('.')[0];
            const path = await meta.fileSystem.moveInto(dir, entry.clientName, meta.path);
            const actual = await sha256File(path);
            const record = { name: entry.clientName, ref: entry.ref, expected, actual, metaSha: meta.sha256, ok: actual === expected && (meta.sha256 === undefined || meta.sha256 === expected), path };
            records.push(record);
            return record;
          });
          s.assign({ saved: [...s.assigns.saved.slice(-20), saved] });
        },
      });
      socket.assign({ saved: [] });
    },
    handleEvent: async (event, socket) => {
      if (event.type === 'cancel') await socket.cancelUpload('files', String(event.ref));
    },
    render: ({ saved }, { uploads }) => {
      const files = uploads.files;
      return html`<form id="f" phx-change="validate">${live_file_input(files)}</form>
${errors(uploadErrorMessages(files))}
<div id="entries">${files.entries.map(
        (e) => html`<div class="entry" id="entry-${e.ref}" data-done="${String(e.done)}" data-progress="${e.progress}">${e.clientName} ${errors(uploadErrorMessages(files, e))}</div>`,
      )}</div>
<ul id="saved">${saved.map((s) => html`<li data-ref="${s.ref}" data-ok="${String(s.ok)}" data-sha256="${s.actual}">${s.name}</li>`)}</ul>`;
    },
  });
}

/**
 * A view for floods: one large file per entry through a writer that sleeps
 * `delayMs` per chunk (none for names containing `.tiny.`), consumed on
 * `save` (the page's saved list carries the sha256 of the stored file).
 *
 * @param {{ dir: string, writerDir: string, delayMs?: number, chunkSize?: number, maxEntries?: number, maxFileSize?: number }} options
 */
export function createSlowView({ dir, writerDir, delayMs = 10, chunkSize = 1024 * 1024, maxEntries = 8, maxFileSize = 2 * 1024 ** 3 }) {
  const counters = { injected: 0 };
  return createLiveView({
    mount: (socket) => {
      socket.allowUpload('files', {
        accept: 'any',
        maxEntries,
        maxFileSize,
        chunkSize,
        chunkTimeout: 60_000,
        writer: (_name, entry) => new FaultWriter(writerDir, /\.tiny\./.test(entry.clientName) ? { kind: 'ok', n: 0 } : { kind: 'slow', n: delayMs }, counters),
      });
      socket.assign({ saved: [] });
    },
    handleEvent: async (event, socket) => {
      if (event.type === 'save') {
        const saved = await socket.consumeUploadedEntries('files', async (meta, entry) => {
          const path = await meta.fileSystem.moveInto(dir, entry.clientName, meta.path);
          return { name: entry.clientName, ref: entry.ref, sha256: await sha256File(path), size: meta.size, path };
        });
        socket.assign({ saved });
      }
    },
    render: ({ saved }, { uploads }) => {
      const files = uploads.files;
      return html`<form id="f" phx-change="validate" phx-submit="save">${live_file_input(files)}</form>
<div id="entries">${files.entries.map(
        (e) => html`<div class="entry" id="entry-${e.ref}" data-done="${String(e.done)}" data-progress="${e.progress}">${e.clientName} ${errors(uploadErrorMessages(files, e))}</div>`,
      )}</div>
<ul id="saved">${saved.map((s) => html`<li data-ref="${s.ref}" data-sha256="${s.sha256}" data-path="${s.path}">${s.name}</li>`)}</ul>`;
    },
  });
}
