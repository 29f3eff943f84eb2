import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';
import { writeFileSync } from 'node:fs';

vi.mock('electron', () => import('../support/fake-electron.js'));

const { isAppUrl, resolveAppFile } = await import('../../src/main/app-protocol.js');
const { desktopConfigPath, loadDesktopConfig, updaterChannel } =
  await import('../../src/main/desktop-config.js');

describe("the app's own scheme serves the packaged window and nothing else", () => {
  const root = '/opt/Outpost/resources/app.asar/dist/renderer';

  it('maps app URLs to files inside the renderer folder', () => {
    expect(resolveAppFile(root, 'outpost://app/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'outpost://app/index.html')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'outpost://app/assets/index-abc.js')).toBe(
      path.join(root, 'assets/index-abc.js'),
    );
    expect(resolveAppFile(root, 'outpost://app/favicon.png?v=2')).toBe(path.join(root, 'favicon.png'));
  });

  it('never resolves outside the renderer folder, however the path climbs', () => {
    for (const url of [
      'outpost://app/../../main/main.js',
      'outpost://app/%2e%2e/%2e%2e/main/main.js',
      'outpost://app/..%2f..%2fmain%2fmain.js',
      'outpost://app/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fmain%2fpreload.js',
      'outpost://app/assets/..%5c..%5c..%5cmain.js',
    ]) {
      const file = resolveAppFile(root, url);
      if (file !== null) expect(file.startsWith(root + path.sep), `${url} → ${file}`).toBe(true);
    }
    // An encoded separator survives URL parsing and would climb out once decoded: refused.
    expect(resolveAppFile(root, 'outpost://app/..%2f..%2fmain%2fmain.js')).toBeNull();
  });

  it('refuses other hosts, other schemes and file types the window does not use', () => {
    for (const url of [
      'outpost://app/index.html%00.png',
      'outpost://other/index.html',
      'https://app/index.html',
      'file:///etc/passwd',
      'outpost://app/package.json',
      'outpost://app/%E0%A4%A',
    ])
      expect(resolveAppFile(root, url), url).toBeNull();
    expect(isAppUrl('outpost://app/index.html')).toBe(true);
    expect(isAppUrl('outpost://app.evil.example/index.html')).toBe(false);
  });
});

describe('desktop.json', () => {
  it('has safe defaults: stable channel, checks every 4 hours, quiet hour 03:00, no install with sales unsent', () => {
    const dir = makeTempDir('desktop-config');
    const file = path.join(dir, 'desktop.json');
    writeFileSync(
      file,
      JSON.stringify({ agentConfig: 'agent.json', updates: { feedUrl: 'https://updates.example/desktop' } }),
    );
    const config = loadDesktopConfig(file, {});
    expect(config).toEqual({
      agentConfig: path.join(dir, 'agent.json'),
      startAtLogin: true,
      updates: {
        feedUrl: 'https://updates.example/desktop',
        channel: 'stable',
        checkEveryHours: 4,
        quietHour: '03:00',
        quietWindowMinutes: 60,
        installWithUnsentSales: false,
      },
    });
    expect(loadDesktopConfig(file, { OUTPOST_UPDATES__CHANNEL: 'pilot' }).updates.channel).toBe('pilot');
    expect(updaterChannel('stable')).toBe('latest');
    expect(updaterChannel('pilot')).toBe('pilot');
  });

  it('refuses a plain-http feed (except on this PC) and names the field', () => {
    const dir = makeTempDir('desktop-config');
    const file = path.join(dir, 'desktop.json');
    writeFileSync(
      file,
      JSON.stringify({ agentConfig: 'agent.json', updates: { feedUrl: 'http://updates.example/desktop' } }),
    );
    expect(() => loadDesktopConfig(file, {})).toThrow(/updates\.feedUrl/);
    writeFileSync(
      file,
      JSON.stringify({ agentConfig: 'agent.json', updates: { feedUrl: 'http://127.0.0.1:9000/feed' } }),
    );
    expect(loadDesktopConfig(file, {}).updates.feedUrl).toBe('http://127.0.0.1:9000/feed');
    writeFileSync(file, JSON.stringify({ agentConfig: 'agent.json', updates: { quietHour: '3am' } }));
    expect(() => loadDesktopConfig(file, {})).toThrow(/updates\.quietHour/);
  });

  it('is found from --config, then OUTPOST_DESKTOP_CONFIG, then the machine-wide place', () => {
    expect(desktopConfigPath(['exe', '--config', '/srv/d.json'], {}, 'linux')).toBe('/srv/d.json');
    expect(desktopConfigPath(['exe', '--config=/srv/e.json'], {}, 'linux')).toBe('/srv/e.json');
    expect(desktopConfigPath(['exe'], { OUTPOST_DESKTOP_CONFIG: '/srv/f.json' }, 'linux')).toBe(
      '/srv/f.json',
    );
    expect(desktopConfigPath(['exe'], {}, 'linux')).toBe('/etc/outpost/desktop.json');
    expect(desktopConfigPath(['exe'], { ProgramData: 'D:\\ProgramData' }, 'win32')).toBe(
      'D:\\ProgramData\\Outpost\\desktop.json',
    );
  });
});
