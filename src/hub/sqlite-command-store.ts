import type Database from 'better-sqlite3';
import {
  toCommandRow,
  toDeadLetterRow,
  type CommandDbRow,
  type CommandSettlement,
  type CommandStore,
  type DeadLetterDbRow,
  type NewStoreCommand,
  type StoreCommandRow,
} from './command-store.js';

/** Refused events with the stored copy of the same event, if a retry made one (one at most: unique index). */
const DEAD_LETTERS = `
  SELECT r.epoch, r.seq, r.event_id, r.type, r.terminal_id, r.transaction_id, r.reason, r.received_at,
         s.epoch AS stored_epoch, s.seq AS stored_seq
  FROM hub_events r LEFT JOIN hub_events s ON s.event_id = r.event_id AND s.status = 'stored'
  WHERE r.store_id = ? AND r.status = 'rejected'
  ORDER BY r.received_at DESC, r.epoch, r.seq DESC LIMIT ?`;

const OPEN_DEAD_LETTERS = `
  SELECT r.store_id, count(DISTINCT r.event_id) AS open FROM hub_events r
  WHERE r.status = 'rejected'
    AND NOT EXISTS (SELECT 1 FROM hub_events s WHERE s.event_id = r.event_id AND s.status = 'stored')
    AND NOT EXISTS (SELECT 1 FROM hub_store_commands c WHERE c.store_id = r.store_id AND c.event_id = r.event_id
                      AND c.kind = 'discard-dead-letter' AND c.state = 'done')
  GROUP BY r.store_id`;

/** The operator commands of the embedded hub database (hub-migrations.ts, migration 5). */
export class SqliteCommandStore implements CommandStore {
  constructor(private readonly db: Database.Database) {}

  async record(c: NewStoreCommand): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO hub_store_commands (request_id, store_id, kind, command, event_id, epoch, from_seq, note,
           requested_by, requested_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      )
      .run(
        c.requestId,
        c.storeId,
        c.kind,
        c.commandText,
        c.eventId,
        c.epoch,
        c.fromSeq,
        c.note,
        c.requestedBy,
        c.requestedAt,
      );
  }

  async get(requestId: string): Promise<StoreCommandRow | undefined> {
    const row = this.db.prepare('SELECT * FROM hub_store_commands WHERE request_id = ?').get(requestId) as
      CommandDbRow | undefined;
    return row ? toCommandRow(row) : undefined;
  }

  async forStore(storeId: string, limit: number): Promise<StoreCommandRow[]> {
    return (
      this.db
        .prepare(
          'SELECT * FROM hub_store_commands WHERE store_id = ? ORDER BY requested_at DESC, request_id LIMIT ?',
        )
        .all(storeId, limit) as CommandDbRow[]
    ).map(toCommandRow);
  }

  async pending(storeId: string): Promise<StoreCommandRow[]> {
    return (
      this.db
        .prepare(
          "SELECT * FROM hub_store_commands WHERE store_id = ? AND state = 'pending' ORDER BY requested_at, request_id",
        )
        .all(storeId) as CommandDbRow[]
    ).map(toCommandRow);
  }

  async due(before: number, limit: number): Promise<StoreCommandRow[]> {
    return (
      this.db
        .prepare(
          `SELECT c.* FROM hub_store_commands c JOIN hub_stores s ON s.store_id = c.store_id
           WHERE c.state = 'pending' AND s.online = 1 AND (c.last_sent_at IS NULL OR c.last_sent_at < ?)
           ORDER BY c.requested_at, c.request_id LIMIT ?`,
        )
        .all(before, limit) as CommandDbRow[]
    ).map(toCommandRow);
  }

  async claimSend(requestId: string, lastSentAt: number | null, now: number): Promise<boolean> {
    return (
      this.db
        .prepare(
          `UPDATE hub_store_commands SET last_sent_at = ?, sends = sends + 1
           WHERE request_id = ? AND state = 'pending' AND last_sent_at IS ?`,
        )
        .run(now, requestId, lastSentAt).changes === 1
    );
  }

  async releaseSend(requestId: string, claimedAt: number, lastSentAt: number | null): Promise<void> {
    this.db
      .prepare(
        `UPDATE hub_store_commands SET last_sent_at = ?, sends = sends - 1
         WHERE request_id = ? AND state = 'pending' AND last_sent_at = ?`,
      )
      .run(lastSentAt, requestId, claimedAt);
  }

  async settle(storeId: string, settlements: readonly CommandSettlement[]): Promise<string[]> {
    const update = this.db.prepare(
      `UPDATE hub_store_commands SET state = ?, answered_at = ?, answer = ?
       WHERE request_id = ? AND store_id = ? AND state = 'pending'`,
    );
    return this.db.transaction(() =>
      settlements
        .filter((s) => update.run(s.state, s.at, s.answer, s.requestId, storeId).changes === 1)
        .map((s) => s.requestId),
    )();
  }

  async expire(before: number): Promise<number> {
    return this.db
      .prepare(`UPDATE hub_store_commands SET state = 'expired' WHERE state = 'pending' AND requested_at < ?`)
      .run(before).changes;
  }

  async pendingCounts(): Promise<{ storeId: string; pending: number }[]> {
    return (
      this.db
        .prepare(
          "SELECT store_id, count(*) AS pending FROM hub_store_commands WHERE state = 'pending' GROUP BY store_id",
        )
        .all() as { store_id: string; pending: number }[]
    ).map((r) => ({ storeId: r.store_id, pending: r.pending }));
  }

  async deadLetters(storeId: string, limit: number) {
    return (this.db.prepare(DEAD_LETTERS).all(storeId, limit) as DeadLetterDbRow[]).map(toDeadLetterRow);
  }

  async openDeadLetterCounts(): Promise<{ storeId: string; open: number }[]> {
    return (this.db.prepare(OPEN_DEAD_LETTERS).all() as { store_id: string; open: number }[]).map((r) => ({
      storeId: r.store_id,
      open: r.open,
    }));
  }

  async hasDeadLetter(storeId: string, eventId: string): Promise<boolean> {
    return (
      this.db
        .prepare(
          "SELECT 1 FROM hub_events WHERE store_id = ? AND event_id = ? AND status = 'rejected' LIMIT 1",
        )
        .get(storeId, eventId) !== undefined
    );
  }
}
