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

// The headless agent's V8 settings (src/cli/agent-runtime.ts) take effect before the program loads:
// loading it is the first burst of allocation, and a young generation grown then stays grown.
const agent = process.argv[2] === 'agent';

if (from === 'src') {
  const { register } = await import('tsx/esm/api');
  register();
  if (agent) (await import(new URL('src/cli/agent-runtime.ts', root).href)).applyAgentRuntimeSettings();
  await import(sources.href);
} else if (existsSync(built)) {
  if (agent) (await import(new URL('dist/cli/agent-runtime.js', root).href)).applyAgentRuntimeSettings();
  await import(built.href);
} else {
  process.stderr.write(
    'outpost: the compiled program (dist/cli/main.js) is missing: run `npm run build` in the Outpost folder\n',
  );
  process.exit(1);
}
