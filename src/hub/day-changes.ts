import type { DayClose, DayResult, ZTotal } from '../contracts/day-close.js';
import type { RowToInsert } from './classify-events.js';
import { isLaterClose, judgeDayClose, sameVerdict, type HeldDay } from './day-verdict.js';
import type { TillDayState } from './hub-store.js';

/** One till's business day. */
export interface TillDay {
  terminalId: string;
  businessDay: string;
}

/** What a batch adds to one (till, day, type, currency) tally. */
export interface TallyDelta extends TillDay, ZTotal {}

/** A close stored by this batch, with where it lives in hub_events. */
export interface IncomingClose {
  seq: number;
  eventId: string;
  close: DayClose;
}

/** What a batch changes in its store's business days, read from the rows it stores. */
export interface DayChanges {
  /** Sorted by key, so that concurrent writers lock tally rows in the same order. */
  tallies: TallyDelta[];
  /** Closes this batch stores, in seq order. */
  closes: IncomingClose[];
  /** Every till and day a stored transaction or close belongs to, sorted. */
  touched: TillDay[];
}

export const tillDayKey = (d: TillDay) => `${d.businessDay}\u0000${d.terminalId}`;

/**
 * Only rows stored as `stored` count: a duplicate, quarantined or rejected event is not a transaction
 * head office holds (twice), and the tally must equal what the export would list.
 */
export function dayChanges(inserts: readonly RowToInsert[]): DayChanges {
  const tallies = new Map<string, TallyDelta>();
  const touched = new Map<string, TillDay>();
  const closes: IncomingClose[] = [];
  for (const { event, status } of inserts) {
    if (status !== 'stored') continue;
    if (event.tally && event.terminalId && event.businessDay) {
      const { terminalId, businessDay } = event;
      // Once per event of every batch: one key string, and the maps touched only when new.
      const day = tillDayKey({ terminalId, businessDay });
      const key = `${day}\u0000${event.tally.type}\u0000${event.tally.currency}`;
      let row = tallies.get(key);
      if (!row) {
        row = {
          terminalId,
          businessDay,
          type: event.tally.type,
          currency: event.tally.currency,
          count: 0,
          amount: 0,
        };
        tallies.set(key, row);
      }
      row.count++;
      row.amount += event.tally.amount;
      if (!touched.has(day)) touched.set(day, { terminalId, businessDay });
    }
    if (event.dayClose) {
      const { terminalId, businessDay } = event.dayClose;
      closes.push({ seq: event.seq, eventId: event.eventId, close: event.dayClose });
      touched.set(tillDayKey({ terminalId, businessDay }), { terminalId, businessDay });
    }
  }
  const byKey = <T>(m: Map<string, T>) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return { tallies: byKey(tallies), closes: closes.sort((a, b) => a.seq - b.seq), touched: byKey(touched) };
}

/** A till-day row as both stores read it back (hub_days). */
export interface StoredTillDay extends TillDay {
  state: TillDayState;
  close: { epoch: string; seq: number; eventId: string; closedAt: string } | null;
  verdict: Pick<DayResult, 'state' | 'differences'> | null;
}

/** What the batch does to one till-day row: the close in force afterwards, if it changed. */
export interface TillDayPlan extends TillDay {
  /** A close of this batch that takes over (the first of the day, or a later correction). */
  newClose: IncomingClose | undefined;
}

/**
 * For each touched till-day: which close is in force after this batch. A corrected Z-report (later
 * closedAt) replaces the close in force; an older one arriving late is kept in history only.
 */
export function planTillDays(
  touched: readonly TillDay[],
  stored: ReadonlyMap<string, StoredTillDay>,
  closes: readonly IncomingClose[],
): TillDayPlan[] {
  return touched.map((day) => {
    let current: { closedAt: string; eventId: string } | null = stored.get(tillDayKey(day))?.close ?? null;
    let newClose: IncomingClose | undefined;
    for (const incoming of closes) {
      if (tillDayKey(incoming.close) !== tillDayKey(day)) continue;
      const candidate = { closedAt: incoming.close.closedAt, eventId: incoming.eventId };
      if (current === null || isLaterClose(candidate, current)) {
        current = candidate;
        newClose = incoming;
      }
    }
    return { ...day, newClose };
  });
}

/**
 * Judges a till-day's close in force against what head office now holds, and says whether the verdict
 * changed (only then is it stored again and published).
 */
export function rejudge(
  close: DayClose,
  held: HeldDay,
  previous: StoredTillDay['verdict'],
  at: string,
): { result: DayResult; changed: boolean } {
  const result = judgeDayClose(close, held, at);
  return { result, changed: previous === null || !sameVerdict(previous, result) };
}
