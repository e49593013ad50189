// A file's SHA-256 fed in order, with its state saved at chunk boundaries.
// Shared by the hashing worker and the on-page fallback (uploader-hash.js).

/** Most saved states kept (chunk boundaries a resume may land on without re-reading). */
const MAX_SAVED_STATES = 64;

/** Wraps a hash-wasm SHA-256 hasher. */
export function createFileHash(hasher) {
  hasher.init();
  let offset = 0;
  const saved = new Map();
  const api = {
    get offset() {
      return offset;
    },
    /** Feeds the bytes at `at`; bytes already seen are skipped; a gap is an error. */
    update(at, bytes) {
      const end = at + bytes.length;
      if (end <= offset) return offset;
      if (at > offset) throw new Error(`hash gap: at ${offset}, given ${at}`);
      hasher.update(at === offset ? bytes : bytes.subarray(offset - at));
      offset = end;
      saved.set(end, hasher.save());
      if (saved.size > MAX_SAVED_STATES) saved.delete(saved.keys().next().value);
      return offset;
    },
    /** Goes back to `to` if a state was saved there (or `to` is 0); returns whether it could. */
    rewind(to) {
      if (to === offset) return true;
      if (to === 0) {
        hasher.init();
        offset = 0;
        saved.clear();
        return true;
      }
      const state = saved.get(to);
      if (!state) return false;
      hasher.load(state);
      offset = to;
      for (const k of [...saved.keys()]) if (k > to) saved.delete(k);
      return true;
    },
    /** Reads and hashes `file` from the current offset up to `to`. */
    async catchUp(file, to, step = 4 * 1024 * 1024) {
      while (offset < to) {
        const end = Math.min(to, offset + step);
        api.update(offset, new Uint8Array(await file.slice(offset, end).arrayBuffer()));
      }
      return offset;
    },
    /** The digest of everything fed so far, in hex (the state is kept). */
    digest() {
      const state = hasher.save();
      const out = hasher.digest('hex');
      hasher.load(state);
      return out;
    },
  };
  return api;
}
