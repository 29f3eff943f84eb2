#!/usr/bin/env node
// The `outpost` command.
//
// An installed Outpost (built with `npm run build`, its dependencies installed with `npm ci --omit=dev`)
// runs the compiled JavaScript in dist/, with no TypeScript loader. A development checkout (the sources
// and the development tools present) runs the TypeScript sources through tsx, so tests and developers
// never run a stale build. OUTPOST_RUN_FROM=dist (or src) chooses explicitly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
const sources = new URL('src/cli/main.ts', root);
const built = new URL('dist/cli/main.js', root);

function developmentToolsPresent() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

const from =
  process.env.OUTPOST_RUN_FROM ?? (existsSync(sources) && developmentToolsPresent() ? 'src' : 'dist');

if (from === 'src') {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'outpost: the compiled program (dist/cli/main.js) is missing: run `npm run build` in the Outpost folder\n',
  );
  process.exit(1);
}
