// Bundles the browser entry with esbuild into dist/inlet-client.js (ESM).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
await build({
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
