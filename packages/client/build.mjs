// Bundles the browser entry with esbuild into dist/inlet-client.js (ESM).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
// The Inlet uploader's hashing worker, bundled on its own and inlined as a string (started from a Blob URL).
const worker = await build({
  entryPoints: [`${root}src/uploader-hash-worker.js`],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  write: false,
  logLevel: 'warning',
});
await build({
  define: { __INLET_HASH_WORKER__: JSON.stringify(worker.outputFiles[0].text) },
  entryPoints: [`${root}src/index.js`],
  outfile: `${root}dist/inlet-client.js`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
