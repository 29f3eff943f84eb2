// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const layering = 'see shared STYLE.md, "Import direction"';
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'coverage', 'bin', '.outpost'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The layering of STYLE.md, held by the linter: contracts ← lib ← sync, capture, promotions, hub ← agent ← cli, main.
  {
    files: ['src/contracts/**'],
    rules: restrict([
      { group: ['../*', '!../contracts'], message: `contracts import nothing of ours (${layering})` },
      {
        group: ['node:*', 'better-sqlite3', 'mqtt', 'fastify', 'winston'],
        message: `contracts are pure: no I/O (${layering})`,
      },
    ]),
  },
  {
    files: ['src/lib/**'],
    rules: restrict([
      {
        group: [
          '../sync/*',
          '../capture/*',
          '../hub/*',
          '../agent/*',
          '../cli/*',
          '../promotions/*',
          '../simulate/*',
          '../broker/*',
        ],
        message: `lib has no product knowledge (${layering})`,
      },
    ]),
  },
  {
    files: ['src/sync/**', 'src/capture/**', 'src/promotions/**'],
    rules: restrict([
      {
        group: ['../agent/*', '../cli/*', '../hub/*', '../broker/*', 'electron'],
        message: `the store core imports only contracts, lib and its peers' index (${layering})`,
      },
    ]),
  },
  {
    files: ['src/capture/**'],
    rules: restrict([
      {
        group: ['mqtt', '../sync/*', '!../sync/index.js', '../agent/*', '../cli/*', '../hub/*', 'electron'],
        message: `capture knows nothing of MQTT and uses sync only through its index (${layering})`,
      },
    ]),
  },
  {
    files: ['src/hub/**'],
    rules: restrict([
      {
        // The promotions core is pure (signing, catalogue rules): the hub signs and re-offers with it.
        group: [
          '../sync/*',
          '../capture/*',
          '../agent/*',
          '../promotions/*',
          '!../promotions/index.js',
          '../cli/*',
          'electron',
        ],
        message: `the hub imports only contracts, lib and the pure promotions core's index (${layering})`,
      },
    ]),
  },
  {
    files: ['src/agent/**', 'src/simulate/**', 'src/broker/**'],
    rules: restrict([
      {
        group: ['../cli/*', 'electron'],
        message: `nothing imports cli, and the core never imports electron (${layering})`,
      },
    ]),
  },
  // The status window runs in a browser (or a sandboxed Electron page): it sees the agent only through
  // the window API contract, never Node, the core or Electron.
  {
    files: ['src/renderer/**'],
    rules: restrict([
      {
        group: [
          'node:*',
          'electron',
          ...[
            'lib',
            'sync',
            'capture',
            'promotions',
            'hub',
            'agent',
            'broker',
            'cli',
            'simulate',
            'main',
          ].map((layer) => `**/${layer}/*`),
        ],
        message: `the renderer imports only src/contracts and its own modules (${layering})`,
      },
    ]),
  },
  // The operator's console runs in a browser too: it sees the hub only through the console API contract.
  // src/ui holds what the window and the console share, and imports neither of them.
  ...[
    { files: ['src/console/**'], also: [] },
    { files: ['src/ui/**'], also: ['console'] },
  ].map(({ files, also }) => ({
    files,
    ignores: ['src/ui/csp-plugin.ts'],
    rules: restrict([
      {
        group: [
          'node:*',
          'electron',
          ...[
            'lib',
            'sync',
            'capture',
            'promotions',
            'hub',
            'agent',
            'broker',
            'cli',
            'simulate',
            'main',
            'renderer',
            ...also,
          ].map((layer) => `**/${layer}/*`),
        ],
        message: `the console and src/ui import only src/contracts, src/ui and their own modules; src/ui neither page (${layering})`,
      },
    ]),
  })),
);
