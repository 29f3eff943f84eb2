import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WINDOW_CSP_HEADER } from '../../src/contracts/window-api.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * `npm run build` and what it builds, run the way an installed Outpost runs: the compiled CLI in dist/
 * with no TypeScript loader (a resolve hook fails the process if anything would load a .ts file or tsx),
 * its worker threads (the agent's delivery worker and WAL checkpointer, the hub's parse worker) from
 * their compiled files, and the status window from dist/renderer. The build goes to a folder of its own
 * inside the project (node_modules is found from there, package.json is copied beside it), so this test
 * never touches the dist/ a developer or another test uses.
 */

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const installed = path.join(ROOT, '.outpost', `build-test-${randomBytes(4).toString('hex')}`);
const dist = path.join(installed, 'dist');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Fails the process the moment anything resolves to TypeScript or to tsx. */
const NO_TYPESCRIPT =
  'data:text/javascript,' +
  encodeURIComponent(
    `import { register } from 'node:module';
     register('data:text/javascript,' + encodeURIComponent(
       'export async function resolve(specifier, context, next) {' +
       '  const resolved = await next(specifier, context);' +
       '  if (/\\\\.(c|m)?ts$/.test(resolved.url) || resolved.url.includes("/node_modules/tsx/"))' +
       '    throw new Error("TypeScript at run time: " + resolved.url);' +
       '  return resolved;' +
       '}'));`,
  );

const builtNode = (args: string[]) => [`--import=${NO_TYPESCRIPT}`, ...args];

let buildOutput = '';
beforeAll(async () => {
  mkdirSync(installed, { recursive: true });
  copyFileSync(path.join(ROOT, 'package.json'), path.join(installed, 'package.json'));
  const built = await run(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--out', dist], {
    cwd: ROOT,
    timeout: 180_000,
  });
  buildOutput = built.stdout;
}, 200_000);

afterAll(() => {
  rmSync(installed, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

describe('npm run build', () => {
  it('compiles every source module to JavaScript and bundles the status window', () => {
    expect(buildOutput).toMatch(/^built \d+ modules in [\d.]+ s, the status window in [\d.]+ s/);
    const files = filesUnder(dist).map((f) => path.relative(dist, f));
    expect(files.filter((f) => /\.(c|m)?ts$/.test(f))).toEqual([]);
    for (const entry of [
      'cli/main.js',
      'main/main.js',
      'main/agent-process.js',
      'main/preload.cjs',
      'sync/delivery-worker.js',
      'hub/parse-worker.js',
      'renderer/index.html',
    ])
      expect(files, entry).toContain(entry);
    // The sandboxed preload is CommonJS and needs nothing but electron.
    const preload = readFileSync(path.join(dist, 'main/preload.cjs'), 'utf8');
    expect([...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(['electron']);
  });

  it('gives a CLI that runs without a TypeScript loader: --version', async () => {
    const { stdout } = await run(process.execPath, builtNode([path.join(dist, 'cli/main.js'), '--version']));
    expect(stdout.trim()).toBe(VERSION);
  });

  it('is what bin/outpost.js runs in an installation without the sources', async () => {
    mkdirSync(path.join(installed, 'bin'), { recursive: true });
    copyFileSync(path.join(ROOT, 'bin/outpost.js'), path.join(installed, 'bin/outpost.js'));
    const { stdout } = await run(
      process.execPath,
      builtNode([path.join(installed, 'bin/outpost.js'), '--version']),
    );
    expect(stdout.trim()).toBe(VERSION);
  });

  it('runs the demo from dist/: sales reach the hub through the compiled workers, and the window is served', async () => {
    const dir = makeTempDir('built-demo');
    const child = spawn(
      process.execPath,
      builtNode([path.join(dist, 'cli/main.js'), 'demo', '--rate', '30', '--dir', dir]),
      { cwd: makeTempDir('built-demo-cwd'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines: string[] = [];
      const printed = await new Promise<{ window: string; hub: string; token: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo not ready; stderr:\n${stderr}`)), 30_000);
        void exited.then(() => reject(new Error(`demo exited; stderr:\n${stderr}`)));
        createInterface({ input: child.stdout }).on('line', (line) => {
          lines.push(line);
          const window = lines.map((l) => /Status window: +(http:\/\/\S+\/)/.exec(l)?.[1]).find(Boolean);
          const hub = lines
            .map((l) => /Bearer ([0-9a-f]+)' (http:\/\/127\.0\.0\.1:\d+)\/v1\/stores$/.exec(l))
            .find(Boolean);
          if (window && hub) {
            clearTimeout(timer);
            resolve({ window, hub: hub[2]!, token: hub[1]! });
          }
        });
      });

      const page = await fetch(printed.window);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(WINDOW_CSP_HEADER);
      expect(await page.text()).toMatch(
        /<script type="module" crossorigin src="\.\/assets\/index-[\w-]+\.js">/,
      );

      let stored = 0;
      for (let i = 0; i < 150 && stored < 20; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const answer = await fetch(`${printed.hub}/v1/stores`, {
          headers: { authorization: `Bearer ${printed.token}` },
        });
        const { stores } = (await answer.json()) as { stores: { epochs: { stored: number }[] }[] };
        stored = stores[0]?.epochs.reduce((n, e) => n + e.stored, 0) ?? 0;
      }
      expect(stored, stderr).toBeGreaterThanOrEqual(20);

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/TypeScript at run time/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
