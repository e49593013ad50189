// The Inlet uploader: pipelined, checksummed, resumable uploads over the
// socket, on the entry's own `lvu:<ref>` channel (docs/uploads.md, "The Inlet
// uploader"). The server names it in the preflight (`meta.uploader: 'Inlet'`)
// only when the page connected with `connect()`, which sends the
// `_inlet_uploader` connect param; the official client then calls it as
// `(entries, onViewError, resp, liveSocket)`.
//
// Per entry it keeps up to `window` bytes sent and not acknowledged, each chunk
// framed with its offset and CRC-32, hashes the whole file (SHA-256) in order
// as it reads, and sends that digest after the last chunk. Progress follows the
// acknowledged bytes. A refused chunk (bad checksum, wrong offset) is sent
// again from the offset the server gives.
import { FileHasher, crc32Of, fingerprint } from './uploader-hash.js';
import { EVENTS, FRAME_VERSION, HEADER_BYTES, REASONS, RECOVERABLE } from './uploader-wire.js';

/** Bytes in flight per entry when the server names none. */
const FALLBACK_WINDOW = 4 * 1024 * 1024;
/** The client never keeps more than this in flight, whatever the server says. */
const MAX_WINDOW = 16 * 1024 * 1024;
/** Refused chunks in a row before the entry fails. */
const MAX_REFUSALS = 32;
/** Re-joins after a channel error while the view stays up. */
const MAX_CHANNEL_RETRIES = 5;
/** The uplink each push's timeout allows for the bytes queued before it: 128 KiB/s. */
const TIMEOUT_BYTES_PER_SECOND = 128 * 1024;
/** Least time between two progress reports of one entry. */
const PROGRESS_INTERVAL_MS = 100;

const ridKey = (fp) => `inlet:rid:${fp}`;

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: resume still works within the page
  }
}

/** Uploads by entry ref, for pause and resume. */
const byRef = new Map();
/** Uploads by File, so that a File given back after a rejoin finds its upload. */
const byFile = new WeakMap();
/** How often parked uploads look for their rejoined view. */
const REJOIN_POLL_MS = 100;
/** How long a parked upload waits for its view and input to come back before it gives up. */
const REJOIN_WAIT_MS = 10 * 60_000;
/** Official client (1.2.12) names: the live file input's config ref and the hooks' "give these files to the input" event. */
const PHX_UPLOAD_REF = 'data-phx-upload-ref';
const PHX_TRACK_UPLOADS = 'track-uploads';

class Upload {
  constructor(file) {
    this.file = file;
    this.size = file.size;
    this.state = 'new';
    this.attachment = 0;
    this.gen = 0;
    this.acked = 0;
    this.sent = 0;
    this.paused = false;
    this.refusals = 0;
    this.retries = 0;
    this.finishSent = false;
    this.pumping = false;
    this.kicked = false;
    this.channel = null;
    this.lastProgress = -Infinity;
    this.progressTimer = undefined;
  }

  attach(entry, resp, liveSocket, onViewError) {
    const attachment = ++this.attachment;
    this.entry = entry;
    this.liveSocket = liveSocket;
    // What a rejoin needs to give the file back to the same input.
    this.inputName = entry.fileEl.name;
    this.formId = entry.fileEl.form ? entry.fileEl.form.id : '';
    this.uploadRef = entry.fileEl.getAttribute(PHX_UPLOAD_REF);
    this.autoUpload = entry.isAutoUpload();
    const meta = entry.meta || {};
    this.token = meta.token;
    this.chunkSize = meta.chunk_size || resp.config.chunk_size;
    this.window = Math.min(MAX_WINDOW, meta.window || FALLBACK_WINDOW);
    this.chunkTimeout = resp.config.chunk_timeout || 10_000;
    this.viewError = false;
    this.retries = 0;
    byRef.set(entry.ref, this);
    onViewError(() => {
      if (this.attachment === attachment) this.onViewError();
    });
    entry.onCancel(() => {
      // While waiting for a rejoin, the old entry's cancel (its input was
      // replaced) must not end the upload the rejoined view will continue.
      if (this.attachment === attachment && !this.viewError) this.cancel();
    });
    this.state = 'joining';
    this.start().catch((e) => this.fail(`upload failed: ${e && e.message ? e.message : e}`, false));
  }

  get pushTimeout() {
    return Math.max(this.chunkTimeout, 10_000) + Math.ceil((this.window / TIMEOUT_BYTES_PER_SECOND) * 1000);
  }

  async start() {
    this.fp ??= await fingerprint(this.file);
    this.hasher ??= await FileHasher.create();
    this.rid ??= storage()?.getItem(ridKey(this.fp)) ?? undefined;
    this.join();
  }

