import type { IncomingEvent } from './hub-store.js';

/**
 * Where an event row is filed in PostgreSQL's month partitions of hub_events (hub-migrations.ts,
 * migration 6), and which months exist, are kept or may go. Pure: the SQL that acts on it lives in
 * postgres-partitions.ts.
 *
 * A row is filed under its business day when it is a valid event naming one (a sale, return, void or a
 * till's close), else under the UTC day it was captured (promotion records, refused events), else (a
 * `moved` row, which carries neither) the day head office received it. The same event always gets the
 * same day: its body and capture time travel with it, so a redelivery, or the same event re-sent under
 * another epoch, is looked for in the one month it can be filed under.
 */

const DAY = /^\d{4}-\d{2}-\d{2}$/;

const checkedDays = new Map<string, boolean>();

/** A real calendar date in the form YYYY-MM-DD (the check the transaction schema makes of businessDay). */
export function isCalendarDay(day: string): boolean {
  // Every event of a batch asks, and a batch names a few days at most: remembered (a bounded few).
  let real = checkedDays.get(day);
  if (real === undefined) {
    real =
      DAY.test(day) &&
      !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) &&
      new Date(`${day}T00:00:00Z`).toISOString().startsWith(day);
    if (checkedDays.size >= 1000) checkedDays.clear();
    checkedDays.set(day, real);
  }
  return real;
}

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The day an incoming event is filed under. */
export function filedOn(event: IncomingEvent, receivedAt: number): string {
  if (event.invalidReason === undefined && event.businessDay && isCalendarDay(event.businessDay))
    return event.businessDay;
  const captured = Date.parse(event.capturedAt);
  return utcDay(Number.isNaN(captured) ? receivedAt : captured);
}

export interface BatchFiling {
  /** Per event, the day it is filed under. */
  filedOn: string[];
  /** Per event, the index into `months` of the partitions its lookups search. */
  range: number[];
  months: { from: string; to: string }[];
}

/**
 * Where ingest files a batch's events and where it looks for an earlier copy of each: that copy is filed
 * under the same day (same event, same body, same capture time), so in the same month. A refused event's
 * names cannot be trusted to be its copy's (a withheld marker carries no body): it is looked for in every
 * month (the range at index 0).
 */
export function batchFiling(events: readonly IncomingEvent[], receivedAt: number): BatchFiling {
  const months = [{ from: '-infinity', to: 'infinity' }];
  const indexOf = new Map<string, number>();
  const filed = events.map((e) => filedOn(e, receivedAt));
  const range = events.map((e, i) => {
    if (e.invalidReason !== undefined) return 0;
    const month = monthOf(filed[i]!);
    let index = indexOf.get(month);
    if (index === undefined) {
      index = months.push({ from: month, to: nextMonth(month) }) - 1;
      indexOf.set(month, index);
    }
    return index;
  });
  return { filedOn: filed, range, months };
}

/** The day a `moved` row (it names only the event and its new place) is filed under. */
export const movedFiledOn = (receivedAt: number): string => utcDay(receivedAt);

/** First day of the month of `day` (YYYY-MM-01). */
export const monthOf = (day: string): string => `${day.slice(0, 7)}-01`;

/** First day of the month after the month starting at `month`. */
export function nextMonth(month: string): string {
  const year = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return m === 12 ? `${year + 1}-01-01` : `${year}-${String(m + 1).padStart(2, '0')}-01`;
}

/** The month `count` months before (negative: after) the month starting at `month`. */
export function monthsBefore(month: string, count: number): string {
  const index = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 - count;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-01`;
}

/** The partition of hub_events holding the month starting at `month`. */
export const partitionName = (month: string): string =>
  `hub_events_${month.slice(0, 4)}_${month.slice(5, 7)}`;

/** The month a partition name stands for, or undefined for any other table (the default partition). */
export function monthOfPartition(name: string): string | undefined {
  const match = /^hub_events_(\d{4})_(\d{2})$/.exec(name);
  return match ? `${match[1]}-${match[2]}-01` : undefined;
}

/**
 * Months that must have a partition now: from the current month `ahead` months on (business days and
 * capture times run slightly ahead of head office's clock at most; a row beyond lands in the default
 * partition and moves into its month's partition when that is made).
 */
export function monthsAhead(now: number, ahead: number): string[] {
  const current = monthOf(utcDay(now));
  return Array.from({ length: ahead + 1 }, (_, i) => monthsBefore(current, -i));
}

/**
 * Partitions old enough to drop under `db.retentionMonths`: months ending before the `retentionMonths`
 * whole months that precede the current one. Whether one is actually dropped is decided under its lock,
 * against what still needs its rows (postgres-partitions.ts).
 */
export function monthsPastRetention(
  existing: readonly string[],
  now: number,
  retentionMonths: number,
): string[] {
  const oldestKept = monthsBefore(monthOf(utcDay(now)), retentionMonths);
  return existing.filter((month) => month < oldestKept).sort();
}
