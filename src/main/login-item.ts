import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { app } from 'electron';

/** Started by the system at login, the app goes straight to the tray: the window opens on demand. */
export const HIDDEN_ARG = '--hidden';

export interface LoginItemEnvironment {
  platform: NodeJS.Platform;
  /** The user's home (for ~/.config/autostart on Linux). */
  home: string;
  /** What to start: the AppImage when run from one (its mount path changes every run), else the executable. */
  executable: string;
}

/** The XDG autostart entry that starts the app at login on a Linux desktop. */
export function autostartEntry(executable: string): string {
  const quoted = `"${executable.replace(/(["`$\\])/g, '\\$1')}"`;
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Outpost',
    "Comment=Store connector: sends the tills' sales to head office",
    `Exec=${quoted} ${HIDDEN_ARG}`,
    'X-GNOME-Autostart-enabled=true',
    'NoDisplay=true',
    '',
  ].join('\n');
}

/**
 * Starts the app at login (or stops doing so). Windows and macOS keep the setting themselves; Linux
 * desktops read ~/.config/autostart, which Electron does not manage.
 */
export function applyStartAtLogin(enabled: boolean, env: LoginItemEnvironment): void {
  if (env.platform === 'win32' || env.platform === 'darwin') {
    app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_ARG] });
    return;
  }
  const dir = path.join(env.home, '.config', 'autostart');
  const file = path.join(dir, 'outpost.desktop');
  if (enabled) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, autostartEntry(env.executable));
  } else {
    rmSync(file, { force: true });
  }
}
