import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/inlet/src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests, examples and support code all run against the TypeScript sources,
    // so one copy of every class is loaded and no build is needed to test.
    alias: [
      { find: /^inlet$/, replacement: src('index.ts') },
      { find: /^inlet\/node$/, replacement: src('server/index.ts') },
      { find: /^inlet\/testing$/, replacement: src('testing/index.ts') },
      { find: /^inlet-s3$/, replacement: fileURLToPath(new URL('./packages/inlet-s3/src/index.ts', import.meta.url)) },
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
