import type Database from 'better-sqlite3';
import type { TransactionType } from '../contracts/transaction.js';
import { sameJsonValue } from '../lib/canonical-hash.js';
import type { Clock } from '../lib/clock.js';
import { ConflictError } from '../lib/errors.js';
import type { IdFactory } from '../lib/ids.js';
import { epochQueries } from './outbox-database.js';
import type { WriteTurns } from './write-turns.js';

/** What capture hands to the outbox: the body exactly as submitted plus the fields the outbox indexes. */
export interface CaptureInput {
  terminalId: string;
  transactionId: string;
  type: TransactionType;
  currency: string;
  signedTotal: number;
  body: string;
  /** Digest of the exact body text (textDigest): equal digests mean a byte-identical re-submission. */
  bodyHash: string;
  /** The transaction's businessDay (for what the status says is unsent per day); read from the body when absent. */
  businessDay?: string;
}

export interface CaptureResult {
  eventId: string;
  epoch: string;
  seq: number;
  duplicate: boolean;
}

interface EventKeyRow {
  event_id: string;
  epoch: string;
  seq: number;
  body_hash: string;
  body: string;
}

/** The businessDay a JSON body names, or null (not JSON, or no such field). */
function businessDayOf(body: string): string | null {
  try {
    const day = (JSON.parse(body) as { businessDay?: unknown } | null)?.businessDay;
    return typeof day === 'string' ? day : null;
  } catch {
    return null;
  }
}

export type AppendBatch = (items: CaptureInput[]) => (CaptureResult | ConflictError)[];

/**
 * Appends a batch of captures in one durable transaction (one fsync). Per item: a new event with the
 * next gapless seq, the existing event for an exact re-submission, or a ConflictError when the same
 * (terminalId, transactionId) already holds a different body. A storage failure fails the whole batch
 * and, by rolling back, leaves nothing half-written and no seq consumed.
 *
 * The epoch is read inside the transaction, under the write lock: the sync engine's connection may have
 * just closed the epoch (a restored or cloned database), and a capture landing in a closed epoch would
 * take a seq head office was told does not exist.
 */
export function prepareAppendBatch(
  db: Database.Database,
  clock: Clock,
  eventIds: IdFactory,
  turns?: WriteTurns,
): AppendBatch {
  const stmt = {
    findByKey: db.prepare<[string, string], EventKeyRow>(
      `SELECT e.event_id, e.epoch, e.seq, e.body_hash, b.body FROM events e JOIN event_bodies b ON b.id = e.id
       WHERE e.terminal_id = ? AND e.transaction_id = ?`,
    ),
    insert: db.prepare<
      [string, string, number, string, string, string, string, number, number, string, string | null]
    >(
      `INSERT INTO events (event_id, epoch, seq, terminal_id, transaction_id, type, currency, signed_total, captured_at, body_hash,
                           business_day, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
    ),
    insertBody: db.prepare<[number | bigint, string]>('INSERT INTO event_bodies (id, body) VALUES (?, ?)'),
  };

  const epochs = epochQueries(db);
  const append = db.transaction((batch: CaptureInput[]) => {
    const epoch = epochs.current();
    let seq = epochs.lastSeq(epoch)!;
    const now = clock.now();
    const results = batch.map((item): CaptureResult | ConflictError => {
      const existing = stmt.findByKey.get(item.terminalId, item.transactionId);
      if (existing) {
        // Byte-identical retries match on the digest; only a re-serialised one pays for canonical JSON.
        if (existing.body_hash !== item.bodyHash && !sameJsonValue(existing.body, item.body)) {
          return new ConflictError(
            `transaction ${item.transactionId} of terminal ${item.terminalId} was already captured with a different body ` +
              `(event ${existing.event_id}); a correction must be a new transaction (a void or a return)`,
            { eventId: existing.event_id, seq: existing.seq },
          );
        }
        return { eventId: existing.event_id, epoch: existing.epoch, seq: existing.seq, duplicate: true };
      }
      seq += 1;
      const eventId = eventIds();
      const { lastInsertRowid } = stmt.insert.run(
        eventId,
        epoch,
        seq,
        item.terminalId,
        item.transactionId,
        item.type,
        item.currency,
        item.signedTotal,
        now,
        item.bodyHash,
        // Only a caller that did not say is charged the body's parse.
        item.businessDay ?? businessDayOf(item.body),
      );
      stmt.insertBody.run(lastInsertRowid, item.body);
      return { eventId, epoch, seq, duplicate: false };
    });
    epochs.setLastSeq(epoch, seq);
    return results;
  });
  return turns
    ? (items) => turns.run('capture', () => append.immediate(items))
    : (items) => append.immediate(items);
}
