import type { Plugin } from 'vite';

/**
 * Puts a Content-Security-Policy into the built page, so it holds wherever the page is loaded from (the
 * server sends it as a header too, with frame-ancestors, which only a header can set). Build only: the
 * dev server injects styles inline, which a strict policy forbids. Used by the status window's and the
 * operator console's Vite configs.
 */
export function contentSecurityPolicy(policy: string): Plugin {
  return {
    name: 'outpost-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: policy },
        injectTo: 'head-prepend',
      },
    ],
  };
}
