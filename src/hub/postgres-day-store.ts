import type pg from 'pg';
import type { DayResult } from '../contracts/day-close.js';
import type { RowToInsert } from './classify-events.js';
import { dayChanges, planTillDays, rejudge, tillDayKey, type StoredTillDay } from './day-changes.js';
import {
  storedClose,
  toDayResult,
  toStoreDayRecord,
  toStoredTillDay,
  toStoreDayVerdicts,
  type CloseEventRow,
  type TallyRow,
  type TillDayRow,
} from './day-rows.js';
import { isCalendarDay } from './event-filing.js';
import type { ChainTillDay, StoreDayRecord, StoreDayVerdict, UnconfirmedDays } from './hub-store.js';

/**
 * Inside the ingest transaction, after the store's hub_stores row is locked (so that two hubs committing
 * two epochs of one store judge its days one after the other, the second seeing the first's rows): adds
 * the batch's stored transactions to their tills' day tallies, takes in its closes, and judges again every
 * touched till-day that has a close. Returns the verdicts that changed, to publish after the commit.
 */
export async function writeDaysPostgres(
  c: pg.PoolClient,
  storeId: string,
  inserts: readonly RowToInsert[],
  epoch: string,
  receivedAt: number,
): Promise<DayResult[]> {
  const changes = dayChanges(inserts);
  if (changes.touched.length === 0) return [];
  // One round trip: the tallies grow, each touched till-day gets its row if new, and all of them are read
  // back. The final SELECT sees the table as the statement began, so rows this statement opened come from
  // `opened` and the others from the table. Tally rows go in key order (dayChanges sorts them), so
  // concurrent writers lock them in the same order.
  const { rows } = await c.query<TillDayRow>({
    name: 'outpost-days-of-batch',
    text: `WITH tallied AS (
        INSERT INTO hub_day_tallies (store_id, business_day, terminal_id, type, currency, count, amount)
        SELECT $1::text, t.business_day, t.terminal_id, t.type, t.currency, t.count, t.amount
        FROM json_to_recordset($2::json) AS t(business_day text, terminal_id text, type text, currency text,
          count bigint, amount bigint)
        ON CONFLICT (store_id, business_day, terminal_id, type, currency) DO UPDATE SET
          count = hub_day_tallies.count + excluded.count, amount = hub_day_tallies.amount + excluded.amount),
      opened AS (
        INSERT INTO hub_days (store_id, business_day, terminal_id, state)
        SELECT $1::text, d.business_day, d.terminal_id, 'not-closed'
        FROM unnest($3::text[], $4::text[]) AS d(business_day, terminal_id)
        ON CONFLICT DO NOTHING RETURNING *)
      SELECT * FROM opened
      UNION ALL
      SELECT h.* FROM unnest($3::text[], $4::text[]) AS d(business_day, terminal_id)
      JOIN hub_days h ON h.store_id = $1 AND h.business_day = d.business_day AND h.terminal_id = d.terminal_id`,
    values: [
      storeId,
      JSON.stringify(
        changes.tallies.map((t) => ({
          business_day: t.businessDay,
          terminal_id: t.terminalId,
          type: t.type,
          currency: t.currency,
          count: t.count,
          amount: t.amount,
        })),
      ),
      changes.touched.map((d) => d.businessDay),
      changes.touched.map((d) => d.terminalId),
    ],
  });
  const stored = new Map<string, StoredTillDay>(
    rows.map((r) => [tillDayKey(toStoredTillDay(r)), toStoredTillDay(r)]),
  );
  const at = new Date(receivedAt).toISOString();
  const results: DayResult[] = [];
  for (const plan of planTillDays(changes.touched, stored, changes.closes)) {
    const row = stored.get(tillDayKey(plan));
    if (!row) continue;
    const inForce = plan.newClose
      ? {
          epoch,
          seq: plan.newClose.seq,
          eventId: plan.newClose.eventId,
          closedAt: plan.newClose.close.closedAt,
        }
      : row.close;
    if (!inForce) continue;
    let close = plan.newClose?.close;
    if (!close) {
      const body = await c.query<{ body: string }>(
        'SELECT body FROM hub_events WHERE store_id = $1 AND epoch = $2 AND seq = $3',
        [storeId, inForce.epoch, inForce.seq],
      );
      close = storedClose(body.rows[0]!.body);
    }
    const held = await heldDay(c, storeId, plan.businessDay, plan.terminalId);
    const { result, changed } = rejudge(close, held, row.verdict, at);
    if (!changed && !plan.newClose) continue;
    await c.query(
      `UPDATE hub_days SET state = $4, close_epoch = $5, close_seq = $6, close_event_id = $7, closed_at = $8,
         differences = $9, judged_at = $10, sent_at = NULL
       WHERE store_id = $1 AND business_day = $2 AND terminal_id = $3`,
      [
        storeId,
        plan.businessDay,
        plan.terminalId,
        result.state,
        inForce.epoch,
        inForce.seq,
        inForce.eventId,
        inForce.closedAt,
        JSON.stringify(result.differences),
        receivedAt,
      ],
    );
    results.push(result);
  }
  return results;
}

