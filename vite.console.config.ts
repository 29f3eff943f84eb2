import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { CONSOLE_CSP } from './src/contracts/console-api.js';
import { contentSecurityPolicy } from './src/ui/csp-plugin.js';

const consoleRoot = fileURLToPath(new URL('./src/console', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/console', import.meta.url));

/**
 * The operator's console (`npm run build:console` → dist/console), served by the hub at `/`. Same stack
 * and policy as the status window (vite.config.ts); its icon is the window's, Outpost's one icon.
 */
export default defineConfig({
  root: consoleRoot,
  base: './',
  publicDir: fileURLToPath(new URL('./src/renderer/public', import.meta.url)),
  plugins: [preact(), contentSecurityPolicy(CONSOLE_CSP)],
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