  join() {
    if (this.state === 'cancelled' || this.state === 'failed' || this.state === 'done') return;
    const payload = { token: this.token, inlet: 1, fp: this.fp };
    if (this.rid) payload.rid = this.rid;
    const ch = this.liveSocket.getSocket().channel(`lvu:${this.entry.ref}`, payload);
    this.channel = ch;
    this.state = 'joining';
    ch.onError(() => this.onChannelError(ch));
    ch.join(this.pushTimeout)
      .receive('ok', (reply) => {
        this.onJoined(ch, reply).catch((e) => this.fail(`upload failed: ${e && e.message ? e.message : e}`, false));
      })
      .receive('error', ({ reason }) => {
        if (this.channel !== ch) return;
        this.fail(reason, true);
      })
      .receive('timeout', () => this.onChannelError(ch));
  }

  async onJoined(ch, reply) {
    if (this.channel !== ch) return;
    this.retries = 0;
    if (typeof reply.rid === 'string') {
      this.rid = reply.rid;
      storage()?.setItem(ridKey(this.fp), reply.rid);
    }
    if (reply.chunk_size) this.chunkSize = reply.chunk_size;
    if (reply.window) this.window = Math.min(MAX_WINDOW, reply.window);
    const offset = Math.max(0, Math.min(this.size, Number(reply.offset) || 0));
    // The whole-file hash must stand exactly at the server's offset.
    if (!(await this.hasher.rewind(offset))) {
      if (this.hasher.offset > offset) await this.hasher.rewind(0);
      await this.hasher.catchUp(this.file, offset);
    }
    if (this.channel !== ch) return;
    this.gen++;
    this.acked = offset;
    this.sent = offset;
    this.finishSent = false;
    this.state = 'sending';
    this.progress();
    this.kick();
  }

  kick() {
    if (this.pumping) {
      this.kicked = true;
      return;
    }
    this.pumping = true;
    this.pump()
      .catch((e) => this.fail(`could not read the file: ${e && e.message ? e.message : e}`, false))
      .finally(() => {
        this.pumping = false;
      });
  }

  async pump() {
    do {
      this.kicked = false;
      while (this.state === 'sending' && !this.paused && this.sent < this.size) {
        const inFlight = this.sent - this.acked;
        const length = Math.min(this.chunkSize, this.size - this.sent);
        if (inFlight > 0 && inFlight + length > this.window) break;
        const ch = this.channel;
        const gen = this.gen;
        const offset = this.sent;
        this.sent += length;
        const bytes = new Uint8Array(await this.file.slice(offset, offset + length).arrayBuffer());
        if (bytes.length !== length) throw new Error('the file changed while it was read');
        if (this.channel !== ch || this.gen !== gen) continue; // re-sent from elsewhere meanwhile
        const frame = new Uint8Array(HEADER_BYTES + length);
        const view = new DataView(frame.buffer);
        view.setUint8(0, FRAME_VERSION);
        view.setUint32(4, await crc32Of(bytes), true);
        view.setFloat64(8, offset, true);
        frame.set(bytes, HEADER_BYTES);
        this.hasher.update(offset, bytes); // hands the bytes to the hashing worker
        if (this.channel !== ch || this.gen !== gen) continue;
        this.pushChunk(ch, gen, offset + length, frame.buffer);
      }
      if (this.state === 'sending' && this.sent === this.size && !this.finishSent) await this.sendFinish();
    } while (this.kicked);
  }

  pushChunk(ch, gen, end, buffer) {
    ch.push(EVENTS.CHUNK, buffer, this.pushTimeout)
      .receive('ok', () => {
        if (this.channel !== ch || this.gen !== gen) return;
        this.refusals = 0;
        if (end > this.acked) this.acked = end;
        this.progress();
        this.kick();
      })
      .receive('error', (response) => this.onRefused(ch, gen, response))
      .receive('timeout', () => this.onChannelError(ch));
  }

  onRefused(ch, gen, response) {
    if (this.channel !== ch || this.gen !== gen) return; // a reply to something already re-sent
    const reason = response && response.reason;
    if (RECOVERABLE.has(reason) && typeof response.offset === 'number' && this.refusals < MAX_REFUSALS) {
      this.refusals++;
      this.goBack(response.offset);
      return;
    }
    this.fail(reason || 'refused', true);
  }

  /** Drops everything in flight and sends again from `offset` (go-back-N). */
  goBack(offset) {
    this.gen++;
    this.acked = Math.max(0, Math.min(this.size, offset));
    this.sent = this.acked;
    this.finishSent = false;
    this.kick();
  }

