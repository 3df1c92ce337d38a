// ESLint flat config: typescript-eslint recommended rules plus the dependency direction of
// docs/architecture.md (core folders never import protocol or HTTP code).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const protocolFolders = ['**/xmpp/**', '**/mqtt/**', '**/http/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['src/liveness/**', 'src/presence/**', 'src/store/**', 'src/time/**', 'src/config/**', 'src/auth/**', 'src/mqtt-session/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: protocolFolders, message: 'Core modules must not depend on protocol or HTTP code.' }] },
      ],
    },
  },
  {
    files: ['src/xmpp/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/mqtt/**', '**/http/**'], message: 'Protocols stay independent.' }] }],
    },
  },
  {
    files: ['src/mqtt/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/xmpp/**', '**/http/**'], message: 'Protocols stay independent.' }] }],
    },
  },
  {
    files: ['src/gateway/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: protocolFolders, message: 'Gateway ingestion talks to presence, not to the protocol listeners or HTTP.' }] },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ignores: ['web/**'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    // The dashboard page: plain browser modules, these globals and nothing of Node's.
    files: ['web/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'console', 'fetch', 'EventSource', 'sessionStorage', 'performance', 'URLSearchParams', 'ResizeObserver', 'requestAnimationFrame', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'addEventListener', 'matchMedia', 'Intl'].map((g) => [g, 'readonly']),
      ),
    },
  },
);
