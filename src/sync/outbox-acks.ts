import type Database from 'better-sqlite3';
import type { BatchAck, CloseAck } from '../contracts/sync-messages.js';
import { newEpoch } from '../lib/ids.js';
import { decideBatchAck, decideCloseAck, type CloseAckFacts, type SeqReason } from './ack-rules.js';
import { closePartCount } from './batch-builder.js';
import { epochQueries } from './outbox-database.js';

export interface NewEpoch {
  previousEpoch: string;
  epoch: string;
  /** Unsent events moved into the new epoch. */
  moved: number;
  reason: string;
}

export type BatchAckOutcome =
  | { action: 'ignored'; why: string }
  | { action: 'applied'; acked: number; dead: number; deadLetters: SeqReason[]; newEpoch: NewEpoch | null };

export type CloseAckOutcome =
  { action: 'ignored'; why: string } | { action: 'applied'; epoch: string; part: number };

/**
 * Starts a new epoch and moves every unsent event into it, in capture order, with fresh gapless seqs;
 * in the same transaction it records that the old epoch is closed at its last seq, with every move, so
 * head office can account for each seq of it (epoch-close messages, delivered like events). Used when
 * the hub holds seqs this database never handed out (it was restored from an old backup, or cloned):
 * reusing those seqs would collide, and dropping the events would lose sales. The hub recognises an event
 * it already stored by its eventId, so a move never doubles one.
 *
 * Must run inside a write transaction; `at` is the agent's clock (ms). Every pending event is in the
 * current epoch (captures and retried dead letters go there, and a move takes them all), so the moves are
 * all of the closed one.
 */
