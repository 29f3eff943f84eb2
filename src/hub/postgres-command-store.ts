import type pg from 'pg';
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

const DEAD_LETTERS = `
  SELECT r.epoch, r.seq, r.event_id, r.type, r.terminal_id, r.transaction_id, r.reason, r.received_at,
         s.epoch AS stored_epoch, s.seq AS stored_seq
  FROM hub_events r LEFT JOIN hub_events s ON s.event_id = r.event_id AND s.status = 'stored'
  WHERE r.store_id = $1 AND r.status = 'rejected'
  ORDER BY r.received_at DESC, r.epoch, r.seq DESC LIMIT $2`;

const OPEN_DEAD_LETTERS = `
  SELECT r.store_id, count(DISTINCT r.event_id)::int AS open FROM hub_events r
  WHERE r.status = 'rejected'
    AND NOT EXISTS (SELECT 1 FROM hub_events s WHERE s.event_id = r.event_id AND s.status = 'stored')
    AND NOT EXISTS (SELECT 1 FROM hub_store_commands c WHERE c.store_id = r.store_id AND c.event_id = r.event_id
                      AND c.kind = 'discard-dead-letter' AND c.state = 'done')
  GROUP BY r.store_id`;

/**
 * The operator commands of the production hub database (hub-migrations.ts, migration 5). Every write is
 * one statement; hubs sharing the database race only on `claimSend`, a compare-and-set on last_sent_at.
 */
export class PostgresCommandStore implements CommandStore {
  constructor(private readonly pool: pg.Pool) {}

  async record(c: NewStoreCommand): Promise<void> {
    await this.pool.query(
      `INSERT INTO hub_store_commands (request_id, store_id, kind, command, event_id, epoch, from_seq, note,
         requested_by, requested_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')`,
      [
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
      ],
    );
  }

  async get(requestId: string): Promise<StoreCommandRow | undefined> {
    const { rows } = await this.pool.query<CommandDbRow>(
      'SELECT * FROM hub_store_commands WHERE request_id = $1',
      [requestId],
    );
    return rows[0] ? toCommandRow(rows[0]) : undefined;
  }

  async forStore(storeId: string, limit: number): Promise<StoreCommandRow[]> {
    const { rows } = await this.pool.query<CommandDbRow>(
      'SELECT * FROM hub_store_commands WHERE store_id = $1 ORDER BY requested_at DESC, request_id LIMIT $2',
      [storeId, limit],
    );
    return rows.map(toCommandRow);
  }

  async pending(storeId: string): Promise<StoreCommandRow[]> {
    const { rows } = await this.pool.query<CommandDbRow>(
      "SELECT * FROM hub_store_commands WHERE store_id = $1 AND state = 'pending' ORDER BY requested_at, request_id",
      [storeId],
    );
    return rows.map(toCommandRow);
  }

  async due(before: number, limit: number): Promise<StoreCommandRow[]> {
    const { rows } = await this.pool.query<CommandDbRow>(
      `SELECT c.* FROM hub_store_commands c JOIN hub_stores s ON s.store_id = c.store_id
       WHERE c.state = 'pending' AND s.online AND (c.last_sent_at IS NULL OR c.last_sent_at < $1)
       ORDER BY c.requested_at, c.request_id LIMIT $2`,
      [before, limit],
    );
    return rows.map(toCommandRow);
  }

  async claimSend(requestId: string, lastSentAt: number | null, now: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE hub_store_commands SET last_sent_at = $1, sends = sends + 1
       WHERE request_id = $2 AND state = 'pending' AND last_sent_at IS NOT DISTINCT FROM $3::bigint`,
      [now, requestId, lastSentAt],
    );
    return rowCount === 1;
  }

  async releaseSend(requestId: string, claimedAt: number, lastSentAt: number | null): Promise<void> {
    await this.pool.query(
      `UPDATE hub_store_commands SET last_sent_at = $1, sends = sends - 1
       WHERE request_id = $2 AND state = 'pending' AND last_sent_at = $3`,
      [lastSentAt, requestId, claimedAt],
    );
  }

  async settle(storeId: string, settlements: readonly CommandSettlement[]): Promise<string[]> {
    if (settlements.length === 0) return [];
    const { rows } = await this.pool.query<{ request_id: string }>(
      `UPDATE hub_store_commands c SET state = s.state, answered_at = s.at, answer = s.answer
       FROM jsonb_to_recordset($2::jsonb) AS s(request_id text, state text, at bigint, answer text)
       WHERE c.request_id = s.request_id AND c.store_id = $1 AND c.state = 'pending'
       RETURNING c.request_id`,
      [
        storeId,
        JSON.stringify(
          settlements.map((s) => ({ request_id: s.requestId, state: s.state, at: s.at, answer: s.answer })),
        ),
      ],
    );
    const settled = new Set(rows.map((r) => r.request_id));
    return settlements.map((s) => s.requestId).filter((id) => settled.has(id));
  }

  async expire(before: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      "UPDATE hub_store_commands SET state = 'expired' WHERE state = 'pending' AND requested_at < $1",
      [before],
    );
    return rowCount ?? 0;
  }

  async pendingCounts(): Promise<{ storeId: string; pending: number }[]> {
    const { rows } = await this.pool.query<{ store_id: string; pending: number }>(
      "SELECT store_id, count(*)::int AS pending FROM hub_store_commands WHERE state = 'pending' GROUP BY store_id",
    );
    return rows.map((r) => ({ storeId: r.store_id, pending: r.pending }));
  }

  async deadLetters(storeId: string, limit: number) {
    const { rows } = await this.pool.query<DeadLetterDbRow>(DEAD_LETTERS, [storeId, limit]);
    return rows.map(toDeadLetterRow);
  }

  async openDeadLetterCounts(): Promise<{ storeId: string; open: number }[]> {
    const { rows } = await this.pool.query<{ store_id: string; open: number }>(OPEN_DEAD_LETTERS);
    return rows.map((r) => ({ storeId: r.store_id, open: r.open }));
  }

  async hasDeadLetter(storeId: string, eventId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      "SELECT 1 FROM hub_events WHERE store_id = $1 AND event_id = $2 AND status = 'rejected' LIMIT 1",
      [storeId, eventId],
    );
    return (rowCount ?? 0) > 0;
  }
}
