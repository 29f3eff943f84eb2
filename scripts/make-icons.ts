/**
 * Writes the application icons the installers and the window use, from the drawing in
 * src/main/icon-image.ts: build/icons/<N>x<N>.png (Linux), build/icon.ico (Windows) and the window's
 * favicon. Run it again after changing the drawing: `node --import tsx scripts/make-icons.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawAppIcon, encodeIco, encodePng } from '../src/main/icon-image.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const icons = path.join(root, 'build', 'icons');
mkdirSync(icons, { recursive: true });

const png = (size: number) => encodePng(drawAppIcon(size));
for (const size of [16, 32, 48, 64, 128, 256, 512])
  writeFileSync(path.join(icons, `${size}x${size}.png`), png(size));
writeFileSync(
  path.join(root, 'build', 'icon.ico'),
  encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: png(size) }))),
);
const publicDir = path.join(root, 'src', 'renderer', 'public');
mkdirSync(publicDir, { recursive: true });
writeFileSync(path.join(publicDir, 'favicon.png'), png(64));
process.stdout.write(
  `icons written to ${path.relative(root, icons)}, build/icon.ico and src/renderer/public/favicon.png\n`,
);
