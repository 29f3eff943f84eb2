import { deflateSync } from 'node:zlib';

/**
 * The app's icons, drawn in code: the tray's coloured dot (one per state, made at run time) and the
 * application icon the installers use (written once by scripts/make-icons.ts). No image tools needed on a
 * build machine, and the tray colour can never drift from the state it stands for.
 */

export type Rgb = readonly [number, number, number];

/** An RGBA image, 4 bytes a pixel, rows top to bottom. */
export interface RgbaImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG file (8-bit RGBA, no interlace) of the image. */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, pixels } = image;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA
  const rows = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    rows.set(pixels.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A Windows .ico holding PNG images (Windows Vista and later read PNG entries, up to 256 px). */
export function encodeIco(images: readonly { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  const entries: Buffer[] = [];
  let offset = 6 + 16 * images.length;
  for (const { size, png } of images) {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0); // 0 means 256
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    entries.push(entry);
  }
  return Buffer.concat([header, ...entries, ...images.map((i) => i.png)]);
}

/**
 * Paints a shape given as coverage per pixel (0..1 from `inside`, sampled 4×4 for smooth edges) over a
 * transparent image.
 */
function paint(
  size: number,
  layers: readonly { colour: Rgb; inside: (x: number, y: number) => boolean }[],
): RgbaImage {
  const pixels = new Uint8Array(size * size * 4);
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (const layer of layers) {
        let covered = 0;
        for (let sy = 0; sy < samples; sy++)
          for (let sx = 0; sx < samples; sx++)
            if (layer.inside((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size))
              covered++;
        const alpha = covered / (samples * samples);
        // "over" compositing of this layer onto what is below
        const outA = alpha + a * (1 - alpha);
        if (outA > 0) {
          r = (layer.colour[0] * alpha + r * a * (1 - alpha)) / outA;
          g = (layer.colour[1] * alpha + g * a * (1 - alpha)) / outA;
          b = (layer.colour[2] * alpha + b * a * (1 - alpha)) / outA;
        }
        a = outA;
      }
      const i = (py * size + px) * 4;
      pixels[i] = Math.round(r);
      pixels[i + 1] = Math.round(g);
      pixels[i + 2] = Math.round(b);
      pixels[i + 3] = Math.round(a * 255);
    }
  }
  return { width: size, height: size, pixels };
}

const circle = (cx: number, cy: number, radius: number) => (x: number, y: number) =>
  (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;

const darker = (c: Rgb): Rgb => [c[0] * 0.55, c[1] * 0.55, c[2] * 0.55];

/** The tray's dot: the state's colour with a darker rim, readable on light and dark task bars. */
export function drawStatusDot(size: number, colour: Rgb): RgbaImage {
  return paint(size, [
    { colour: darker(colour), inside: circle(0.5, 0.5, 0.47) },
    { colour, inside: circle(0.5, 0.5, 0.38) },
  ]);
}

/** The application icon: a white outpost ring and beacon on a deep teal rounded square. */
export function drawAppIcon(size: number): RgbaImage {
  const teal: Rgb = [15, 94, 99];
  const white: Rgb = [255, 255, 255];
  const roundedSquare = (x: number, y: number) => {
    const r = 0.18;
    const dx = Math.max(Math.abs(x - 0.5) - (0.5 - r - 0.02), 0);
    const dy = Math.max(Math.abs(y - 0.5) - (0.5 - r - 0.02), 0);
    return dx * dx + dy * dy <= r * r;
  };
  const ring = (x: number, y: number) => circle(0.5, 0.5, 0.3)(x, y) && !circle(0.5, 0.5, 0.21)(x, y);
  return paint(size, [
    { colour: teal, inside: roundedSquare },
    { colour: white, inside: ring },
    { colour: white, inside: circle(0.5, 0.5, 0.1) },
  ]);
}
