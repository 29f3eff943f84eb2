import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * The status window in a real browser: Debian's Chromium driven by playwright-core (no browser download),
 * the renderer built with the project's own Vite config, and a page wrapper that records what a user would
 * not see: script errors, Content-Security-Policy violations, failed requests.
 */

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';

const run = promisify(execFile);

/**
 * Builds a page with one of the project's Vite configs (`vite build --config <configFile>`) into `outDir`,
 * so a test never depends on a stale dist/.
 */
export async function buildVitePage(configFile: string, outDir: string): Promise<string> {
  await run(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      path.join(REPO_ROOT, configFile),
      '--outDir',
      outDir,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: REPO_ROOT, timeout: 120_000 },
  );
  if (!existsSync(path.join(outDir, 'index.html')))
    throw new Error(`vite build left no index.html in ${outDir}`);
  return outDir;
}

/** Builds the window (`vite build`) into `outDir`. */
export const buildWindowPage = (outDir: string): Promise<string> => buildVitePage('vite.config.ts', outDir);

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/ensure-test-services.sh (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Uncaught exceptions and console errors, in order. */
  readonly errors: string[];
  /** Console reports of Content-Security-Policy violations. */
  readonly cspViolations: string[];
  /**
   * Saves a full-page screenshot as `<dir>/<name>.png` and returns its path. With OUTPOST_SCREENSHOT_DIR
   * set, a copy goes there too, to pick the good ones for the docs.
   */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface OpenPageOptions {
  /** Where screenshots go (the test's temp dir). */
  artifactsDir: string;
  /** Fixed so times and amounts read the same on every machine. */
  locale?: string;
  timezoneId?: string;
  viewport?: { width: number; height: number };
}

export async function openWatchedPage(
  browser: Browser,
  url: string,
  options: OpenPageOptions,
): Promise<WatchedPage> {
  const context = await browser.newContext({
    locale: options.locale ?? 'en-GB',
    timezoneId: options.timezoneId ?? 'Europe/Paris',
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const cspViolations: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy/i.test(text)) cspViolations.push(text);
    else if (message.type() === 'error') errors.push(`console: ${text}`);
  });
  mkdirSync(options.artifactsDir, { recursive: true });
  await page.goto(url, { waitUntil: 'load' });
  return {
    page,
    context,
    errors,
    cspViolations,
    async screenshot(name) {
      const file = path.join(options.artifactsDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const keep = process.env.OUTPOST_SCREENSHOT_DIR;
      if (keep) {
        mkdirSync(keep, { recursive: true });
        copyFileSync(file, path.join(keep, `${name}.png`));
      }
      return file;
    },
    close: () => context.close(),
  };
}
