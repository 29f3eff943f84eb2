import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from './errors.js';

/**
 * Serving a page built by Vite (index.html, hashed assets under /assets/) from a directory, with a strict
 * Content-Security-Policy and no framing, sniffing or referrer. Only files of the kinds a page uses, and
 * nothing outside the directory.
 */

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** The Content-Type of a page's file, or undefined for a kind of file a page does not use. */
export const pageContentType = (file: string): string | undefined =>
  CONTENT_TYPES[path.extname(file).toLowerCase()];

/** Sent with every file of the page. */
export function pageHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** The file a URL names inside `dir`, or null: nothing outside it, nothing a page does not use. */
export function pageFile(dir: string, urlPath: string): string | null {
  let pathname: string;
  try {
    pathname = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
  const root = path.resolve(dir);
  const file = path.resolve(root, relative);
  if (!file.startsWith(root + path.sep)) return null;
  if (pageContentType(file) === undefined) return null;
  return file;
}

export interface PageFilesOptions {
  dir: string;
  csp: string;
  /** What the page is called in messages ("the operator's console"). */
  what: string;
  /** The HTML answered (503) when the page is not built: what is missing and how to build it. */
  notBuilt: (dir: string) => string;
}

/** A route handler answering a file of the page. */
export function pageFileHandler(options: PageFilesOptions) {
  const headers = pageHeaders(options.csp);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const dir = options.dir;
    if (!existsSync(path.join(dir, 'index.html'))) {
      return reply
        .status(503)
        .headers({ ...headers, 'Cache-Control': 'no-store', 'Retry-After': '60' })
        .type('text/html; charset=utf-8')
        .send(options.notBuilt(dir));
    }
    const missing = () => new NotFoundError(`no such file of ${options.what}: ${request.url.split('?')[0]}`);
    const file = pageFile(dir, request.url);
    if (!file) throw missing();
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      throw missing();
    }
    // Vite names the scripts and styles after their content: they never change under one name.
    const immutable = request.url.startsWith('/assets/');
    return reply
      .headers({
        ...headers,
        'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      })
      .type(pageContentType(file)!)
      .send(body);
  };
}

/** Serves the page at `/` (and `/index.html`), its favicon and its hashed assets. */
export function registerPageFiles(app: FastifyInstance, options: PageFilesOptions): void {
  const page = pageFileHandler(options);
  for (const route of ['/', '/index.html', '/favicon.png', '/assets/*']) app.get(route, page);
}

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface NotBuiltWords {
  /** The page's name in the title ("status window"). */
  title: string;
  /** What works without the page ("The hub is running and storing every store's sales"). */
  running: string;
  /** The npm script that builds this page alone ("build:renderer"). */
  buildScript: string;
  /** Where the same facts are meanwhile (HTML). */
  meanwhile: string;
}

/** The answer to `/` when a page is not built: what is missing, how to build it, where to look meanwhile. */
export function notBuiltPage(dir: string, words: NotBuiltWords): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost: ${words.title} not built</title></head>
<body>
<h1>The ${words.title} is not built in this installation</h1>
<p>${words.running}, but the ${words.title}'s files are missing from
<code>${escapeHtml(dir)}</code>.</p>
<p>Build them in the Outpost folder with <code>npm run build</code> (or only the ${words.title}:
<code>npm run ${words.buildScript}</code>), then reload this page.</p>
<p>${words.meanwhile}</p>
</body></html>
`;
}
