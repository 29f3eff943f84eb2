import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import type { AgentStatus } from '../../src/contracts/status.js';
import type { WindowSnapshot } from '../../src/contracts/window-api.js';
import { app, Menu, type Tray } from '../support/fake-electron.js';
import { makeTempDir } from '../support/temp-dir.js';

vi.mock('electron', () => import('../support/fake-electron.js'));

const { claimSingleInstance } = await import('../../src/main/single-instance.js');
const { applyStartAtLogin, autostartEntry, HIDDEN_ARG } = await import('../../src/main/login-item.js');
const { trayStateOf, TRAY_COLOURS } = await import('../../src/main/tray-state.js');
const { StatusTray } = await import('../../src/main/tray.js');
const { drawStatusDot, encodeIco, encodePng } = await import('../../src/main/icon-image.js');

describe('one Outpost per PC session', () => {
  it('a second copy hands over to the first and quits', () => {
    app.lockGranted = false;
    const focusFirst = vi.fn();
    expect(claimSingleInstance(focusFirst)).toBe(false);
    expect(app.quit).toHaveBeenCalledTimes(1);
    expect(app.listenerCount('second-instance')).toBe(0);
  });

  it('the first copy keeps the lock and shows its window when someone starts another', () => {
    app.lockGranted = true;
    app.quit.mockClear();
    const focusFirst = vi.fn();
    expect(claimSingleInstance(focusFirst)).toBe(true);
    expect(app.quit).not.toHaveBeenCalled();
    app.emit('second-instance', {}, ['outpost-desktop'], '/');
    expect(focusFirst).toHaveBeenCalledTimes(1);
  });
});

describe('start at login', () => {
  it('asks Windows to start the app, hidden in the tray', () => {
    applyStartAtLogin(true, {
      platform: 'win32',
      home: 'C:\\Users\\manager',
      executable: 'C:\\Program Files\\Outpost\\outpost-desktop.exe',
    });
    expect(app.setLoginItemSettings).toHaveBeenLastCalledWith({ openAtLogin: true, args: [HIDDEN_ARG] });
    applyStartAtLogin(false, { platform: 'win32', home: 'C:\\Users\\manager', executable: 'x' });
    expect(app.setLoginItemSettings).toHaveBeenLastCalledWith({ openAtLogin: false, args: [HIDDEN_ARG] });
  });

  it('writes (and removes) an XDG autostart entry on a Linux desktop', () => {
    const home = makeTempDir('login-item');
    const file = path.join(home, '.config', 'autostart', 'outpost.desktop');
    applyStartAtLogin(true, { platform: 'linux', home, executable: '/opt/Outpost/Outpost "2".AppImage' });
    const entry = readFileSync(file, 'utf8');
    expect(entry).toContain('Exec="/opt/Outpost/Outpost \\"2\\".AppImage" --hidden');
    expect(entry).toBe(autostartEntry('/opt/Outpost/Outpost "2".AppImage'));
    applyStartAtLogin(false, { platform: 'linux', home, executable: 'x' });
    expect(existsSync(file)).toBe(false);
  });
});

function snapshot(status: Partial<AgentStatus>): WindowSnapshot {
  return {
    status: {
      storeId: 'S1',
      version: '0.1.0',
      now: '2026-11-23T10:00:00.000Z',
      epoch: 'e',
      capture: { state: 'ok' },
      connection: { state: 'online', since: null, lastError: null, everConnected: true },
      logging: { state: 'ok', dir: null, since: null, error: null, droppedLines: 0 },
      backlog: { count: 0, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] },
      lastSeq: 0,
      lastAck: null,
      deadLetters: { count: 0, items: [] },
      promotions: { active: 0 },
      problems: [],
      ...status,
    } as AgentStatus,
    history: { bucketSeconds: 60, points: [] },
    terminals: [],
    notices: [],
    promotions: { inForce: [], next: null },
    app: { version: '0.1.0', update: { state: 'not-applicable' } },
  };
}

