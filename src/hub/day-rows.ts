import type { DayClose, DayDifferences, DayResult, ZTotal } from '../contracts/day-close.js';
import type { StoredTillDay } from './day-changes.js';
import type { DayCloseRecord, StoreDayRecord, StoreDayVerdict, TillDayState } from './hub-store.js';
import { isoFromMs } from './hub-rows.js';
import type { ResendRequestFacts } from './resend-rules.js';

/**
 * Rows of the day and resync tables as either database returns them (PostgreSQL gives BIGINT as
 * strings), and what both hub stores make of them.
 */
type Int = number | string;

export interface TillDayRow {
  store_id: string;
  business_day: string;
  terminal_id: string;
  state: TillDayState;
  close_epoch: string | null;
  close_seq: Int | null;
  close_event_id: string | null;
  closed_at: string | null;
  differences: string | null;
  judged_at: Int | null;
  sent_at: Int | null;
}

export interface TallyRow {
  terminal_id: string;
  type: ZTotal['type'];
  currency: string;
  count: Int;
  amount: Int;
}

export interface CloseEventRow {
  terminal_id: string;
  epoch: string;
  seq: Int;
  event_id: string;
  received_at: Int;
  body: string;
}

export interface ResendRow {
  store_id: string;
  epoch: string;
  from_seq: Int;
  request_id: string;
  acked_through: Int;
  first_asked_at: Int;
  last_asked_at: Int;
  asks: Int;
  reported_at: Int | null;
  available_from: Int | null;
  store_through: Int | null;
}

const intOrNull = (v: Int | null) => (v === null ? null : Number(v));

export function toStoredTillDay(r: TillDayRow): StoredTillDay {
  return {
    terminalId: r.terminal_id,
    businessDay: r.business_day,
    state: r.state,
    close:
      r.close_epoch !== null && r.close_seq !== null && r.close_event_id !== null && r.closed_at !== null
        ? { epoch: r.close_epoch, seq: Number(r.close_seq), eventId: r.close_event_id, closedAt: r.closed_at }
        : null,
    verdict:
      r.state === 'not-closed' || r.differences === null
        ? null
        : { state: r.state, differences: JSON.parse(r.differences) as DayDifferences },
  };
}

/** A judged till-day row as the verdict it holds (rows still `not-closed` hold none). */
export function toDayResult(r: TillDayRow): DayResult | undefined {
  if (r.state === 'not-closed' || r.differences === null || r.judged_at === null) return undefined;
  return {
    terminalId: r.terminal_id,
    businessDay: r.business_day,
    state: r.state,
    at: isoFromMs(r.judged_at)!,
    differences: JSON.parse(r.differences) as DayDifferences,
  };
}

export const toStoreDayVerdicts = (rows: readonly TillDayRow[]): StoreDayVerdict[] =>
  rows.flatMap((r) => {
    const result = toDayResult(r);
    return result ? [{ storeId: r.store_id, result }] : [];
  });

export const toResendFacts = (r: ResendRow): ResendRequestFacts => ({
  fromSeq: Number(r.from_seq),
  requestId: r.request_id,
  lastAskedAt: Number(r.last_asked_at),
  asks: Number(r.asks),
  reportedAt: intOrNull(r.reported_at),
  availableFrom: intOrNull(r.available_from),
  storeThrough: intOrNull(r.store_through),
});

/** The close's exact text, parsed: it was validated with dayCloseSchema when it was stored. */
export const storedClose = (bodyJson: string): DayClose => JSON.parse(bodyJson) as DayClose;

/** One store's business day from its till-day rows, tallies and close events. */
export function toStoreDayRecord(
  storeId: string,
  businessDay: string,
  days: readonly TillDayRow[],
  tallies: readonly TallyRow[],
  closes: readonly CloseEventRow[],
): StoreDayRecord {
  const history = new Map<string, DayCloseRecord[]>();
  for (const c of closes) {
    const record: DayCloseRecord = {
      epoch: c.epoch,
      seq: Number(c.seq),
      eventId: c.event_id,
      closedAt: storedClose(c.body).closedAt,
      receivedAt: isoFromMs(c.received_at)!,
      bodyJson: c.body,
    };
    history.set(c.terminal_id, [...(history.get(c.terminal_id) ?? []), record]);
  }
  return {
    storeId,
    businessDay,
    tills: [...days]
      .sort((a, b) => (a.terminal_id < b.terminal_id ? -1 : a.terminal_id > b.terminal_id ? 1 : 0))
      .map((d) => {
        const closesOfTill = history.get(d.terminal_id) ?? [];
        return {
          terminalId: d.terminal_id,
          state: d.state,
          headOffice: tallies
            .filter((t) => t.terminal_id === d.terminal_id)
            .map((t) => ({
              type: t.type,
              currency: t.currency,
              count: Number(t.count),
              amount: Number(t.amount),
            })),
          close: closesOfTill.find((c) => c.eventId === d.close_event_id) ?? null,
          history: closesOfTill,
          differences: d.differences === null ? null : (JSON.parse(d.differences) as DayDifferences),
          judgedAt: isoFromMs(d.judged_at),
        };
      }),
  };
}
