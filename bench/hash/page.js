// Runs in Chromium: hashes the same random bytes with each candidate, chunk by
// chunk as the uploader would, and reports MB/s. Bundled by run.mjs.
import { createSHA256, createCRC32 } from 'hash-wasm';
import { sha256 } from '@noble/hashes/sha2.js';

const MiB = 1024 * 1024;

function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

window.runBench = async ({ totalMiB, chunkKiB, rounds }) => {
  const total = totalMiB * MiB;
  const chunk = chunkKiB * 1024;
  const data = randomBytes(total);
  const chunks = [];
  for (let i = 0; i < total; i += chunk) chunks.push(data.subarray(i, Math.min(total, i + chunk)));
  const wasm = await createSHA256();
  const crc = await createCRC32(0xedb88320);
  const cases = {
    'hash-wasm sha256 (incremental)': async () => {
      wasm.init();
      for (const c of chunks) wasm.update(c);
      return wasm.digest('hex');
    },
    'hash-wasm sha256 + save() per chunk': async () => {
      wasm.init();
      for (const c of chunks) {
        wasm.update(c);
        wasm.save();
      }
      return wasm.digest('hex');
    },
    '@noble/hashes sha256 (incremental)': async () => {
      const h = sha256.create();
      for (const c of chunks) h.update(c);
      return Array.from(h.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
    },
    'WebCrypto SHA-256 per chunk (sequential)': async () => {
      for (const c of chunks) await crypto.subtle.digest('SHA-256', c);
    },
    'WebCrypto SHA-256 per chunk (8 at once)': async () => {
      for (let i = 0; i < chunks.length; i += 8) await Promise.all(chunks.slice(i, i + 8).map((c) => crypto.subtle.digest('SHA-256', c)));
    },
    'WebCrypto SHA-256 whole buffer (one shot, reference)': async () => {
      await crypto.subtle.digest('SHA-256', data);
    },
    'hash-wasm crc32 per chunk': async () => {
      for (const c of chunks) {
        crc.init();
        crc.update(c);
        crc.digest('binary');
      }
    },
    'Blob.arrayBuffer() per chunk (read cost reference)': async () => {
      const blob = new Blob([data]);
      for (let i = 0; i < total; i += chunk) await blob.slice(i, i + chunk).arrayBuffer();
    },
  };
  // Digests must agree before speeds mean anything.
  const a = await cases['hash-wasm sha256 (incremental)']();
  const b = await cases['@noble/hashes sha256 (incremental)']();
  const ref = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (x) => x.toString(16).padStart(2, '0')).join('');
  if (a !== ref || b !== ref) throw new Error(`digests differ: ${a} ${b} ${ref}`);
  const results = {};
  for (const [name, fn] of Object.entries(cases)) {
    const times = [];
    for (let r = 0; r < rounds; r++) times.push(await time(fn));
    times.sort((x, y) => x - y);
    results[name] = { medianMs: times[Math.floor(times.length / 2)], mbps: total / 1e6 / (times[Math.floor(times.length / 2)] / 1000) };
  }
  return results;
};
window.benchReady = true;