async function heldDay(c: pg.PoolClient, storeId: string, businessDay: string, terminalId: string) {
  const tallies = await c.query<TallyRow>(
    `SELECT terminal_id, type, currency, count, amount FROM hub_day_tallies
     WHERE store_id = $1 AND business_day = $2 AND terminal_id = $3`,
    [storeId, businessDay, terminalId],
  );
  // A stored row is filed under its business day (event-filing.ts): the day's month partition alone.
  const ids = await c.query<{ transaction_id: string }>(
    `SELECT transaction_id FROM hub_events
     WHERE store_id = $1 AND business_day = $2 AND terminal_id = $3 AND status = 'stored'
       AND type IN ('sale', 'return', 'void') AND filed_on = $2::date`,
    [storeId, businessDay, terminalId],
  );
  return {
    totals: tallies.rows.map((t) => ({
      type: t.type,
      currency: t.currency,
      count: Number(t.count),
      amount: Number(t.amount),
    })),
    transactionIds: ids.rows.map((r) => r.transaction_id),
  };
}

/** The business-day reads and verdict bookkeeping of the production hub database. */
export class PostgresDayStore {
  constructor(private readonly pool: pg.Pool) {}

  async storeDay(storeId: string, businessDay: string): Promise<StoreDayRecord> {
    const [days, tallies, closes] = await Promise.all([
      this.pool.query<TillDayRow>('SELECT * FROM hub_days WHERE store_id = $1 AND business_day = $2', [
        storeId,
        businessDay,
      ]),
      this.pool.query<TallyRow>(
        `SELECT terminal_id, type, currency, count, amount FROM hub_day_tallies
         WHERE store_id = $1 AND business_day = $2 ORDER BY terminal_id, type, currency`,
        [storeId, businessDay],
      ),
      // Filed under their business day (event-filing.ts); a day that is no date has no rows at all.
      isCalendarDay(businessDay)
        ? this.pool.query<CloseEventRow>(
            `SELECT terminal_id, epoch, seq, event_id, received_at, body FROM hub_events
             WHERE store_id = $1 AND business_day = $2 AND type = 'day-close' AND status = 'stored'
               AND filed_on = $2::date
             ORDER BY received_at, epoch, seq`,
            [storeId, businessDay],
          )
        : { rows: [] as CloseEventRow[] },
    ]);
    return toStoreDayRecord(storeId, businessDay, days.rows, tallies.rows, closes.rows);
  }

  async chainDay(businessDay: string): Promise<ChainTillDay[]> {
    const { rows } = await this.pool.query<Pick<TillDayRow, 'store_id' | 'terminal_id' | 'state'>>(
      'SELECT store_id, terminal_id, state FROM hub_days WHERE business_day = $1',
      [businessDay],
    );
    return rows.map((r) => ({ storeId: r.store_id, terminalId: r.terminal_id, state: r.state }));
  }

  async unsentVerdicts(before: number, limit: number): Promise<StoreDayVerdict[]> {
    const { rows } = await this.pool.query<TillDayRow>(
      `SELECT * FROM hub_days WHERE sent_at IS NULL AND state != 'not-closed' AND judged_at < $1
       ORDER BY judged_at LIMIT $2`,
      [before, limit],
    );
    return toStoreDayVerdicts(rows);
  }

  async recentVerdicts(storeId: string, since: number, limit: number): Promise<DayResult[]> {
    const { rows } = await this.pool.query<TillDayRow>(
      `SELECT * FROM hub_days WHERE store_id = $1 AND state != 'not-closed' AND judged_at >= $2
       ORDER BY judged_at DESC LIMIT $3`,
      [storeId, since, limit],
    );
    return rows.flatMap((r) => toDayResult(r) ?? []);
  }

  async markSent(storeId: string, results: readonly DayResult[], sentAt: number): Promise<void> {
    if (results.length === 0) return;
    await this.pool.query(
      `UPDATE hub_days h SET sent_at = $2 FROM unnest($3::text[], $4::text[], $5::bigint[]) AS r(business_day, terminal_id, judged_at)
       WHERE h.store_id = $1 AND h.business_day = r.business_day AND h.terminal_id = r.terminal_id
         AND h.judged_at = r.judged_at`,
      [
        storeId,
        sentAt,
        results.map((r) => r.businessDay),
        results.map((r) => r.terminalId),
        results.map((r) => Date.parse(r.at)),
      ],
    );
  }

  async unconfirmedDays(fromDay: string, toDay: string): Promise<UnconfirmedDays[]> {
    const { rows } = await this.pool.query<{ store_id: string; mismatched: string; not_closed: string }>(
      `SELECT store_id, count(*) FILTER (WHERE worst = 2) AS mismatched, count(*) FILTER (WHERE worst = 1) AS not_closed
       FROM (SELECT store_id, business_day,
               max(CASE state WHEN 'mismatch' THEN 2 WHEN 'not-closed' THEN 1 ELSE 0 END) AS worst
             FROM hub_days WHERE business_day >= $1 AND business_day <= $2 GROUP BY store_id, business_day) d
       GROUP BY store_id ORDER BY store_id`,
      [fromDay, toDay],
    );
    return rows.map((r) => ({
      storeId: r.store_id,
      mismatched: Number(r.mismatched),
      notClosed: Number(r.not_closed),
    }));
  }
}
