import type { WindowLinkState, WindowSnapshot } from '../contracts/window-api.js';
import type { Rgb } from './icon-image.js';

/** The tray icon's four colours: what the manager sees in the corner of the screen without opening anything. */
export type TrayState = 'ok' | 'attention' | 'problem' | 'unknown';

export const TRAY_COLOURS: Record<TrayState, Rgb> = {
  ok: [22, 163, 74],
  attention: [217, 119, 6],
  problem: [220, 38, 38],
  unknown: [107, 114, 128],
};

/**
 * Red when tills cannot save or head office refuses the store; amber when the store is offline, sales
 * wait too long, or anything asks for a look (dead letters, warnings); green otherwise; grey while the
 * agent is not running. Pure, and unit-tested.
 */
export function trayStateOf(snapshot: WindowSnapshot | null, link: WindowLinkState): TrayState {
  if (!snapshot || link === 'lost') return 'unknown';
  const { status } = snapshot;
  if (status.capture.state === 'unavailable' || status.problems.some((p) => p.severity === 'critical'))
    return 'problem';
  if (
    status.connection.state === 'offline' ||
    status.connection.state === 'not-configured' ||
    status.deadLetters.count > 0 ||
    status.problems.some((p) => p.severity === 'warning')
  )
    return 'attention';
  return 'ok';
}
