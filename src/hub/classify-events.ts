import { sameJsonValue, textDigest } from '../lib/canonical-hash.js';
import type { EventStatus, IncomingEvent, SeqReason } from './hub-store.js';

/** What the database already holds that bears on an incoming batch; both hub stores look it up the same way. */
export interface ExistingFacts {
  /** Rows at (store, epoch, seq) for the batch's seqs; a `moved` row has no body, hence no hash. */
  bySeq: Map<number, { eventId: string; bodyHash: string | null; status: EventStatus }>;
  /** Stored events (any epoch) carrying one of the batch's eventIds. */
  storedByEventId: Map<string, { epoch: string; seq: number }>;
  /** Stored events of this store (any epoch) with one of the batch's (terminalId, transactionId) pairs. */
  storedByTransaction: Map<string, { epoch: string; seq: number; bodyHash: string; bodyText: string }>;
  /**
   * The epoch's contiguous-through before this batch: head office held a row at every seq up to it. A
   * seq at or below it that `bySeq` lacks was held once and dropped by retention (a partition older than
   * `db.retentionMonths`); 0 or absent where nothing is ever dropped.
   */
  heldThrough?: number;
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

/**
 * A batch holds an event judged only by its digest (IncomingEvent.unjudged) that must be written after
 * all: the batch is to be parsed again in full and classified anew. Seen only when what the hub knew of
 * the epoch at parse time was wrong (its database restored meanwhile), or for a conflicting copy.
 */
export class UnjudgedEventError extends Error {
  override readonly name = 'UnjudgedEventError';
}

const mustJudge = (event: IncomingEvent, epoch: string) => {
  if (event.unjudged)
    throw new UnjudgedEventError(`seq ${event.seq} of epoch ${epoch} must be judged before it is written`);
};

export const transactionKey = (terminalId: string, transactionId: string) =>
  `${terminalId}\u0000${transactionId}`;

/**
 * The body digest of an event the store withheld (sent as a marker without its body, since it fits no
 * message): fixed per eventId, so a redelivered marker matches the row the first one left.
 */
export const withheldDigest = (eventId: string) => textDigest(`withheld\u0000${eventId}`);

/**
 * Decides, for each incoming event, what the hub does with it. Pure, so the rules are the same for
 * SQLite and PostgreSQL and are unit-tested without a database:
 * - a seq the hub already holds with the same body is a redelivery: acknowledged, nothing written;
 *   so is the same event (same eventId) at the same seq once with its body and once as the store's
 *   withheld marker (a broker took it on one connection and refused it for its size on another);
 * - so is an event its writer has since moved to its next epoch (a late copy of a batch published
 *   before the close), but only once the hub stores it somewhere: until then the `moved` row points to
 *   an event that may never arrive (a clone that moved the event may be switched off for good), so
 *   the copy is a conflict, not quarantined: its sender keeps it and moves it to an epoch of its own,
 *   and whichever copy arrives second is counted as a duplicate;
 * - a seq it holds with a different body is a conflict (a restored or cloned store database): the
 *   newcomer is quarantined, never merged or overwritten, and the agent is told;
 * - an invalid body, or an event the store withheld (too large for any message), is kept as
 *   `rejected` so the seq is accounted for and the queue behind it flows; a withheld event the hub
 *   already stores under another seq is a duplicate instead, so the store does not dead-letter a sale
 *   head office holds;
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
  const heldThrough = facts.heldThrough ?? 0;
  for (const event of events) {
    const existing = bySeq.get(event.seq);
    // Computed only where it decides something: a digest per event is a measurable share of ingest.
    const withheld = () => !event.unjudged && event.bodyHash === withheldDigest(event.eventId);
    if (existing) {
      if (existing.status === 'moved' && existing.eventId === event.eventId) {
        if (!byEventId.has(event.eventId)) {
          out.conflicts.push({
            seq: event.seq,
            reason:
              `event ${event.eventId} at seq ${event.seq} of epoch ${epoch} was moved to another epoch by a writer ` +
              'that closed this one, and head office does not hold it there yet: send it under an epoch of your own',
          });
        }
        continue;
      }
      // A plain redelivery (same text) ends the same either way, except in the words for a refused
      // event the hub no longer refuses: only there is the marker's digest worth computing.
      const markerOfSameEvent =
        existing.eventId === event.eventId &&
        (existing.bodyHash === event.bodyHash
          ? existing.status === 'rejected' && event.invalidReason === undefined && withheld()
          : withheld() || existing.bodyHash === withheldDigest(existing.eventId));
      if (markerOfSameEvent) {
        if (existing.status === 'rejected')
          out.rejected.push({
            seq: event.seq,
            reason: event.invalidReason ?? 'previously withheld by the store',
          });
        continue;
      }
      if (existing.bodyHash !== event.bodyHash) {
        mustJudge(event, epoch);
        const reason = `seq ${event.seq} of epoch ${epoch} already holds a different event`;
        out.conflicts.push({ seq: event.seq, reason });
        out.quarantine.push({ event, reason });
      } else if (existing.status === 'rejected') {
        out.rejected.push({ seq: event.seq, reason: event.invalidReason ?? 'previously rejected' });
      }
      continue;
    }
    if (event.seq <= heldThrough) {
      // Acknowledged long ago and since dropped by retention: head office cannot tell a redelivery from
      // another writer's event. Storing it could double a sale exported months ago; acknowledging it
      // could lose a new one: the sender moves it to an epoch of its own instead, like any conflict.
      out.conflicts.push({
        seq: event.seq,
        reason: `seq ${event.seq} of epoch ${epoch} was held by head office and is older than it keeps (db.retentionMonths): send it under an epoch of your own`,
      });
      continue;
    }
    mustJudge(event, epoch);
    const insert = (status: EventStatus, reason: string | null) => {
      out.inserts.push({ event, status, reason });
      bySeq.set(event.seq, { eventId: event.eventId, bodyHash: event.bodyHash, status });
    };
    const sameEvent = byEventId.get(event.eventId);
    if (event.invalidReason !== undefined && !(sameEvent && withheld())) {
      insert('rejected', event.invalidReason);
      out.rejected.push({ seq: event.seq, reason: event.invalidReason });
      continue;
    }
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

/**
 * One step of advancing contiguous-through over the seqs held above it, read `limit` at a time (both
 * stores run this loop, each with its own query): `more` when the step used every seq it read, so the
 * next ones may continue the run.
 */
export function contiguityStep(
  through: number,
  ascendingSeqsAbove: readonly number[],
  limit: number,
): { through: number; more: boolean } {
  const next = advanceContiguous(through, ascendingSeqsAbove);
  return { through: next, more: ascendingSeqsAbove.length >= limit && next >= ascendingSeqsAbove.at(-1)! };
}

/**
 * Contiguous-through after a write, when the written seqs alone decide it: nothing was held above
 * contiguous-through before (the highest seq held was contiguous-through itself), so the rows above it
 * now are exactly the new ones. Undefined when older rows above it may continue the run: read them.
 * Saves the read in the usual case, a store sending its events in order.
 */
export function contiguousFromWrites(
  stream: { contiguousThrough: number; highestSeq: number },
  writtenSeqs: readonly number[],
): number | undefined {
  if (stream.highestSeq !== stream.contiguousThrough) return undefined;
  const ascending = writtenSeqs.every((seq, i) => i === 0 || seq > writtenSeqs[i - 1]!)
    ? writtenSeqs
    : [...writtenSeqs].sort((a, b) => a - b);
  return advanceContiguous(stream.contiguousThrough, ascending);
}

/** The highest seq held after a write (no spread: a batch may hold 2,000 seqs). */
export function highestAfter(highestSeq: number, writtenSeqs: readonly number[]): number {
  let highest = highestSeq;
  for (const seq of writtenSeqs) if (seq > highest) highest = seq;
  return highest;
}

/**
 * The seqs of a batch the database may hold a row for: none above the epoch's highest seq, since every
 * write raises it under the epoch's lock. A store sending new events needs no lookup by seq at all.
 */
export const seqsMaybeHeld = (events: readonly IncomingEvent[], highestSeq: number): number[] =>
  events.flatMap((e) => (e.seq <= highestSeq ? [e.seq] : []));

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
