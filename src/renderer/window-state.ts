import type { WindowMessage, WindowSnapshot } from '../contracts/window-api.js';

/**
 * Folds a live message into what the window shows. A snapshot older than the one shown is ignored: the
 * first read and the live stream race at start, and a late answer must not turn the clock back. An update
 * message (desktop app only) replaces just the update line.
 */
export function applyWindowMessage(
  current: WindowSnapshot | null,
  message: WindowMessage,
): WindowSnapshot | null {
  if (message.type === 'update')
    return current && { ...current, app: { ...current.app, update: message.update } };
  const next = message.snapshot;
  if (current && Date.parse(next.status.now) < Date.parse(current.status.now)) return current;
  return next;
}
