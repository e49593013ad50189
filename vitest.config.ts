import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/core/src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests, examples and support code all run against the TypeScript sources,
    // so one copy of every class is loaded and no build is needed to test.
    alias: [
      { find: /^inletjs$/, replacement: src('index.ts') },
      { find: /^inletjs\/node$/, replacement: src('node/index.ts') },
      { find: /^inletjs\/http$/, replacement: src('http/index.ts') },
      { find: /^inletjs\/testing$/, replacement: src('testing/index.ts') },
      { find: /^@inletjs\/redis$/, replacement: fileURLToPath(new URL('./packages/redis/src/index.ts', import.meta.url)) },
      ...['express', 'fastify', 'hono', 'koa', 'otel'].map((name) => ({
        find: new RegExp(`^@inletjs/${name}$`),
        replacement: fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url)),
      })),
      { find: /^@inletjs\/s3$/, replacement: fileURLToPath(new URL('./packages/s3/src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    server: { deps: { inline: [/phoenix_live_view/] } },
  },
});
