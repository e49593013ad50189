// Hashing for the Inlet uploader: the whole file's SHA-256, incrementally, in
// file order (hash-wasm; measured in bench/hash), with its state saved at
// chunk boundaries so that a resume at any recent boundary continues without
// re-reading the file; CRC-32 of each chunk; and the file fingerprint
// (WebCrypto SHA-256 over the name, size, date and first 64 KiB).
import { createCRC32, createSHA256 } from 'hash-wasm';
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

/** Most saved states kept (chunk boundaries a resume may land on without re-reading). */
const MAX_SAVED_STATES = 64;

/**
 * The SHA-256 of a file, fed in order. `offset` is how many bytes it has
 * seen; `rewind(to)` goes back to a saved boundary, or to 0.
 */
export class FileHasher {
  #hasher;
  #offset = 0;
  #saved = new Map();

  static async create() {
    const h = new FileHasher();
    h.#hasher = await createSHA256();
    h.#hasher.init();
    return h;
  }

  get offset() {
    return this.#offset;
  }

  /** Feeds the bytes at `offset`; bytes it has already seen are skipped, a gap is an error. */
  update(offset, bytes) {
    const end = offset + bytes.length;
    if (end <= this.#offset) return;
    if (offset > this.#offset) throw new Error(`hash gap: at ${this.#offset}, given ${offset}`);
    this.#hasher.update(offset === this.#offset ? bytes : bytes.subarray(this.#offset - offset));
    this.#offset = end;
    this.#saved.set(end, this.#hasher.save());
    if (this.#saved.size > MAX_SAVED_STATES) this.#saved.delete(this.#saved.keys().next().value);
  }

  /** Goes back to `to` if a state was saved there (or `to` is 0); returns whether it could. */
  rewind(to) {
    if (to === this.#offset) return true;
    if (to === 0) {
      this.#hasher.init();
      this.#offset = 0;
      this.#saved.clear();
      return true;
    }
    const state = this.#saved.get(to);
    if (!state) return false;
    this.#hasher.load(state);
    this.#offset = to;
    for (const k of [...this.#saved.keys()]) if (k > to) this.#saved.delete(k);
    return true;
  }

  /** Reads and hashes `file` from the current offset up to `to` (a resume after a reload). */
  async catchUp(file, to, step = 4 * 1024 * 1024) {
    while (this.#offset < to) {
      const end = Math.min(to, this.#offset + step);
      this.update(this.#offset, new Uint8Array(await file.slice(this.#offset, end).arrayBuffer()));
    }
  }

  /** The digest of everything fed so far, in hex (the state is kept). */
  digest() {
    const state = this.#hasher.save();
    const out = this.#hasher.digest('hex');
    this.#hasher.load(state);
    return out;
  }
}
