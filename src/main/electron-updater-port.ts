import electronUpdater from 'electron-updater';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { UpdaterPort } from './update-controller.js';

/** electron-updater behind the shell's UpdaterPort. */
export function electronUpdaterPort(logger: Logger): UpdaterPort {
  const { autoUpdater } = electronUpdater;
  return {
    configure({ url, channel }) {
      autoUpdater.logger = {
        info: (message?: unknown) => logger.info(`updater: ${String(message)}`),
        warn: (message?: unknown) => logger.warn(`updater: ${String(message)}`),
        error: (message?: unknown) => logger.error(`updater: ${String(message)}`),
      };
      autoUpdater.autoDownload = true;
      // The shell decides when to install (decideInstall), never electron-updater on its own.
      autoUpdater.autoInstallOnAppQuit = false;
      autoUpdater.setFeedURL({ provider: 'generic', url, channel });
      autoUpdater.channel = channel;
      // Setting a channel allows downgrades; an older version cannot open an outbox a newer one migrated.
      autoUpdater.allowDowngrade = false;
    },
    check: () => autoUpdater.checkForUpdates(),
    quitAndInstall: () => autoUpdater.quitAndInstall(true, true),
    onEvent(listener) {
      autoUpdater.on('checking-for-update', () => listener({ type: 'checking' }));
      autoUpdater.on('update-available', (info) => listener({ type: 'available', version: info.version }));
      autoUpdater.on('update-not-available', () => listener({ type: 'not-available' }));
      autoUpdater.on('download-progress', (progress) =>
        listener({ type: 'progress', percent: progress.percent }),
      );
      autoUpdater.on('update-downloaded', (info) => listener({ type: 'downloaded', version: info.version }));
      autoUpdater.on('error', (error) => listener({ type: 'error', message: errorMessage(error) }));
    },
  };
}
