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
);
