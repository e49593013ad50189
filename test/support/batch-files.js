/**
 * The files of a generated batch, shared by the 10,000-file e2e and
 * bench/batch.mjs. Self-contained (no closure), so its source text can also
 * be sent to the page, which builds the same files there.
 *
 * File `i`: 64 to 2,111 bytes from a xorshift seeded with `i`.
 *
 * @param {number} i
 * @returns {Uint8Array}
 */
export function batchFile(i) {
  const size = 64 + ((i * 2654435761) % 2048);
  const out = new Uint8Array(size);
  let x = (i + 1) * 2246822519;
  for (let k = 0; k < size; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[k] = x & 255;
  }
  return out;
}
