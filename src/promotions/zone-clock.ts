import { IANAZone } from 'luxon';

/**
 * Conversions between instants and wall-clock readings in one IANA time zone. A "wall" time is the
 * reading of the store's clock written as if it were UTC milliseconds (2026-03-29T02:30 on the wall is
 * Date.UTC(2026, 2, 29, 2, 30)), so wall times compare and add like numbers.
 *
 * Turning a wall time into an instant follows one rule, so a window is always one stretch of real time:
 * the instant at which the clock first shows that time or later. A time that occurs twice (the hour
 * repeated in autumn) is taken at its first occurrence; a time that never occurs (the hour skipped in
 * spring) is taken as the instant the clocks jump forward.
 */
export interface ZoneClock {
  readonly timeZone: string;
  /** The zone's offset from UTC at an instant, in milliseconds. */
  offsetAt(instant: number): number;
  toWall(instant: number): number;
  toInstant(wall: number): number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Memo bounds: plenty for a catalogue's boundaries, and a long-running agent cannot grow them forever. */
const MAX_MEMO = 50_000;

export function createZoneClock(timeZone: string): ZoneClock {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new RangeError(`unknown time zone "${timeZone}"`);
  // Offsets are looked up once per hour of UTC: when both ends of the hour agree, so does every instant in
  // it (zones change offset at most once in an hour); otherwise the exact instant is asked.
  const hourOffsets = new Map<number, number | null>();
  const exactOffset = (instant: number) => zone.offset(instant) * MINUTE;
  const offsetAt = (instant: number): number => {
    const hour = Math.floor(instant / HOUR);
    let known = hourOffsets.get(hour);
    if (known === undefined) {
      const start = exactOffset(hour * HOUR);
      known = start === exactOffset((hour + 1) * HOUR - 1) ? start : null;
      if (hourOffsets.size >= MAX_MEMO) hourOffsets.clear();
      hourOffsets.set(hour, known);
    }
    return known ?? exactOffset(instant);
  };
  const toWall = (instant: number) => instant + offsetAt(instant);

  const instants = new Map<number, number>();
  const resolve = (wall: number): number => {
    const around = [...new Set([offsetAt(wall - DAY), offsetAt(wall + DAY), offsetAt(wall)])];
    const exact = around.map((offset) => wall - offset).filter((instant) => toWall(instant) === wall);
    if (exact.length > 0) return Math.min(...exact);
    // In a gap: the clock reads less than `wall` before the jump and more after it; find the jump.
    let lo = wall - Math.max(...around);
    let hi = wall - Math.min(...around);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (toWall(mid) >= wall) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  const toInstant = (wall: number): number => {
    let instant = instants.get(wall);
    if (instant === undefined) {
      instant = resolve(wall);
      if (instants.size >= MAX_MEMO) instants.clear();
      instants.set(wall, instant);
    }
    return instant;
  };
  return { timeZone, offsetAt, toWall, toInstant };
}
