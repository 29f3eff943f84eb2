import type Database from 'better-sqlite3';
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
import type { ChainTillDay, StoreDayRecord, StoreDayVerdict, UnconfirmedDays } from './hub-store.js';
import type { SqliteStatements } from './sqlite-statements.js';

/** Head office's transactions of one till and day (the ids a close is compared with). */
const HELD_IDS = `SELECT transaction_id FROM hub_events
  WHERE store_id = ? AND business_day = ? AND terminal_id = ? AND status = 'stored' AND type IN ('sale', 'return', 'void')`;

/** The business-day tables of the embedded hub database (hub-migrations.ts, migration 4). */
export class SqliteDayStore {
  constructor(
    private readonly db: Database.Database,
    private readonly sql: SqliteStatements,
  ) {}

  private prepare(sql: string): Database.Statement {
    return this.sql.get(sql);
  }

  /**
   * Inside the ingest transaction: adds the batch's stored transactions to their tills' day tallies,
   * takes in its closes, and judges again every touched till-day that has a close. Returns the verdicts
   * that changed (to publish after the commit).
   */
  applyBatch(
    storeId: string,
    inserts: readonly RowToInsert[],
    epoch: string,
    receivedAt: number,
  ): DayResult[] {
    const changes = dayChanges(inserts);
    if (changes.touched.length === 0) return [];
    const tally = this.prepare(
      `INSERT INTO hub_day_tallies (store_id, business_day, terminal_id, type, currency, count, amount)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, business_day, terminal_id, type, currency)
       DO UPDATE SET count = count + excluded.count, amount = amount + excluded.amount`,
    );
    for (const t of changes.tallies)
      tally.run(storeId, t.businessDay, t.terminalId, t.type, t.currency, t.count, t.amount);
    const open = this.prepare(
      `INSERT INTO hub_days (store_id, business_day, terminal_id, state) VALUES (?, ?, ?, 'not-closed')
       ON CONFLICT DO NOTHING`,
    );
    const read = this.prepare(
      'SELECT * FROM hub_days WHERE store_id = ? AND business_day = ? AND terminal_id = ?',
    );
    const stored = new Map<string, StoredTillDay>();
    for (const d of changes.touched) {
      open.run(storeId, d.businessDay, d.terminalId);
      stored.set(
        tillDayKey(d),
        toStoredTillDay(read.get(storeId, d.businessDay, d.terminalId) as TillDayRow),
      );
    }
    const at = new Date(receivedAt).toISOString();
    const results: DayResult[] = [];
    const save = this.prepare(
      `UPDATE hub_days SET state = ?, close_epoch = ?, close_seq = ?, close_event_id = ?, closed_at = ?,
         differences = ?, judged_at = ?, sent_at = NULL
       WHERE store_id = ? AND business_day = ? AND terminal_id = ?`,
    );
    for (const plan of planTillDays(changes.touched, stored, changes.closes)) {
      const row = stored.get(tillDayKey(plan))!;
      const inForce = plan.newClose
        ? {
            epoch,
            seq: plan.newClose.seq,
            eventId: plan.newClose.eventId,
            closedAt: plan.newClose.close.closedAt,
          }
        : row.close;
      if (!inForce) continue;
      const close = plan.newClose?.close ?? storedClose(this.closeBody(storeId, inForce.epoch, inForce.seq));
      const held = {
        totals: this.tallies(storeId, plan.businessDay, plan.terminalId),
        transactionIds: this.sql.pluck(HELD_IDS).all(storeId, plan.businessDay, plan.terminalId) as string[],
      };
      const { result, changed } = rejudge(close, held, row.verdict, at);
      if (!changed && !plan.newClose) continue;
      save.run(
        result.state,
        inForce.epoch,
        inForce.seq,
        inForce.eventId,
        inForce.closedAt,
        JSON.stringify(result.differences),
        receivedAt,
        storeId,
        plan.businessDay,
        plan.terminalId,
      );
      results.push(result);
    }
    return results;
  }

