import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { WINDOW_CSP } from './src/contracts/window-api.js';
import { contentSecurityPolicy } from './src/ui/csp-plugin.js';

const rendererRoot = fileURLToPath(new URL('./src/renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer', import.meta.url));

/**
 * The status window (`npm run build:renderer` → dist/renderer). `base: './'` makes every URL relative, so
 * the same files work at `/` on the agent's port and from the desktop app's own protocol.
 */
export default defineConfig({
  root: rendererRoot,
  base: './',
  publicDir: 'public',
  plugins: [preact(), contentSecurityPolicy(WINDOW_CSP)],
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
