// ESLint flat config: typescript-eslint's type-checked rules on the server
// packages, with promise misuse treated as errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Tests are type-checked by tsc (tsconfig.test.json) and run by vitest; lint covers shipped code.
  { ignores: ['**/dist/**', 'node_modules/**', 'packages/client/**', 'bench/**', 'examples/**', 'test/**', '**/*.test.ts', 'eslint.config.js', 'vitest.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['packages/*/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      // One logging path: library code logs through its Logger (logger.ts), never the console.
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'emitWarning', message: 'Log through the Logger (logger.ts).' }],
    },
  },
  {
    // The import direction of style.md: protocol/ and render/ are leaves, and live/ knows
    // nothing of uploads/ at run time (uploads plug in through live/extensions.ts).
    files: ['packages/core/src/live/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../uploads/*', '../http/*', '../node/*', '../testing/*'], allowTypeImports: true, message: 'live/ must not depend on uploads/, http/, node/ or testing/ at run time.' }] },
      ],
    },
  },
  {
    files: ['packages/core/src/protocol/**/*.ts', 'packages/core/src/render/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../live/*', '../uploads/*', '../http/*', '../node/*', '../testing/*'], message: 'protocol/ and render/ are leaves.' }] },
      ],
    },
  },
  {
    // uploads/ plugs into live/; http/ composes them and never creates a server; only node/ does, and nothing imports node/.
    files: ['packages/core/src/uploads/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../http/*', '../node/*', '../testing/*', '../../http/*', '../../node/*', '../../testing/*'], message: 'uploads/ must not depend on http/, node/ or testing/.' }] },
      ],
    },
  },
  {
    files: ['packages/core/src/http/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['../node/*', '../testing/*'], message: 'http/ must not depend on node/ or testing/.' }],
          paths: [
            { name: 'node:http', importNames: ['createServer'], message: 'http/ never creates a server: node/ does.' },
            { name: 'node:https', message: 'http/ never creates a server: node/ does.' },
          ],
        },
      ],
    },
  },
);
