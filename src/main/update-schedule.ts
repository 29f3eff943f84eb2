/**
 * When the desktop app looks for updates and when it may install one unattended. Pure: times come in as
 * numbers, randomness as a value, so the schedule is unit-tested.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** "03:00" → minutes after midnight. */
export function parseTimeOfDay(value: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) throw new Error(`"${value}" is not a time of day (HH:MM, 24-hour)`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * Whether the PC's local time is inside the quiet window that starts at `quietHour` and lasts
 * `windowMinutes` (a window may run past midnight: 23:30 for 60 minutes ends at 00:30).
 */
export function inQuietWindow(localMinutesOfDay: number, quietHour: string, windowMinutes: number): boolean {
  const start = parseTimeOfDay(quietHour);
  const elapsed = (localMinutesOfDay - start + 24 * 60) % (24 * 60);
  return elapsed < windowMinutes;
}

/** Minutes after local midnight, as the PC's clock and time zone say. */
export function localMinutesOfDay(at: Date): number {
  return at.getHours() * 60 + at.getMinutes();
}

/**
 * Delay until the next update check: every `everyHours`, spread by up to a tenth of that so two thousand
 * stores switched on at 08:00 do not all ask the feed at the same minute. `random` is in [0, 1).
 */
export function nextCheckDelayMs(everyHours: number, random: number): number {
  const base = everyHours * HOUR_MS;
  return Math.round(base + base * 0.1 * random);
}

/** The first check waits a little after start, so the agent and the window come up first. */
export const FIRST_CHECK_DELAY_MS = 2 * MINUTE_MS;
/** How often, inside the quiet window, a ready update tries again to install. */
export const QUIET_WINDOW_TICK_MS = 5 * MINUTE_MS;
/** A commit finishes in milliseconds; an install held up by one asks again this soon. */
export const COMMIT_RETRY_MS = 2_000;
