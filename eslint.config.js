// Runtime boundaries are enforced here and by the per-runtime tsconfigs:
//  - shared/   imports neither electron, node:* (or bare Node built-ins) nor the DOM (tsconfig.shared.json has no DOM lib)
//  - electron/ only main.ts and preload.ts may import electron; the rest runs under plain Node
//  - renderer/ never imports main-process code
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist*/**', 'electron/core/testing/golden/*/app/**', 'electron/core/db/migrations/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after'] }],
      }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    ignores: ['shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['electron', ...nodeBuiltins].map((name) => ({ name, message: 'shared/ runs everywhere: no electron or Node built-ins.' })),
        patterns: [{ group: ['node:*', '../electron/*', '../renderer/*'], message: 'shared/ imports nothing runtime-specific.' }],
      }],
    },
  },
  {
    files: ['electron/**/*.ts'],
    ignores: ['electron/main.ts', 'electron/preload.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'Only electron/main.ts and the preload import electron; the rest runs under plain Node.' }],
        patterns: [{ group: ['../renderer/*', '../../renderer/*'], message: 'The main process never imports renderer code.' }],
      }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['electron', ...nodeBuiltins].map((name) => ({ name, message: 'The renderer talks to the main process through the contract in shared/.' })),
        patterns: [{ group: ['**/electron/*', 'node:*'], message: 'The renderer never imports main-process code.' }],
      }],
      // One set of status colours (renderer/src/ui.tsx): Mantine's yellow, orange and green fail WCAG AA contrast.
      'no-restricted-syntax': ['error', ...[
        "JSXAttribute[name.name=/^(color|c)$/] Literal[value=/^(yellow|orange|green)([.]\\d)?$/]",
        "Property[key.name='color'] > Literal[value=/^(yellow|orange|green)([.]\\d)?$/]",
      ].map((selector) => ({ selector, message: 'Use WAIT_COLOR, CONFLICT_COLOR or OK_COLOR from renderer/src/ui.tsx: Mantine yellow, orange and green do not reach 4.5:1.' }))],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
