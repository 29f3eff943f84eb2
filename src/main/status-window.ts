import { BrowserWindow } from 'electron';
import type { Logger } from '../lib/logger.js';
import { APP_ENTRY_URL } from './app-protocol.js';
import { shellText } from './shell-text.js';
import { secureWebPreferences } from './window-security.js';

export interface StatusWindowOptions {
  preload: string;
  icon?: string;
  devTools: boolean;
  /** Whether the app is quitting: only then does closing the window really close it. */
  quitting: () => boolean;
  logger: Logger;
}

/**
 * The store manager's window. Closing it hides it: the agent keeps serving the tills and the tray stays;
 * only Quit (or the system shutting down) ends the app.
 */
export function createStatusWindow(options: StatusWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    title: shellText.appName,
    width: 1100,
    height: 860,
    minWidth: 480,
    minHeight: 400,
    show: false,
    autoHideMenuBar: true,
    backgroundColor: '#f9fafb',
    ...(options.icon ? { icon: options.icon } : {}),
    webPreferences: secureWebPreferences(options.preload, { devTools: options.devTools }),
  });
  window.removeMenu();
  window.on('close', (event) => {
    if (options.quitting()) return;
    event.preventDefault();
    window.hide();
  });
  window.webContents.on('render-process-gone', (_event, details) => {
    options.logger.warn('status window renderer gone; reloading', { reason: details.reason });
    if (!window.isDestroyed()) void window.loadURL(APP_ENTRY_URL);
  });
  void window.loadURL(APP_ENTRY_URL);
  return window;
}

/** Brings the window to the front (from the tray, or when a second instance was started). */
export function showStatusWindow(window: BrowserWindow): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}
