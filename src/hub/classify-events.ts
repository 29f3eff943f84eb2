import { sameJsonValue } from '../lib/canonical-hash.js';
import type { EventStatus, IncomingEvent, SeqReason } from './hub-store.js';

/** What the database already holds that bears on an incoming batch; both hub stores look it up the same way. */
export interface ExistingFacts {
  /** Rows at (store, epoch, seq) for the batch's seqs; a `moved` row has no body, hence no hash. */
  bySeq: Map<number, { eventId: string; bodyHash: string | null; status: EventStatus }>;
  /** Stored events (any epoch) carrying one of the batch's eventIds. */
  storedByEventId: Map<string, { epoch: string; seq: number }>;
  /** Stored events of this store (any epoch) with one of the batch's (terminalId, transactionId) pairs. */
  storedByTransaction: Map<string, { epoch: string; seq: number; bodyHash: string; bodyText: string }>;
}

export interface RowToInsert {
  event: IncomingEvent;
  status: EventStatus;
  reason: string | null;
}

export interface Classification {
  inserts: RowToInsert[];
  quarantine: { event: IncomingEvent; reason: string }[];
  rejected: SeqReason[];
  conflicts: SeqReason[];
  stored: number;
  duplicates: number;
}

export const transactionKey = (terminalId: string, transactionId: string) =>
  `${terminalId}\u0000${transactionId}`;

/**
 * Decides, for each incoming event, what the hub does with it. Pure, so the rules are the same for
 * SQLite and PostgreSQL and are unit-tested without a database:
 * - a seq the hub already holds with the same body is a redelivery: acknowledged, nothing written;
 * - so is an event its writer has since moved to its next epoch (a late copy of a batch published
 *   before the close): the `moved` row already accounts for the seq and says where the event went;
 * - a seq it holds with a different body is a conflict (a restored or cloned store database): the
 *   newcomer is quarantined, never merged or overwritten, and the agent is told;
 * - an invalid body is kept as `rejected` so the seq is accounted for and the queue behind it flows;
 * - an eventId or POS transaction already stored under another seq (an epoch change re-sent it, or a
 *   restored store captured it again) is kept as `duplicate`, counted once;
 * - the same POS transaction id with a different body under another seq is quarantined for review.
 * Every seq gets exactly one row, so contiguity (and completeness) can be proven.
 */
export function classifyEvents(
  epoch: string,
  events: readonly IncomingEvent[],
  facts: ExistingFacts,
): Classification {
  const out: Classification = {
    inserts: [],
    quarantine: [],
    rejected: [],
    conflicts: [],
    stored: 0,
    duplicates: 0,
  };
  const bySeq = new Map(facts.bySeq);
  const byEventId = new Map(facts.storedByEventId);
  const byTransaction = new Map(facts.storedByTransaction);
  for (const event of events) {
    const existing = bySeq.get(event.seq);
    if (existing) {
      if (existing.status === 'moved' && existing.eventId === event.eventId) continue;
      if (existing.bodyHash !== event.bodyHash) {
        const reason = `seq ${event.seq} of epoch ${epoch} already holds a different event`;
        out.conflicts.push({ seq: event.seq, reason });
        out.quarantine.push({ event, reason });
      } else if (existing.status === 'rejected') {
        out.rejected.push({ seq: event.seq, reason: event.invalidReason ?? 'previously rejected' });
      }
      continue;
    }
    const insert = (status: EventStatus, reason: string | null) => {
      out.inserts.push({ event, status, reason });
      bySeq.set(event.seq, { eventId: event.eventId, bodyHash: event.bodyHash, status });
    };
    if (event.invalidReason !== undefined) {
      insert('rejected', event.invalidReason);
      out.rejected.push({ seq: event.seq, reason: event.invalidReason });
      continue;
    }
    const sameEvent = byEventId.get(event.eventId);
    if (sameEvent) {
      insert(
        'duplicate',
        `event ${event.eventId} is already stored as epoch ${sameEvent.epoch} seq ${sameEvent.seq}`,
      );
      out.duplicates++;
      continue;
    }
    const key =
      event.terminalId && event.transactionId
        ? transactionKey(event.terminalId, event.transactionId)
        : undefined;
    const sameTransaction = key ? byTransaction.get(key) : undefined;
    if (sameTransaction) {
      const where = `epoch ${sameTransaction.epoch} seq ${sameTransaction.seq}`;
      // A POS may re-serialise a retry (another key order): only then is canonical JSON worth its cost.
      if (
        sameTransaction.bodyHash === event.bodyHash ||
        sameJsonValue(sameTransaction.bodyText, event.bodyText)
      ) {
        insert(
          'duplicate',
          `transaction ${event.transactionId} of terminal ${event.terminalId} is already stored as ${where}`,
        );
        out.duplicates++;
      } else {
        const reason = `transaction ${event.transactionId} of terminal ${event.terminalId} is already stored with a different body as ${where}`;
        insert('quarantined', reason);
        out.quarantine.push({ event, reason });
      }
      continue;
    }
    insert('stored', null);
    out.stored++;
    byEventId.set(event.eventId, { epoch, seq: event.seq });
    if (key)
      byTransaction.set(key, { epoch, seq: event.seq, bodyHash: event.bodyHash, bodyText: event.bodyText });
  }
  return out;
}

/** Walks seqs above `from` (ascending) while they are consecutive: the new contiguous-through. */
export function advanceContiguous(from: number, ascendingSeqsAbove: readonly number[]): number {
  let through = from;
  for (const seq of ascendingSeqsAbove) {
    if (seq === through + 1) through = seq;
    else if (seq > through + 1) break;
  }
  return through;
}

/** Missing ranges between contiguous-through and the highest seq, from the seqs held above it. */
export function findGaps(
  contiguousThrough: number,
  ascendingSeqsAbove: readonly number[],
  limit = 20,
): { from: number; to: number }[] {
  const gaps: { from: number; to: number }[] = [];
  let expected = contiguousThrough + 1;
  for (const seq of ascendingSeqsAbove) {
    if (seq > expected) {
      gaps.push({ from: expected, to: seq - 1 });
      if (gaps.length >= limit) break;
    }
    expected = Math.max(expected, seq + 1);
  }
  return gaps;
}

/** Rows a plan inserts, by status: what the epoch's counters grow by in the same transaction. */
export function tallyInserts(inserts: readonly RowToInsert[]): Record<EventStatus, number> {
  const tally: Record<EventStatus, number> = {
    stored: 0,
    rejected: 0,
    duplicate: 0,
    quarantined: 0,
    moved: 0,
  };
  for (const row of inserts) tally[row.status]++;
  return tally;
}