  async sendFinish() {
    const ch = this.channel;
    const gen = this.gen;
    this.finishSent = true;
    this.state = 'finishing';
    const sha256 = await this.hasher.digest();
    if (this.channel !== ch || this.gen !== gen || this.state !== 'finishing') return;
    ch.push(EVENTS.FINISH, { sha256 }, this.pushTimeout)
      .receive('ok', () => {
        if (this.channel !== ch || this.gen !== gen) return;
        this.complete();
      })
      .receive('error', (response) => {
        if (this.channel !== ch || this.gen !== gen) return;
        const reason = response && response.reason;
        if (reason === REASONS.INCOMPLETE && typeof response.offset === 'number') {
          this.state = 'sending';
          this.goBack(response.offset);
        } else this.fail(reason || 'refused', true);
      })
      .receive('timeout', () => this.onChannelError(ch));
  }

  /**
   * Reports the acknowledged share, at most every PROGRESS_INTERVAL_MS: each
   * report is a `progress` push the server answers with a render, and a
   * fast upload acknowledges many chunks per percent.
   */
  progress() {
    if (!this.entry || this.entry.isCancelled() || this.state === 'failed' || this.state === 'cancelled' || this.state === 'done') return;
    const wait = this.lastProgress + PROGRESS_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.progressTimer ??= setTimeout(() => {
        this.progressTimer = undefined;
        this.progress();
      }, wait);
      return;
    }
    this.lastProgress = performance.now();
    this.entry.progress(Math.min(99, Math.floor((this.acked / this.size) * 100)));
  }

  complete() {
    this.state = 'done';
    clearTimeout(this.progressTimer);
    this.forget();
    // The channel stays open until the server consumes the entry and closes it.
    this.entry.progress(100);
  }

  forget() {
    if (this.entry) byRef.delete(this.entry.ref);
    if (this.fp) storage()?.removeItem(ridKey(this.fp));
    byFile.delete(this.file);
    this.hasher?.drop();
  }

  leave() {
    const ch = this.channel;
    this.channel = null;
    if (ch) ch.leave();
  }

  /** A failure: `recorded` when the server already put the reason on the entry. */
  fail(reason, recorded) {
    if (this.state === 'failed' || this.state === 'cancelled' || this.state === 'done') return;
    this.state = 'failed';
    this.leave();
    this.forget();
    const form = this.entry.fileEl && this.entry.fileEl.form;
    if (form) this.entry.view.cancelSubmit(form);
    if (!recorded) this.entry.error(reason);
  }

  cancel() {
    if (this.state === 'cancelled' || this.state === 'done') return;
    this.state = 'cancelled';
    this.leave(); // the server drops the entry's session: not resumable afterwards
    this.forget();
  }

  pause() {
    if (this.paused) return;
    this.paused = true;
    if (this.channel && this.state === 'sending') this.channel.push(EVENTS.PAUSE, {}, this.pushTimeout);
  }

  resume() {
    if (!this.paused) return;
    this.paused = false;
    if (this.state === 'sending') this.kick();
  }

  /** The lvu channel errored: a socket drop (the view errors too) or a channel crash. */
  onChannelError(ch) {
    if (this.channel !== ch) return;
    this.leave(); // never let phoenix.js rejoin it with a token that may be dead
    if (this.state === 'cancelled' || this.state === 'failed' || this.state === 'done') return;
    this.state = 'waiting';
    setTimeout(() => {
      if (this.state !== 'waiting' || this.viewError) return;
      if (!this.liveSocket.getSocket().isConnected()) return; // the view's error will follow
      if (this.retries++ >= MAX_CHANNEL_RETRIES) return this.fail('the upload channel kept failing', false);
      this.join(); // same view, same token: claims the session it left
    }, 250 * 2 ** this.retries);
  }

  /**
   * The view's channel errored (socket drop, lost network, server restart,
   * view crash): stop, let go of the channel, and park. The server parks its
   * side too (a resumable session). Once the view has rejoined (a new
   * instance: form recovery cleared the input), the file is given back to
   * the input of the same name, which registers it with the new view and,
   * for an upload its form's submit started, submits the form again; the new
   * join claims the session and continues from the server's offset.
   */
  onViewError() {
    if (this.state === 'cancelled' || this.state === 'failed' || this.state === 'done') return;
    this.viewError = true;
    this.leave();
    clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    if (this.entry) byRef.delete(this.entry.ref);
    this.state = 'parked';
    this.parkedAt = performance.now();
    parkUpload(this);
  }

  /** Gives up waiting for a rejoin (the view or its input did not come back). */
  abandon() {
    this.state = 'abandoned';
    this.forget();
  }
}

