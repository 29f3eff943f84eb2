import type { EpochClose, EpochMove } from '../contracts/sync-messages.js';
import type { EventStatus, MovedTo, SeqReason } from './hub-store.js';

/** What the database already holds at the seqs a close part moves; both hub stores look it up the same way. */
export interface CloseFacts {
  /** Rows at (store, epoch, seq). */
  bySeq: Map<number, { eventId: string; status: EventStatus; movedTo: MovedTo | null }>;
  /** Quarantined copies at (store, epoch, seq): events of a second writer that found the seq taken. */
  quarantinedBySeq: Map<number, { eventId: string; movedTo: MovedTo | null }[]>;
}

export interface ClosePlan {
  /** Seqs the hub holds nothing for: a `moved` row goes there, pointing to the event's new place. */
  movedRows: EpochMove[];
  /** This writer's events quarantined at a seq another writer holds: their copies get the move. */
  markInQuarantine: EpochMove[];
  /** Moves of events the hub already holds at that very seq, or already recorded: nothing to write. */
  alreadyHeld: number;
  /** Moves that cannot be recorded: another writer holds the seq and this writer's event never arrived. */
  unmatched: SeqReason[];
}

type Close = EpochClose['close'];

/**
 * Why a close part is unusable as a whole, or undefined when it is sound. The agent never sends such a
 * part; refusing it keeps a broken one from writing rows that would claim seqs this writer never had.
 */
export function closeProblem(epoch: string, close: Close): string | undefined {
  if (close.nextEpoch === epoch) return `epoch ${epoch} cannot be closed into itself`;
  if (close.part > close.parts) return `part ${close.part} of ${close.parts} does not exist`;
  const seen = new Set<number>();
  for (const move of close.moved) {
    if (move.seq > close.lastSeq)
      return `seq ${move.seq} is moved but lies beyond the closed epoch's last seq ${close.lastSeq}`;
    if (seen.has(move.seq)) return `seq ${move.seq} is moved twice`;
    seen.add(move.seq);
  }
  return undefined;
}

/**
 * Decides what one part of an epoch close records, so that every seq of the closed epoch ends up with a
 * row (docs/protocol.md, "Closing an epoch"). Pure, shared by the SQLite and PostgreSQL stores:
 * - the hub already holds that very event (same eventId) at the seq: nothing, the seq is accounted for
 *   (the event reached the hub before its writer gave up waiting for the acknowledgement);
 * - the hub holds nothing at the seq: a `moved` row points to (nextEpoch, toSeq), where the event now
 *   travels; once it arrives there it is stored as usual;
 * - another writer's event holds the seq (a cloned or restored store database): the quarantined copy of
 *   this writer's event is marked with its new place, so the operator sees where it went;
 * - a redelivered part finds its own rows and marks, and writes nothing.
 */
export function classifyClose(close: Close, facts: CloseFacts): ClosePlan {
  const plan: ClosePlan = { movedRows: [], markInQuarantine: [], alreadyHeld: 0, unmatched: [] };
  const target = (move: EpochMove): MovedTo => ({ epoch: close.nextEpoch, seq: move.toSeq });
  const sameTarget = (a: MovedTo | null, b: MovedTo) => a !== null && a.epoch === b.epoch && a.seq === b.seq;
  const bySeq = new Map(facts.bySeq);
  for (const move of close.moved) {
    const row = bySeq.get(move.seq);
    if (!row) {
      plan.movedRows.push(move);
      bySeq.set(move.seq, { eventId: move.eventId, status: 'moved', movedTo: target(move) });
      continue;
    }
    if (row.eventId === move.eventId) {
      plan.alreadyHeld++;
      continue;
    }
    const copies = (facts.quarantinedBySeq.get(move.seq) ?? []).filter((q) => q.eventId === move.eventId);
    if (copies.length === 0) {
      plan.unmatched.push({
        seq: move.seq,
        reason: `seq ${move.seq} holds event ${row.eventId} of another writer, and event ${move.eventId} (now seq ${move.toSeq} of epoch ${close.nextEpoch}) never reached the hub under this epoch`,
      });
    } else if (copies.every((q) => sameTarget(q.movedTo, target(move)))) {
      plan.alreadyHeld++;
    } else {
      plan.markInQuarantine.push(move);
    }
  }
  return plan;
}

/**
 * Where the closed epoch stands after this part: the highest seq held (raised by its `moved` rows) and
 * the seq it is closed at, max(the writers' last seq, every seq held at the close, an earlier part's
 * answer), so that "closed and complete" covers whatever any writer of the epoch sent.
 */
export function closedBounds(
  stream: { highestSeq: number; closedAtSeq: number | null },
  close: Close,
  plan: ClosePlan,
): { highestSeq: number; closedAtSeq: number } {
  let highestSeq = stream.highestSeq;
  for (const move of plan.movedRows) if (move.seq > highestSeq) highestSeq = move.seq;
  return { highestSeq, closedAtSeq: Math.max(stream.closedAtSeq ?? 0, close.lastSeq, highestSeq) };
}

/** Of the closing writer's reason, what each `moved` row keeps: a close moves hundreds of seqs. */
const MOVED_REASON_CHARS = 160;

/**
 * The reason a `moved` row carries: where the event went, and why its writer closed the epoch, cut short
 * (the agent's own reasons fit; a close part's hundreds of rows do not each repeat 1,000 characters).
 */
export const movedReason = (close: Close, toSeq: number): string => {
  const why =
    close.reason.length > MOVED_REASON_CHARS
      ? `${close.reason.slice(0, MOVED_REASON_CHARS - 1)}…`
      : close.reason;
  return `moved to seq ${toSeq} of epoch ${close.nextEpoch} when its writer closed this epoch${why ? `: ${why}` : ''}`;
};
