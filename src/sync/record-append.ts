import type Database from 'better-sqlite3';
import type { StoreEventType } from '../contracts/sync-messages.js';
import type { TransactionType } from '../contracts/transaction.js';
import { textDigest } from '../lib/canonical-hash.js';
import type { Clock } from '../lib/clock.js';
import type { IdFactory } from '../lib/ids.js';
import { epochQueries } from './outbox-database.js';

/** What the store itself has to report to head office, beside the POS's transactions. */
export type StoreRecordType = Exclude<StoreEventType, TransactionType>;

/** One of the store's own records: its body is the exact text head office receives and validates by type. */
export interface StoreRecord {
  type: StoreRecordType;
  body: string;
  /** A record about one till (its close of the day); the store's own records name none. */
  terminalId?: string;
}

export interface AppendedRecord {
  eventId: string;
  epoch: string;
  seq: number;
}

/** Adds one record to the outbox. Call it only inside a write transaction on the connection it was prepared on. */
export type RecordAppender = (record: StoreRecord) => AppendedRecord;

/**
 * The store's own records take the next gapless seq of the current epoch, exactly like a capture, and are
 * delivered, acknowledged, retried and dead-lettered the same way. Appended inside the caller's
 * transaction, so the change a record reports (a promotion applied) and the record commit together or not
 * at all: head office's proof of rollout can never disagree with what the store holds.
 */
export function prepareRecordAppend(
  db: Database.Database,
  clock: Clock,
  eventIds: IdFactory,
): RecordAppender {
  const stmt = {
    insert: db.prepare<[string, string, number, string | null, string, number, string]>(
      `INSERT INTO events (event_id, epoch, seq, terminal_id, transaction_id, type, currency, signed_total, captured_at, body_hash, state)
       VALUES (?, ?, ?, ?, NULL, ?, NULL, 0, ?, ?, 'pending')`,
    ),
    insertBody: db.prepare<[number | bigint, string]>('INSERT INTO event_bodies (id, body) VALUES (?, ?)'),
  };
  const epochs = epochQueries(db);
  return (record) => {
    if (!db.inTransaction) throw new Error('a store record is appended only inside a write transaction');
    // Read under the write lock: the delivery thread may just have moved the outbox to a new epoch.
    const epoch = epochs.current();
    const seq = epochs.lastSeq(epoch)! + 1;
    const eventId = eventIds();
    const { lastInsertRowid } = stmt.insert.run(
      eventId,
      epoch,
      seq,
      record.terminalId ?? null,
      record.type,
      clock.now(),
      textDigest(record.body),
    );
    stmt.insertBody.run(lastInsertRowid, record.body);
    epochs.setLastSeq(epoch, seq);
    return { eventId, epoch, seq };
  };
}