/** Uploads waiting for their view to rejoin. */
const parked = new Set();
let rejoinTimer;

function parkUpload(upload) {
  parked.add(upload);
  rejoinTimer ??= setInterval(giveBackParked, REJOIN_POLL_MS);
}

/** The live file input of a parked upload once its view has rejoined, or undefined. */
function rejoinedInput(upload) {
  for (const input of document.querySelectorAll('input[type="file"]')) {
    if (input.name !== upload.inputName || !input.hasAttribute(PHX_UPLOAD_REF)) continue;
    if (upload.formId && (!input.form || input.form.id !== upload.formId)) continue;
    // A new view instance has a new config ref; the view is back once it is marked connected.
    if (input.getAttribute(PHX_UPLOAD_REF) === upload.uploadRef) continue;
    const viewEl = input.closest('[data-phx-session]');
    if (viewEl && viewEl.classList.contains('phx-connected')) return input;
  }
  return undefined;
}

/**
 * Hands each parked upload's file back to its rejoined input, all files of
 * one input in one go, then submits the forms whose submit had started them.
 */
function giveBackParked() {
  const byInput = new Map();
  for (const upload of parked) {
    if (upload.state !== 'parked') {
      parked.delete(upload);
      continue;
    }
    const input = rejoinedInput(upload);
    if (!input) {
      if (performance.now() - upload.parkedAt > REJOIN_WAIT_MS) {
        parked.delete(upload);
        upload.abandon();
      }
      continue;
    }
    parked.delete(upload);
    if (!byInput.has(input)) byInput.set(input, []);
    byInput.get(input).push(upload);
  }
  if (parked.size === 0) {
    clearInterval(rejoinTimer);
    rejoinTimer = undefined;
  }
  const forms = new Set();
  for (const [input, uploads] of byInput) {
    // A new File over the same bytes (nothing is copied): the official client
    // sees a file it has not tracked, so it registers it with the new view.
    const files = uploads.map((upload) => {
      const f = upload.file;
      const file = new File([f], f.name, { type: f.type, lastModified: f.lastModified });
      byFile.set(file, upload);
      return file;
    });
    input.dispatchEvent(new CustomEvent(PHX_TRACK_UPLOADS, { bubbles: true, detail: { files } }));
    if (uploads.some((u) => !u.autoUpload) && input.form) forms.add(input.form);
  }
  for (const form of forms) submitWhenSettled(form);
}

/** Submits `form` once the change event that registered the files is answered. */
function submitWhenSettled(form, started = performance.now()) {
  if (!form.isConnected) return;
  if (form.classList.contains('phx-change-loading') && performance.now() - started < 30_000) {
    setTimeout(() => submitWhenSettled(form, started), 20);
    return;
  }
  form.requestSubmit();
}

/**
 * The uploader the official client calls for entries whose preflight named
 * `Inlet`. Several entries upload at once, each on its own channel.
 */
export function Inlet(entries, onViewError, resp, liveSocket) {
  for (const entry of entries) {
    const previous = byFile.get(entry.file);
    // A file given back after a rejoin continues its parked upload.
    const upload = previous && previous.state === 'parked' ? previous : new Upload(entry.file);
    byFile.set(entry.file, upload);
    upload.attach(entry, resp, liveSocket, onViewError);
  }
}

/**
 * Pauses an entry's upload (by entry ref): nothing more is sent, and the
 * server stops its chunk timeout until the next chunk.
 *
 * @example
 * import { pauseUpload } from '@inletjs/client'
 * pauseUpload(entryRef)
 */
export function pauseUpload(ref) {
  const upload = byRef.get(String(ref));
  if (!upload) return false;
  upload.pause();
  return true;
}

/**
 * Resumes a paused upload from its acknowledged offset.
 *
 * @example
 * resumeUpload(entryRef)
 */
export function resumeUpload(ref) {
  const upload = byRef.get(String(ref));
  if (!upload) return false;
  upload.resume();
  return true;
}

/**
 * What the uploader knows of an entry: `{ state, acked, sent, size, paused }`,
 * or undefined when it is not uploading it.
 *
 * @example
 * uploadStatus(entryRef) // { state: 'sending', acked: 4194304, sent: 8388608, size: 104857600, paused: false }
 */
export function uploadStatus(ref) {
  const u = byRef.get(String(ref));
  return u ? { state: u.state, acked: u.acked, sent: u.sent, size: u.size, paused: u.paused, window: u.window, chunkSize: u.chunkSize } : undefined;
}
