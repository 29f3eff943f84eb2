import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const config = parse(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<
  string,
  unknown
>;
const at = <T>(key: string) => config[key] as T;

type Target = { target: string; arch?: string[] };

describe('electron-builder.yml', () => {
  it('is a configuration electron-builder itself accepts', async () => {
    // electron-builder's own schema check, as `electron-builder` runs it before packaging.
    const require = createRequire(import.meta.url);
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...config, nsis: { perMachine: 'yes' } }, new DebugLogger(false)),
    ).rejects.toThrow(/perMachine/);
  });

  it('names the app and starts it from the compiled main process', () => {
    expect(at('appId')).toBe('com.outpost.store-agent');
    expect(at('productName')).toBe('Outpost');
    expect(at<{ main: string }>('extraMetadata').main).toBe('dist/main/main.js');
    expect(at<string[]>('files')).toEqual(expect.arrayContaining(['dist/**/*', 'package.json']));
  });

  it('keeps better-sqlite3 outside the asar and rebuilds it for Electron', () => {
    expect(at('asar')).toBe(true);
    expect(at<string[]>('asarUnpack')).toEqual(expect.arrayContaining(['node_modules/better-sqlite3/**/*']));
    expect(at('npmRebuild')).toBe(true);
  });

  it('builds a per-machine NSIS installer for Windows, and deb and AppImage for Linux', () => {
    const win = at<{ target: Target[]; icon: string }>('win');
    expect(win.target.map((t) => t.target)).toEqual(['nsis']);
    expect(at<Record<string, unknown>>('nsis')).toMatchObject({ oneClick: false, perMachine: true });
    const linux = at<{ target: Target[]; icon: string }>('linux');
    expect(linux.target.map((t) => t.target).sort()).toEqual(['AppImage', 'deb']);
    expect(existsSync(path.join(ROOT, win.icon))).toBe(true);
    for (const size of [16, 32, 48, 64, 128, 256, 512])
      expect(existsSync(path.join(ROOT, linux.icon, `${size}x${size}.png`)), `${size}x${size}.png`).toBe(
        true,
      );
  });

  it('publishes to a generic feed, every build to the pilot channel first', () => {
    expect(at<Record<string, unknown>>('publish')).toMatchObject({ provider: 'generic', channel: 'pilot' });
    expect(String(at<{ url: string }>('publish').url)).toMatch(/^https:\/\//);
    expect(at('detectUpdateChannel')).toBe(false);
  });

  it('turns off the fuses that would let another program run the app as plain Node', () => {
    expect(at<Record<string, boolean>>('electronFuses')).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
    });
  });
});
