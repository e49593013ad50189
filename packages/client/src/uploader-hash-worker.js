// The Inlet uploader's hashing worker: the whole file's SHA-256 (hash-wasm),
// fed in file order, its state saved at every chunk boundary so that a resume
// can go back to a recent one. Bundled as a string into the client
// (build.mjs) and started from a Blob URL; uploader-hash.js falls back to
// hashing on the page when a worker cannot be started (e.g. a strict CSP).
import { createSHA256 } from 'hash-wasm';
import { createFileHash } from './uploader-sha.js';

const hashes = new Map();

self.onmessage = async (event) => {
  const { id, op, key } = event.data;
  try {
    let hash = hashes.get(key);
    if (!hash) {
      hash = createFileHash(await createSHA256());
      hashes.set(key, hash);
    }
    let result;
    if (op === 'update') result = hash.update(event.data.offset, new Uint8Array(event.data.buffer));
    else if (op === 'rewind') result = hash.rewind(event.data.to);
    else if (op === 'catchUp') result = await hash.catchUp(event.data.file, event.data.to);
    else if (op === 'digest') result = hash.digest();
    else if (op === 'drop') hashes.delete(key);
    if (id !== undefined) self.postMessage({ id, result, offset: hash.offset });
  } catch (e) {
    if (id !== undefined) self.postMessage({ id, error: String((e && e.message) || e) });
  }
};
