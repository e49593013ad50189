// Module hooks that let plain `node` run Inlet's TypeScript sources, the way
// vitest does (same aliases as vitest.config.ts): `inletjs`, `inletjs/node`,
// `inletjs/testing` and `@inletjs/s3` map to packages/*/src, `.js` specifiers in
// TypeScript files map to their `.ts` siblings, and `.ts` files are stripped
// of types by esbuild. The fuzz server uses them so that it always runs the
// current sources, never a stale packages/core/dist.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const root = new URL('../../', import.meta.url);
const ALIASES = {
  inletjs: 'packages/core/src/index.ts',
  'inletjs/node': 'packages/core/src/node/index.ts',
  'inletjs/http': 'packages/core/src/http/index.ts',
  'inletjs/testing': 'packages/core/src/testing/index.ts',
  '@inletjs/s3': 'packages/s3/src/index.ts',
  '@inletjs/redis': 'packages/redis/src/index.ts',
};

export async function resolve(specifier, context, next) {
  const alias = ALIASES[specifier];
  if (alias) return { url: new URL(alias, root).href, shortCircuit: true };
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const file = fileURLToPath(url);
    const { code } = await transform(await readFile(file, 'utf8'), {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: file,
    });
    return { format: 'module', source: code, shortCircuit: true };
  }
  return next(url, context);
}
