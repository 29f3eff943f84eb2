import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';
import { WINDOW_CSP } from './src/contracts/window-api.js';

const rendererRoot = fileURLToPath(new URL('./src/renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer', import.meta.url));

/**
 * Puts the window's Content-Security-Policy into the built page, so it holds wherever the page is loaded
 * from. Build only: the dev server injects styles inline, which the policy forbids.
 */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'outpost-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: WINDOW_CSP },
        injectTo: 'head-prepend',
      },
    ],
  };
}

/**
 * The status window (`npm run build:renderer` → dist/renderer). `base: './'` makes every URL relative, so
 * the same files work at `/` on the agent's port and from the desktop app's own protocol.
 */
export default defineConfig({
  root: rendererRoot,
  base: './',
  publicDir: 'public',
  plugins: [preact(), contentSecurityPolicy()],
  build: {
    outDir,
    emptyOutDir: true,
    // Nothing inlined as data: URLs, which the policy does not allow.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'chrome120',
    reportCompressedSize: false,
  },
});