describe('the tray icon colour is the state', () => {
  it('green connected, amber offline or needing a look, red when tills cannot save, grey without the agent', () => {
    expect(trayStateOf(snapshot({}), 'open')).toBe('ok');
    expect(
      trayStateOf(
        snapshot({ connection: { state: 'offline', since: null, lastError: null, everConnected: true } }),
        'open',
      ),
    ).toBe('attention');
    expect(trayStateOf(snapshot({ deadLetters: { count: 1, items: [] } }), 'open')).toBe('attention');
    expect(trayStateOf(snapshot({ capture: { state: 'unavailable', message: 'disk full' } }), 'open')).toBe(
      'problem',
    );
    expect(
      trayStateOf(
        snapshot({ problems: [{ code: 'sync-refused', severity: 'critical', message: 'm', action: 'a' }] }),
        'open',
      ),
    ).toBe('problem');
    expect(trayStateOf(snapshot({}), 'lost')).toBe('unknown');
    expect(trayStateOf(null, 'open')).toBe('unknown');
  });

  it('draws each state as a dot of its own colour, and changes the icon when the state changes', () => {
    const tray = new StatusTray({
      open: vi.fn(),
      checkForUpdates: vi.fn(),
      installUpdate: vi.fn(),
      quit: vi.fn(),
    });
    const fake = (tray as unknown as { tray: Tray }).tray;
    tray.setState('problem');
    tray.setState('problem');
    expect(fake.setImage).toHaveBeenCalledTimes(1);
    const image = fake.setImage.mock.calls[0]![0] as { representations: { buffer: Buffer; width: number }[] };
    const dot = image.representations.find((r) => r.width === 32)!;
    expect(centrePixel(dot.buffer, 32)).toEqual([...TRAY_COLOURS.problem, 255]);
    expect(fake.setToolTip).toHaveBeenLastCalledWith(expect.stringMatching(/wrong/));
  });

  it('offers the ready update in its menu, and Quit', () => {
    const actions = { open: vi.fn(), checkForUpdates: vi.fn(), installUpdate: vi.fn(), quit: vi.fn() };
    const tray = new StatusTray(actions);
    tray.setUpdateReady('0.2.0');
    const template = Menu.buildFromTemplate.mock.lastCall![0] as { label?: string; click?: () => void }[];
    const labels = template.map((item) => item.label).filter(Boolean);
    expect(labels).toEqual([
      'Open Outpost',
      'Check for updates',
      'Install update 0.2.0 now…',
      'Quit Outpost',
    ]);
    template.find((item) => item.label === 'Quit Outpost')?.click?.();
    expect(actions.quit).toHaveBeenCalledTimes(1);
  });
});

/** Decodes the middle pixel of an RGBA PNG written by encodePng (filter type 0 on every row). */
function centrePixel(png: Buffer, size: number): number[] {
  expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
  const idat = png.indexOf('IDAT');
  const length = png.readUInt32BE(idat - 4);
  const rows = inflateSync(png.subarray(idat + 4, idat + 4 + length));
  const y = size / 2;
  const x = size / 2;
  const at = y * (size * 4 + 1) + 1 + x * 4;
  return [...rows.subarray(at, at + 4)];
}

describe('icons', () => {
  it('writes PNGs of the right size and an ICO whose entries point at them', () => {
    const png = encodePng(drawStatusDot(16, [1, 2, 3]));
    expect(png.readUInt32BE(16)).toBe(16);
    expect(png.readUInt32BE(20)).toBe(16);
    const ico = encodeIco([
      { size: 16, png },
      { size: 256, png },
    ]);
    expect(ico.readUInt16LE(2)).toBe(1);
    expect(ico.readUInt16LE(4)).toBe(2);
    expect(ico.readUInt8(6 + 16)).toBe(0); // 256 px is written as 0
    const offset = ico.readUInt32LE(6 + 12);
    expect(ico.subarray(offset, offset + png.length).equals(png)).toBe(true);
  });
});
