import type Database from 'better-sqlite3';
import type { DayDifferences, DayResult, ZTotal } from '../contracts/day-close.js';

/** One till's business day as this store knows it: the close in force here and head office's verdict. */
export interface TillDay {
  terminalId: string;
  businessDay: string;
  /** The close in force (latest closedAt captured here); null when only a verdict is held. */
  close: { closedAt: number; zNumber: string | null; totals: ZTotal[]; eventId: string | null } | null;
  /** Head office's latest verdict; null before the first. */
  verdict: {
    state: DayResult['state'];
    at: number;
    differences: DayDifferences;
    receivedAt: number;
    /** A later close was captured since: the verdict judged an earlier one. */
    stale: boolean;
  } | null;
}

interface TillDayRow {
  terminal_id: string;
  business_day: string;
  closed_at: number | null;
  z_number: string | null;
  totals: string | null;
  close_event_id: string | null;
  state: DayResult['state'] | null;
  judged_at: number | null;
  differences: string | null;
  received_at: number | null;
  verdict_stale: number;
}

export interface DayResults {
  /**
   * Keeps head office's verdict unless one judged later is held already (`at`): verdicts come again on
   * every reconnection and may cross each other. True when it was taken.
   */
  record(result: DayResult, receivedAt: number): boolean;
  /** The tills' days of the `days` most recent business days this store closed or was judged on, newest first. */
  recent(days: number): TillDay[];
}

export function prepareDayResults(db: Database.Database): DayResults {
  const stmt = {
    record: db.prepare<[string, string, string, number, string, number]>(
      `INSERT INTO till_days (terminal_id, business_day, state, judged_at, differences, received_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (terminal_id, business_day) DO UPDATE SET
         state = excluded.state, judged_at = excluded.judged_at, differences = excluded.differences,
         received_at = excluded.received_at, verdict_stale = 0
       WHERE till_days.judged_at IS NULL OR excluded.judged_at > till_days.judged_at`,
    ),
    recent: db.prepare<[number], TillDayRow>(
      `SELECT * FROM till_days
       WHERE business_day IN (SELECT DISTINCT business_day FROM till_days ORDER BY business_day DESC LIMIT ?)
       ORDER BY business_day DESC, terminal_id`,
    ),
  };
  return {
    record: (result, receivedAt) =>
      stmt.record.run(
        result.terminalId,
        result.businessDay,
        result.state,
        Date.parse(result.at),
        JSON.stringify(result.differences),
        receivedAt,
      ).changes > 0,
    recent: (days) => stmt.recent.all(days).map(tillDayOf),
  };
}

function tillDayOf(row: TillDayRow): TillDay {
  return {
    terminalId: row.terminal_id,
    businessDay: row.business_day,
    close:
      row.closed_at === null
        ? null
        : {
            closedAt: row.closed_at,
            zNumber: row.z_number,
            totals: JSON.parse(row.totals ?? '[]') as ZTotal[],
            eventId: row.close_event_id,
          },
    verdict:
      row.state === null || row.judged_at === null
        ? null
        : {
            state: row.state,
            at: row.judged_at,
            differences: JSON.parse(row.differences ?? '{}') as DayDifferences,
            receivedAt: row.received_at ?? row.judged_at,
            stale: row.verdict_stale === 1,
          },
  };
}
