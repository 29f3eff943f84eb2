#!/usr/bin/env node
// `npm run build`: the TypeScript sources to plain JavaScript in dist/ (main process, preload, store core,
// hub, CLI, worker threads), one file per source file, and the two web pages bundled by Vite: the status
// window into dist/renderer/ and the hub's operator console into dist/console/. esbuild only transpiles
// (types are checked by `npm run typecheck`), so a build takes a second or two. The production CLI
// (`node dist/cli/main.js`, bin/outpost.js) and the desktop app then run with no TypeScript loader.
//
//   node scripts/build.mjs [--if-stale] [--out DIR] [--no-renderer]
//
// --if-stale   build only when a source is newer than the last build (`npm run demo` uses it)
// --out DIR    write there instead of dist/ (tests; DIR must sit inside the project so the compiled code
//              finds node_modules, with package.json copied beside it)
// --no-renderer  skip the two web pages (the status window and the operator console)
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    'if-stale': { type: 'boolean', default: false },
    out: { type: 'string' },
    'no-renderer': { type: 'boolean', default: false },
  },
});
const outDir = path.resolve(root, values.out ?? 'dist');
const stamp = path.join(outDir, '.build-stamp');
// Browser code: bundled by Vite, never compiled module for module.
const pageSources = ['renderer', 'console', 'ui'].map((dir) => path.join(root, 'src', dir) + path.sep);

/** Every file under `dir`, recursively. */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

/** The inputs of a build: a change to any of them makes dist/ stale. */
function inputs() {
  return [
    ...filesUnder(path.join(root, 'src')),
    path.join(root, 'package.json'),
    path.join(root, 'vite.config.ts'),
    path.join(root, 'vite.console.config.ts'),
    fileURLToPath(import.meta.url),
  ];
}

function isStale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return inputs().some((file) => statSync(file).mtimeMs > built);
}

if (values['if-stale'] && !isStale()) process.exit(0);

const startedAt = performance.now();
const { build } = await import('esbuild');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const sources = filesUnder(path.join(root, 'src')).filter(
  (file) =>
    file.endsWith('.ts') && !file.endsWith('.d.ts') && !pageSources.some((dir) => file.startsWith(dir)),
);
// Module for module, as the sources are laid out: worker threads are loaded by their own file name
// (new URL('./delivery-worker.js', import.meta.url)), and the layout in dist/ stays the one in src/.
await build({
  entryPoints: sources,
  outdir: outDir,
  outbase: path.join(root, 'src'),
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
// The preload runs in a sandboxed renderer, which loads CommonJS only.
await build({
  entryPoints: [path.join(root, 'src', 'main', 'preload.cts')],
  outfile: path.join(outDir, 'main', 'preload.cjs'),
  format: 'cjs',
  platform: 'node',
  target: 'es2022',
  logLevel: 'warning',
});
const compiledAt = performance.now();
let windowAt = compiledAt;

if (!values['no-renderer']) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({
    configFile: path.join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: path.join(outDir, 'renderer'), emptyOutDir: true },
  });
  windowAt = performance.now();
  await viteBuild({
    configFile: path.join(root, 'vite.console.config.ts'),
    logLevel: 'warn',
    build: { outDir: path.join(outDir, 'console'), emptyOutDir: true },
  });
}

writeFileSync(stamp, `${new Date().toISOString()}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
process.stdout.write(
  `built ${sources.length + 1} modules in ${seconds(compiledAt - startedAt)}` +
    (values['no-renderer']
      ? ''
      : `, the status window in ${seconds(windowAt - compiledAt)}` +
        `, the operator console in ${seconds(performance.now() - windowAt)}`) +
    ` → ${path.relative(root, outDir) || '.'}\n`,
);
