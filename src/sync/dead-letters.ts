import type Database from 'better-sqlite3';
import { NotFoundError } from '../lib/errors.js';
import { currentEpochOf } from './outbox-database.js';

export interface DeadLetterRow {
  epoch: string;
  seq: number;
  eventId: string;
  terminalId: string;
  transactionId: string;
  reason: string;
  capturedAt: number;
  state: 'dead' | 'discarded';
}

/**
 * Events that will not be delivered unless someone acts: refused by head office (invalid), or too large
 * for any message. They stay on record, stop blocking the queue, and support retries or discards them.
 */
export interface DeadLetters {
  list(limit?: number): DeadLetterRow[];
  /**
   * Sends a dead-lettered event again, as the newest event of the current epoch: the hub keeps its
   * earlier refusal on record and judges the event afresh under its new seq.
   */
  retry(eventId: string): { epoch: string; seq: number };
  /** Gives up on a dead-lettered event: it stays on record as discarded, with who said so and why. */
  discard(eventId: string, note: string): void;
  /**
   * Dead-letters an event the agent can never publish (larger than any message head office or the broker
   * accepts). Only while it is still pending at that place: a move or an acknowledgement in between wins.
   */
  markUndeliverable(event: { epoch: string; seq: number; eventId: string }, reason: string): boolean;
}

export function prepareDeadLetters(db: Database.Database): DeadLetters {
  const stmt = {
    list: db.prepare<[number], DeadLetterRow>(
      `SELECT epoch, seq, event_id AS eventId, terminal_id AS terminalId, transaction_id AS transactionId,
              dead_reason AS reason, captured_at AS capturedAt, state
       FROM events WHERE state IN ('dead', 'discarded') ORDER BY state, id LIMIT ?`,
    ),
    findDead: db
      .prepare<[string], number>("SELECT id FROM events WHERE event_id = ? AND state = 'dead'")
      .pluck(),
    lastSeq: db.prepare<[string], number>('SELECT last_seq FROM epochs WHERE epoch = ?').pluck(),
    setLastSeq: db.prepare<[number, string]>('UPDATE epochs SET last_seq = ? WHERE epoch = ?'),
    requeue: db.prepare<[string, number, number]>(
      "UPDATE events SET state = 'pending', epoch = ?, seq = ?, dead_reason = NULL WHERE id = ?",
    ),
    discard: db.prepare<[string, string]>(
      "UPDATE events SET state = 'discarded', dead_reason = coalesce(dead_reason, '') || ' | discarded: ' || ? WHERE event_id = ? AND state = 'dead'",
    ),
    undeliverable: db.prepare<[string, string, number, string]>(
      "UPDATE events SET state = 'dead', dead_reason = ? WHERE epoch = ? AND seq = ? AND event_id = ? AND state = 'pending'",
    ),
  };

  // The epoch is read inside the transaction: a CLI retry beside a running agent that has just moved to a
  // new epoch must put the event into that one, or it would sit in a closed epoch that is never sent.
  const retry = db.transaction((eventId: string) => {
    const id = stmt.findDead.get(eventId);
    if (id === undefined) throw new NotFoundError(`no dead-lettered event ${eventId}`);
    const epoch = currentEpochOf(db);
    const seq = stmt.lastSeq.get(epoch)! + 1;
    stmt.requeue.run(epoch, seq, id);
    stmt.setLastSeq.run(seq, epoch);
    return { epoch, seq };
  });

  return {
    list: (limit = 100) => stmt.list.all(limit),
    retry: (eventId) => retry.immediate(eventId),
    discard(eventId, note) {
      if (stmt.discard.run(note, eventId).changes === 0)
        throw new NotFoundError(`no dead-lettered event ${eventId}`);
    },
    markUndeliverable: (event, reason) =>
      stmt.undeliverable.run(reason, event.epoch, event.seq, event.eventId).changes > 0,
  };
}
