import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { WINDOW_CSP_HEADER } from '../contracts/window-api.js';
import { pageContentType, pageFile } from '../lib/page-files.js';

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

/**
 * The file an app URL names inside `rendererDir`, or null for anything else: another host, a path that
 * climbs out of the folder (`..`, encoded or not), or a type the window does not use. The same rules as
 * the agent's and the hub's HTTP pages (src/lib/page-files.ts).
 */
export function resolveAppFile(rendererDir: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  // A URL of a scheme Node does not know may have an empty path (`outpost://app`): the page itself.
  const { pathname } = new URL(url);
  return pageFile(rendererDir, pathname === '' ? '/' : pathname);
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
          'Content-Type': pageContentType(file)!,
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