export function startNewEpochIn(
  db: Database.Database,
  at: number,
  reason: string,
  epochFactory: () => string = newEpoch,
): NewEpoch {
  const epochs = epochQueries(db);
  const previousEpoch = epochs.current();
  const epoch = epochFactory();
  db.prepare('INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES (?, ?, 0, ?)').run(
    epoch,
    at,
    reason,
  );
  const pending = db
    .prepare("SELECT id, epoch, seq, event_id FROM events WHERE state = 'pending' ORDER BY id")
    .all() as { id: number; epoch: string; seq: number; event_id: string }[];
  const move = db.prepare('UPDATE events SET epoch = ?, seq = ? WHERE id = ?');
  const recordMove = db.prepare('INSERT INTO epoch_moves (epoch, seq, event_id, to_seq) VALUES (?, ?, ?, ?)');
  const moves = pending.filter((row) => row.epoch === previousEpoch).length;
  const parts = closePartCount(moves);
  db.prepare(
    'INSERT INTO epoch_closes (epoch, last_seq, next_epoch, reason, closed_at, parts) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(previousEpoch, epochs.lastSeq(previousEpoch)!, epoch, reason, at, parts);
  const part = db.prepare('INSERT INTO epoch_close_parts (epoch, part) VALUES (?, ?)');
  for (let p = 1; p <= parts; p++) part.run(previousEpoch, p);
  pending.forEach((row, i) => {
    move.run(epoch, i + 1, row.id);
    if (row.epoch === previousEpoch) recordMove.run(previousEpoch, row.seq, row.event_id, i + 1);
  });
  epochs.setLastSeq(epoch, pending.length);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'epoch'").run(epoch);
  return { previousEpoch, epoch, moved: pending.length, reason };
}

/** Records head office's answers; `at` is when, on the agent's clock (ms since the Unix epoch). */
export interface AckRecorder {
  recordBatchAck(ack: BatchAck, at: number): BatchAckOutcome;
  recordCloseAck(ack: CloseAck, at: number): CloseAckOutcome;
}

/**
 * Records acknowledgements, each in one transaction: the facts are read, the pure rules of ack-rules.ts
 * decide, and the decision is applied (marks, dead letters, and when it comes to that the new epoch
 * with its close), so no capture or other writer can slip in between the reading and the writing.
 */
export function prepareAckRecorder(
  db: Database.Database,
  epochFactory: () => string = newEpoch,
): AckRecorder {
  const epochs = epochQueries(db);
  const stmt = {
    eventIdAt: db
      .prepare<[string, number], string>('SELECT event_id FROM events WHERE epoch = ? AND seq = ?')
      .pluck(),
    dead: db.prepare<[string, string, number]>(
      "UPDATE events SET state = 'dead', dead_reason = ? WHERE epoch = ? AND seq = ? AND state = 'pending'",
    ),
    // A withheld event head office acknowledges (it already held the event) is delivered: its reason goes.
    acked: db.prepare<[number, string, number, number, string]>(
      `UPDATE events SET state = 'acked', acked_at = ?, dead_reason = NULL
       WHERE epoch = ? AND seq BETWEEN ? AND ? AND state = 'pending'
       AND seq NOT IN (SELECT value FROM json_each(?))`,
    ),
    closeOf: db.prepare<[string], { next_epoch: string; parts: number }>(
      'SELECT next_epoch, parts FROM epoch_closes WHERE epoch = ?',
    ),
    lastAcked: db.prepare<[number, number, string, number]>(
      'UPDATE epochs SET acked_seq = ?, acked_at = ? WHERE epoch = ? AND coalesce(acked_seq, 0) <= ?',
    ),
    ackPart: db.prepare<[number, string, number]>(
      'UPDATE epoch_close_parts SET acked_at = ? WHERE epoch = ? AND part = ? AND acked_at IS NULL',
    ),
  };

  const batchAck = db.transaction((ack: BatchAck, at: number): BatchAckOutcome => {
    const decision = decideBatchAck(ack, {
      currentEpoch: epochs.current(),
      lastSeqOfEpoch: epochs.lastSeq(ack.epoch) ?? 0,
      eventIdAtBatchEnd: stmt.eventIdAt.get(ack.epoch, ack.batch.lastSeq),
    });
    if (decision.action === 'ignore') return { action: 'ignored', why: decision.why };
    let dead = 0;
    for (const r of decision.deadLetters) dead += stmt.dead.run(r.reason, decision.epoch, r.seq).changes;
    const acked = stmt.acked.run(
      at,
      decision.epoch,
      decision.firstSeq,
      decision.lastSeq,
      JSON.stringify(decision.keepPending),
    ).changes;
    const settled = decision.lastSettledSeq;
    if (acked > 0 && settled !== null) stmt.lastAcked.run(settled, at, decision.epoch, settled);
    const next = decision.newEpoch ? startNewEpochIn(db, at, decision.newEpoch.reason, epochFactory) : null;
    return { action: 'applied', acked, dead, deadLetters: decision.deadLetters, newEpoch: next };
  });

  const closeAck = db.transaction((ack: CloseAck, at: number): CloseAckOutcome => {
    const row = stmt.closeOf.get(ack.epoch);
    const facts: CloseAckFacts | undefined = row
      ? { nextEpoch: row.next_epoch, parts: row.parts }
      : undefined;
    const decision = decideCloseAck(ack, facts);
    if (decision.action === 'ignore') return { action: 'ignored', why: decision.why };
    stmt.ackPart.run(at, decision.epoch, decision.part);
    return { action: 'applied', epoch: decision.epoch, part: decision.part };
  });

  return {
    recordBatchAck: (ack, at) => {
      // This connection commits with synchronous = NORMAL (a lost mark only repeats a publish), but moving
      // events to a new epoch must survive a power cut once published under it: that one commit is FULL.
      // The check is safe outside the transaction: an epoch's last seq only grows.
      const mayMove =
        ack.conflicts.length > 0 ||
        ack.closedTowards !== undefined ||
        ack.highestSeq > (epochs.lastSeq(ack.epoch) ?? 0);
      if (!mayMove) return batchAck.immediate(ack, at);
      const synchronous = db.pragma('synchronous', { simple: true }) as number;
      db.pragma('synchronous = FULL');
      try {
        return batchAck.immediate(ack, at);
      } finally {
        db.pragma(`synchronous = ${synchronous}`);
      }
    },
    recordCloseAck: (ack, at) => closeAck.immediate(ack, at),
  };
}
