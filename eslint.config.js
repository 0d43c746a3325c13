import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'scratch/', 'out/', 'bench/data/', 'bench/work/', 'sample-data/', 'coverage/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The modules form a tree: an import cycle means a helper lives in the wrong module.
    // Production code never reaches into the synthetic generator.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ['./src', './pipeline'],
              from: './src/synth',
              except: [],
              message: 'the pipeline must not depend on the synthetic generator',
            },
          ],
        },
      ],
    },
  },
  {
    // The generator itself, and the `strata synth` command that is its front door.
    files: ['src/synth/**/*.ts', 'src/cli.ts'],
    rules: { 'import-x/no-restricted-paths': 'off' },
  },
  {
    files: ['bin/**/*.mjs', 'scripts/**/*.mjs', 'src/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
