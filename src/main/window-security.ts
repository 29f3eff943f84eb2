import { app, session, type Session, type WebContents, type WebPreferences } from 'electron';
import type { Logger } from '../lib/logger.js';
import { isAppUrl } from './app-protocol.js';

/**
 * Electron's security checklist, in one place: the window's web preferences, what every web contents may
 * not do (navigate, open windows, attach webviews), and what the session refuses (permissions, any request
 * that is not the app's own files). https://www.electronjs.org/docs/latest/tutorial/security
 */

export function secureWebPreferences(preload: string, options: { devTools: boolean }): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: options.devTools,
  };
}

/** The page may load its own files and the developer tools; nothing from the network or the disk. */
export function isAllowedRequest(url: string): boolean {
  return isAppUrl(url) || url.startsWith('devtools://');
}

/** Navigation, new windows and webviews are all refused: the window is one page that never leaves itself. */
export function hardenWebContents(contents: WebContents, logger: Logger): void {
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    logger.warn('window navigation blocked', { url });
  });
  contents.on('will-redirect', (event, url) => {
    event.preventDefault();
    logger.warn('window redirect blocked', { url });
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    logger.warn('webview blocked');
  });
  contents.setWindowOpenHandler(({ url }) => {
    logger.warn('window.open blocked', { url });
    return { action: 'deny' };
  });
}

/** Every permission (camera, notifications, USB, …) is denied, and no request leaves the app's files. */
export function hardenSession(target: Session, logger: Logger): void {
  target.setPermissionRequestHandler((_contents, permission, callback) => {
    logger.warn('permission request denied', { permission });
    callback(false);
  });
  target.setPermissionCheckHandler(() => false);
  target.setDevicePermissionHandler(() => false);
  target.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequest(details.url);
    if (!allowed) logger.warn('request blocked', { url: details.url });
    callback({ cancel: !allowed });
  });
}

/** Applies the checklist app-wide: to the default session and to every web contents ever created. */
export function hardenApp(logger: Logger): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, logger));
  app.whenReady().then(
    () => hardenSession(session.defaultSession, logger),
    () => {},
  );
}
