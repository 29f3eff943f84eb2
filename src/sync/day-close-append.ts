import type Database from 'better-sqlite3';
import type { ZTotal } from '../contracts/day-close.js';
import { sameJsonValue } from '../lib/canonical-hash.js';
import type { Clock } from '../lib/clock.js';
import { ConflictError } from '../lib/errors.js';
import type { IdFactory } from '../lib/ids.js';
import type { CaptureResult } from './capture-append.js';
import { epochQueries } from './outbox-database.js';
import type { WriteTurns } from './write-turns.js';

/** A till's close of its business day as capture hands it over: the exact text and what the outbox files it under. */
export interface DayCloseInput {
  terminalId: string;
  businessDay: string;
  /** The close's closedAt, ms since the Unix epoch: with the till and day, what makes it this close. */
  closedAt: number;
  zNumber: string | null;
  totals: readonly ZTotal[];
  /** Exactly as the till submitted it. */
  body: string;
  /** textDigest of the body. */
  bodyHash: string;
}

export type AppendDayClose = (input: DayCloseInput) => CaptureResult | ConflictError;

interface HeldClose {
  event_id: string;
  epoch: string;
  seq: number;
  body_hash: string;
  body: string;
}

/**
 * Captures a till's close of its business day as a `day-close` event, in one durable transaction with
 * the next gapless seq, delivered like a sale. Idempotency key: (terminal, business day, closedAt). A
 * till that retries after a timeout sends the same close, with the same closedAt: it gets the event
 * already held (a `duplicate`); the same key with a different body is a ConflictError. A corrected
 * Z-report is closed again, later, so it has another closedAt and is a new close; head office keeps the
 * latest closedAt in force, and so does till_days here (the close the status shows next to the verdict).
 */
export function prepareDayCloseAppend(
  db: Database.Database,
  clock: Clock,
  eventIds: IdFactory,
  turns?: WriteTurns,
): AppendDayClose {
  const stmt = {
    held: db.prepare<[string, string, number], HeldClose>(
      `SELECT e.event_id, e.epoch, e.seq, e.body_hash, b.body FROM events e JOIN event_bodies b ON b.id = e.id
       WHERE e.type = 'day-close' AND e.terminal_id = ? AND e.business_day = ? AND e.closed_at = ?`,
    ),
    insert: db.prepare<[string, string, number, string, number, string, string, number]>(
      `INSERT INTO events (event_id, epoch, seq, terminal_id, transaction_id, type, currency, signed_total,
                           captured_at, body_hash, business_day, closed_at, state)
       VALUES (?, ?, ?, ?, NULL, 'day-close', NULL, 0, ?, ?, ?, ?, 'pending')`,
    ),
    insertBody: db.prepare<[number | bigint, string]>('INSERT INTO event_bodies (id, body) VALUES (?, ?)'),
    // The close in force is the latest closedAt; a verdict already held becomes stale (not about this close).
    inForce: db.prepare<[string, string, number, string | null, string, string]>(
      `INSERT INTO till_days (terminal_id, business_day, closed_at, z_number, totals, close_event_id)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (terminal_id, business_day) DO UPDATE SET
         closed_at = excluded.closed_at, z_number = excluded.z_number, totals = excluded.totals,
         close_event_id = excluded.close_event_id, verdict_stale = (state IS NOT NULL)
       WHERE till_days.closed_at IS NULL OR excluded.closed_at > till_days.closed_at`,
    ),
  };
  const epochs = epochQueries(db);

  const append = db.transaction((input: DayCloseInput): CaptureResult | ConflictError => {
    const held = stmt.held.get(input.terminalId, input.businessDay, input.closedAt);
    if (held) {
      if (held.body_hash !== input.bodyHash && !sameJsonValue(held.body, input.body))
        return new ConflictError(
          `terminal ${input.terminalId} already closed ${input.businessDay} at ${new Date(input.closedAt).toISOString()} ` +
            `with a different Z-report (event ${held.event_id}); a corrected Z-report is a new close with a later closedAt`,
          { eventId: held.event_id, seq: held.seq },
        );
      return { eventId: held.event_id, epoch: held.epoch, seq: held.seq, duplicate: true };
    }
    // Read under the write lock: the delivery thread may just have moved the outbox to a new epoch.
    const epoch = epochs.current();
    const seq = epochs.lastSeq(epoch)! + 1;
    const eventId = eventIds();
    const { lastInsertRowid } = stmt.insert.run(
      eventId,
      epoch,
      seq,
      input.terminalId,
      clock.now(),
      input.bodyHash,
      input.businessDay,
      input.closedAt,
    );
    stmt.insertBody.run(lastInsertRowid, input.body);
    epochs.setLastSeq(epoch, seq);
    stmt.inForce.run(
      input.terminalId,
      input.businessDay,
      input.closedAt,
      input.zNumber,
      JSON.stringify(input.totals),
      eventId,
    );
    return { eventId, epoch, seq, duplicate: false };
  });
  return turns
    ? (input) => turns.run('capture', () => append.immediate(input))
    : (input) => append.immediate(input);
}
