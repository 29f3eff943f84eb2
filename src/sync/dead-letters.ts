import type Database from 'better-sqlite3';
import { NotFoundError } from '../lib/errors.js';
import { epochQueries } from './outbox-database.js';

export interface DeadLetterRow {
  epoch: string;
  seq: number;
  eventId: string;
  /** The till, or "(store)" for the store's own records (a promotion rollout report), which name none. */
  terminalId: string;
  /** The POS's transaction id; for a store record, its event type (e.g. promotion-applied). */
  transactionId: string;
  reason: string;
  capturedAt: number;
  state: 'dead' | 'discarded';
}

/**
 * Events that will not be delivered unless someone acts: refused by head office (invalid, or withheld by
 * the store as too large for any message). They stay on record, stop blocking the queue, and support
 * retries or discards them.
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
   * Withholds an event the agent cannot publish (larger than any message head office or the broker
   * accepts): it stays pending with the reason, and goes as a marker without its body (batch-builder.ts),
   * which head office keeps as a refused row, so the epoch has no gap. The hub's answer then makes it a
   * dead letter; a retry (which clears the reason) sends it whole again. Only while it is still pending
   * at that place and not yet withheld: a move or an acknowledgement in between wins.
   */
  withhold(event: { epoch: string; seq: number; eventId: string }, reason: string): boolean;
}

export function prepareDeadLetters(db: Database.Database): DeadLetters {
  const stmt = {
    list: db.prepare<[number], DeadLetterRow>(
      `SELECT epoch, seq, event_id AS eventId, coalesce(terminal_id, '(store)') AS terminalId,
              coalesce(transaction_id, type) AS transactionId,
              dead_reason AS reason, captured_at AS capturedAt, state
       FROM events WHERE state IN ('dead', 'discarded') ORDER BY state, id LIMIT ?`,
    ),
    findDead: db
      .prepare<[string], number>("SELECT id FROM events WHERE event_id = ? AND state = 'dead'")
      .pluck(),
    requeue: db.prepare<[string, number, number]>(
      "UPDATE events SET state = 'pending', epoch = ?, seq = ?, dead_reason = NULL WHERE id = ?",
    ),
    discard: db.prepare<[string, string]>(
      "UPDATE events SET state = 'discarded', dead_reason = coalesce(dead_reason, '') || ' | discarded: ' || ? WHERE event_id = ? AND state = 'dead'",
    ),
    withhold: db.prepare<[string, string, number, string]>(
      `UPDATE events SET dead_reason = ?
       WHERE epoch = ? AND seq = ? AND event_id = ? AND state = 'pending' AND dead_reason IS NULL`,
    ),
  };

  const epochs = epochQueries(db);
  // The epoch is read inside the transaction: a CLI retry beside a running agent that has just moved to a
  // new epoch must put the event into that one, or it would sit in a closed epoch that is never sent.
  const retry = db.transaction((eventId: string) => {
    const id = stmt.findDead.get(eventId);
    if (id === undefined) throw new NotFoundError(`no dead-lettered event ${eventId}`);
    const epoch = epochs.current();
    const seq = epochs.lastSeq(epoch)! + 1;
    stmt.requeue.run(epoch, seq, id);
    epochs.setLastSeq(epoch, seq);
    return { epoch, seq };
  });

  return {
    list: (limit = 100) => stmt.list.all(limit),
    retry: (eventId) => retry.immediate(eventId),
    discard(eventId, note) {
      if (stmt.discard.run(note, eventId).changes === 0)
        throw new NotFoundError(`no dead-lettered event ${eventId}`);
    },
    withhold: (event, reason) => stmt.withhold.run(reason, event.epoch, event.seq, event.eventId).changes > 0,
  };
}
