import { app } from 'electron';

/**
 * One Outpost per PC session: a second copy would try to open the same outbox and port. The second copy
 * hands over to the first (which shows its window) and quits. Returns false in that second copy.
 */
export function claimSingleInstance(onSecondInstance: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => onSecondInstance());
  return true;
}
