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
        { patterns: [{ group: ['../uploads/*', '../server/*', '../testing/*'], allowTypeImports: true, message: 'live/ must not depend on uploads/, server/ or testing/ at run time.' }] },
      ],
    },
  },
  {
    files: ['packages/core/src/protocol/**/*.ts', 'packages/core/src/render/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../live/*', '../uploads/*', '../server/*', '../testing/*'], message: 'protocol/ and render/ are leaves.' }] },
      ],
    },
  },
);