  private closeBody(storeId: string, epoch: string, seq: number): string {
    return this.sql
      .pluck('SELECT body FROM hub_events WHERE store_id = ? AND epoch = ? AND seq = ?')
      .get(storeId, epoch, seq) as string;
  }

  private tallies(storeId: string, businessDay: string, terminalId: string) {
    return (
      this.prepare(
        `SELECT terminal_id, type, currency, count, amount FROM hub_day_tallies
         WHERE store_id = ? AND business_day = ? AND terminal_id = ?`,
      ).all(storeId, businessDay, terminalId) as TallyRow[]
    ).map((t) => ({ type: t.type, currency: t.currency, count: Number(t.count), amount: Number(t.amount) }));
  }

  storeDay(storeId: string, businessDay: string): StoreDayRecord {
    const days = this.prepare('SELECT * FROM hub_days WHERE store_id = ? AND business_day = ?').all(
      storeId,
      businessDay,
    ) as TillDayRow[];
    const tallies = this.prepare(
      `SELECT terminal_id, type, currency, count, amount FROM hub_day_tallies
       WHERE store_id = ? AND business_day = ? ORDER BY terminal_id, type, currency`,
    ).all(storeId, businessDay) as TallyRow[];
    const closes = this.prepare(
      `SELECT terminal_id, epoch, seq, event_id, received_at, body FROM hub_events
       WHERE store_id = ? AND business_day = ? AND type = 'day-close' AND status = 'stored'
       ORDER BY received_at, epoch, seq`,
    ).all(storeId, businessDay) as CloseEventRow[];
    return toStoreDayRecord(storeId, businessDay, days, tallies, closes);
  }

  chainDay(businessDay: string): ChainTillDay[] {
    return (
      this.prepare('SELECT store_id, terminal_id, state FROM hub_days WHERE business_day = ?').all(
        businessDay,
      ) as Pick<TillDayRow, 'store_id' | 'terminal_id' | 'state'>[]
    ).map((r) => ({ storeId: r.store_id, terminalId: r.terminal_id, state: r.state }));
  }

  unsentVerdicts(before: number, limit: number): StoreDayVerdict[] {
    return toStoreDayVerdicts(
      this.prepare(
        `SELECT * FROM hub_days WHERE sent_at IS NULL AND state != 'not-closed' AND judged_at < ?
         ORDER BY judged_at LIMIT ?`,
      ).all(before, limit) as TillDayRow[],
    );
  }

  recentVerdicts(storeId: string, since: number, limit: number): DayResult[] {
    return (
      this.prepare(
        `SELECT * FROM hub_days WHERE store_id = ? AND state != 'not-closed' AND judged_at >= ?
         ORDER BY judged_at DESC LIMIT ?`,
      ).all(storeId, since, limit) as TillDayRow[]
    ).flatMap((r) => toDayResult(r) ?? []);
  }

  markSent(storeId: string, results: readonly DayResult[], sentAt: number): void {
    const mark = this.prepare(
      `UPDATE hub_days SET sent_at = ? WHERE store_id = ? AND business_day = ? AND terminal_id = ? AND judged_at = ?`,
    );
    this.db.transaction(() => {
      for (const r of results) mark.run(sentAt, storeId, r.businessDay, r.terminalId, Date.parse(r.at));
    })();
  }

  unconfirmedDays(fromDay: string, toDay: string): UnconfirmedDays[] {
    return (
      this.prepare(
        `SELECT store_id, count(*) FILTER (WHERE worst = 2) AS mismatched, count(*) FILTER (WHERE worst = 1) AS not_closed
         FROM (SELECT store_id, business_day,
                 max(CASE state WHEN 'mismatch' THEN 2 WHEN 'not-closed' THEN 1 ELSE 0 END) AS worst
               FROM hub_days WHERE business_day >= ? AND business_day <= ? GROUP BY store_id, business_day)
         GROUP BY store_id ORDER BY store_id`,
      ).all(fromDay, toDay) as { store_id: string; mismatched: number; not_closed: number }[]
    ).map((r) => ({ storeId: r.store_id, mismatched: r.mismatched, notClosed: r.not_closed }));
  }
}
