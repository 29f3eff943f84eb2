import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { protocol } from 'electron';
import { WINDOW_CSP_HEADER } from '../contracts/window-api.js';

/**
 * The window's files are served from the app's own scheme, `outpost://app/…`, not file://: a custom
 * scheme is an origin of its own (file:// pages share one with every file on the disk), lets the app send
 * the Content-Security-Policy as a header, and serves only what is inside the packaged renderer folder.
 */
export const APP_SCHEME = 'outpost';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Whether a URL is one of the app's own pages. */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/**
 * The file an app URL names inside `rendererDir`, or null for anything else: another host, a path that
 * climbs out of the folder (`..`, encoded or not), or a type the window does not use.
 */
export function resolveAppFile(rendererDir: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  const relative = pathname === '/' || pathname === '' ? 'index.html' : pathname.replace(/^\/+/, '');
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, relative);
  if (!file.startsWith(root + path.sep)) return null;
  if (!(path.extname(file).toLowerCase() in CONTENT_TYPES)) return null;
  return file;
}

/** Must run before the app is ready: the scheme is standard (relative URLs, an origin) and secure. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      // Module scripts are fetched in CORS mode even from their own origin.
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
    },
  ]);
}

/** Serves the packaged window from `rendererDir`, every answer with the strict policy header. */
export function serveAppFiles(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(rendererDir, request.url);
    if (!file) return new Response('not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(body, {
        headers: {
          'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()]!,
          'Content-Security-Policy': WINDOW_CSP_HEADER,
          'X-Content-Type-Options': 'nosniff',
          'Cache-Control': 'no-store',
        },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
