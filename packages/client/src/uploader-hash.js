// Hashing for the Inlet uploader: the whole file's SHA-256, incrementally, in
// file order (hash-wasm, in a worker; measured in bench/hash), with its state
// saved at chunk boundaries so that a resume at any recent boundary continues
// without re-reading the file; CRC-32 of each chunk; and the file fingerprint
// (WebCrypto SHA-256 over the name, size, date and first 64 KiB).
import { createCRC32, createSHA256 } from 'hash-wasm';
import { createFileHash } from './uploader-sha.js';
import { FINGERPRINT_PREFIX_BYTES } from './uploader-wire.js';

let crcPromise;
/** CRC-32 (IEEE, as zlib's) of `bytes`, as an unsigned 32-bit number. */
export async function crc32Of(bytes) {
  crcPromise ??= createCRC32(0xedb88320);
  const crc = await crcPromise;
  crc.init();
  crc.update(bytes);
  const out = crc.digest('binary');
  return ((out[0] << 24) | (out[1] << 16) | (out[2] << 8) | out[3]) >>> 0;
}

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/** The file fingerprint that resume claims are matched on. */
export async function fingerprint(file) {
  const head = new TextEncoder().encode(`inlet-fp-1\n${file.size}\n${file.lastModified}\n${file.name}\n`);
  const prefix = new Uint8Array(await file.slice(0, FINGERPRINT_PREFIX_BYTES).arrayBuffer());
  const all = new Uint8Array(head.length + prefix.length);
  all.set(head, 0);
  all.set(prefix, head.length);
  return hex(await crypto.subtle.digest('SHA-256', all));
}

let worker;
let workerFailed = false;
let nextId = 0;
const pending = new Map();

/** The shared hashing worker, or undefined when none can be started here. */
function hashWorker() {
  if (worker || workerFailed) return worker;
  try {
    // __INLET_HASH_WORKER__ is the worker's bundled source, defined by build.mjs.
    // eslint-disable-next-line no-undef
    if (typeof __INLET_HASH_WORKER__ !== 'string' || typeof Worker !== 'function') throw new Error('no worker source');
    // eslint-disable-next-line no-undef
    const url = URL.createObjectURL(new Blob([__INLET_HASH_WORKER__], { type: 'text/javascript' }));
    worker = new Worker(url);
    worker.onmessage = (e) => {
      const p = pending.get(e.data.id);
      if (!p) return;
      pending.delete(e.data.id);
      if (e.data.error) p.reject(new Error(e.data.error));
      else p.resolve(e.data.result);
    };
    worker.onerror = () => {
      workerFailed = true;
      for (const p of pending.values()) p.reject(new Error('the hashing worker failed'));
      pending.clear();
    };
  } catch {
    workerFailed = true;
    worker = undefined;
  }
  return worker;
}

let keys = 0;

/**
 * The SHA-256 of a file, fed in order, computed off the page's thread when a
 * worker can be started (the page then only reads, frames and sends).
 * `offset` is how many bytes were fed; `rewind(to)` goes back to a saved
 * boundary or to 0; `catchUp(file, to)` reads and hashes up to `to`.
 */
export class FileHasher {
  #key = `h${keys++}`;
  #local;
  #offset = 0;

  static async create() {
    const h = new FileHasher();
    if (!hashWorker()) h.#local = createFileHash(await createSHA256());
    return h;
  }

  get offset() {
    return this.#offset;
  }

  #call(op, data = {}, transfer = []) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, key: this.#key, ...data }, transfer);
    });
  }

  /** Feeds `bytes` (a Uint8Array over its own buffer, which is handed over) at `offset`. */
  update(offset, bytes) {
    const end = offset + bytes.length;
    if (end <= this.#offset) return;
    if (offset > this.#offset) throw new Error(`hash gap: at ${this.#offset}, given ${offset}`);
    this.#offset = end;
    if (this.#local) this.#local.update(offset, bytes);
    else worker.postMessage({ op: 'update', key: this.#key, offset, buffer: bytes.buffer }, [bytes.buffer]);
  }

  async rewind(to) {
    const ok = this.#local ? this.#local.rewind(to) : await this.#call('rewind', { to });
    if (ok) this.#offset = to;
    return ok;
  }

  async catchUp(file, to) {
    this.#offset = this.#local ? await this.#local.catchUp(file, to) : await this.#call('catchUp', { file, to });
  }

  digest() {
    return this.#local ? Promise.resolve(this.#local.digest()) : this.#call('digest');
  }

  drop() {
    if (!this.#local && worker) worker.postMessage({ op: 'drop', key: this.#key });
  }
}
