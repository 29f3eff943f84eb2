import { describe, expect, it } from 'vitest';
import {
  advanceContiguous,
  classifyEvents,
  contiguityStep,
  contiguousFromWrites,
  findGaps,
  highestAfter,
  seqsMaybeHeld,
  tallyInserts,
  transactionKey,
  UnjudgedEventError,
  withheldDigest,
  type ExistingFacts,
} from '../../src/hub/classify-events.js';
import type { IncomingEvent } from '../../src/hub/hub-store.js';

const EPOCH = 'aaaabbbbccccdddd';

function event(seq: number, overrides: Partial<IncomingEvent> = {}): IncomingEvent {
  return {
    seq,
    eventId: `01EVENT${String(seq).padStart(10, '0')}`,
    type: 'sale',
    capturedAt: '2026-11-23T10:00:00.000Z',
    terminalId: 'T1',
    transactionId: `tx-${seq}`,
    businessDay: '2026-11-23',
    bodyText: `{"n":${seq}}`,
    bodyIsJson: true,
    bodyHash: `hash-${seq}`,
    invalidReason: undefined,
    ...overrides,
  };
}

const noFacts = (): ExistingFacts => ({
  bySeq: new Map(),
  storedByEventId: new Map(),
  storedByTransaction: new Map(),
});

describe('classifyEvents', () => {
  it('stores new valid events once each', () => {
    const plan = classifyEvents(EPOCH, [event(1), event(2)], noFacts());
    expect(plan.inserts.map((i) => [i.event.seq, i.status])).toEqual([
      [1, 'stored'],
      [2, 'stored'],
    ]);
    expect(plan.stored).toBe(2);
    expect(plan.conflicts).toEqual([]);
  });

  it('writes nothing for a redelivered seq with the same body', () => {
    const facts = noFacts();
    facts.bySeq.set(1, { eventId: event(1).eventId, bodyHash: 'hash-1', status: 'stored' });
    const plan = classifyEvents(EPOCH, [event(1)], facts);
    expect(plan.inserts).toEqual([]);
    expect(plan.quarantine).toEqual([]);
    expect(plan.stored).toBe(0);
  });

  it('quarantines a different body under a held seq and reports the conflict, never overwriting', () => {
    const facts = noFacts();
    facts.bySeq.set(1, { eventId: '01OTHERWRITER0001', bodyHash: 'original', status: 'stored' });
    const plan = classifyEvents(EPOCH, [event(1)], facts);
    expect(plan.inserts).toEqual([]);
    expect(plan.quarantine).toHaveLength(1);
    expect(plan.conflicts).toEqual([
      { seq: 1, reason: expect.stringContaining('different event') as string },
    ]);
  });

  it('keeps an invalid event as rejected so its seq is accounted for, and reports it again on redelivery', () => {
    const bad = event(2, { invalidReason: 'invalid transaction: totals.total: wrong' });
    const first = classifyEvents(EPOCH, [event(1), bad, event(3)], noFacts());
    expect(first.inserts.map((i) => i.status)).toEqual(['stored', 'rejected', 'stored']);
    expect(first.rejected).toEqual([{ seq: 2, reason: 'invalid transaction: totals.total: wrong' }]);
    const facts = noFacts();
    facts.bySeq.set(2, { eventId: bad.eventId, bodyHash: 'hash-2', status: 'rejected' });
    const again = classifyEvents(EPOCH, [bad], facts);
    expect(again.inserts).toEqual([]);
    expect(again.rejected).toHaveLength(1);
  });

  it("takes a late copy of an event its writer moved to the next epoch, and stored there, as a redelivery, and another writer's as a conflict", () => {
    const facts = noFacts();
    // The close arrived first: seqs 1 and 2 hold `moved` rows (no body) for the writer's events.
    facts.bySeq.set(1, { eventId: event(1).eventId, bodyHash: null, status: 'moved' });
    facts.bySeq.set(2, { eventId: '01OTHERWRITER0002', bodyHash: null, status: 'moved' });
    // Event 1 has reached its new place.
    facts.storedByEventId.set(event(1).eventId, { epoch: 'f0f0f0f0f0f0f0f0', seq: 1 });
    const plan = classifyEvents(EPOCH, [event(1), event(2)], facts);
    expect(plan.inserts).toEqual([]);
    expect(plan.conflicts.map((c) => c.seq)).toEqual([2]);
    expect(plan.quarantine.map((q) => q.event.seq)).toEqual([2]);
  });

  it('never acknowledges an event whose moved row points to a place head office does not hold yet: a conflict, not quarantined', () => {
    // A clone closed the epoch first and moved this event on; the original PC's copy arrives here, and
    // the clone may never deliver its own (switched off). Acknowledging the copy would lose the sale.
    const facts = noFacts();
    facts.bySeq.set(1, { eventId: event(1).eventId, bodyHash: null, status: 'moved' });
    const plan = classifyEvents(EPOCH, [event(1)], facts);
    expect(plan.inserts).toEqual([]);
    expect(plan.quarantine).toEqual([]);
    expect(plan.conflicts).toEqual([
      {
        seq: 1,
        reason: expect.stringMatching(/moved to another epoch.*does not hold it there yet/) as string,
      },
    ]);
    // The original PC re-sends it under an epoch of its own: stored once there. The clone's copy, if
    // it ever comes, is then a duplicate.
    const sentAgain = classifyEvents(
      '0c0c0c0c0c0c0c0c',
      [event(7, { eventId: event(1).eventId })],
      noFacts(),
    );
    expect(sentAgain.stored).toBe(1);
    const clonesCopy = noFacts();
    clonesCopy.storedByEventId.set(event(1).eventId, { epoch: '0c0c0c0c0c0c0c0c', seq: 7 });
    expect(
      classifyEvents('f0f0f0f0f0f0f0f0', [event(3, { eventId: event(1).eventId })], clonesCopy),
    ).toMatchObject({
      stored: 0,
      duplicates: 1,
    });
  });

  it('takes an event once sent with its body and once as the store’s withheld marker for the same event, in either order', () => {
    const marker = event(1, {
      bodyText: 'null',
      bodyHash: withheldDigest(event(1).eventId),
      invalidReason: 'withheld by the store: too large',
    });
    // Stored with its body, then withheld on a later connection (a broker with a lower limit): acknowledged.
    const storedFirst = noFacts();
    storedFirst.bySeq.set(1, { eventId: event(1).eventId, bodyHash: 'hash-1', status: 'stored' });
    const late = classifyEvents(EPOCH, [marker], storedFirst);
    expect(late).toMatchObject({ inserts: [], quarantine: [], conflicts: [], rejected: [] });
    // Withheld first (rejected), then a copy with its body: still rejected, never quarantined.
    const withheldFirst = noFacts();
    withheldFirst.bySeq.set(1, { eventId: event(1).eventId, bodyHash: marker.bodyHash, status: 'rejected' });
    const body = classifyEvents(EPOCH, [event(1)], withheldFirst);
    expect(body).toMatchObject({ inserts: [], quarantine: [], conflicts: [] });
    expect(body.rejected.map((r) => r.seq)).toEqual([1]);
    // A redelivered marker is reported rejected again.
    expect(classifyEvents(EPOCH, [marker], withheldFirst).rejected).toEqual([
      { seq: 1, reason: 'withheld by the store: too large' },
    ]);
  });

  it('keeps a withheld event as rejected, unless head office already stores that event under another seq', () => {
    const marker = (seq: number) =>
      event(seq, {
        bodyText: 'null',
        bodyHash: withheldDigest(event(seq).eventId),
        invalidReason: 'withheld by the store: too large',
      });
    const facts = noFacts();
    facts.storedByEventId.set(event(2).eventId, { epoch: 'old0old0old0old0', seq: 9 });
    const plan = classifyEvents(EPOCH, [marker(1), marker(2)], facts);
    expect(plan.inserts.map((i) => [i.event.seq, i.status])).toEqual([
      [1, 'rejected'],
      [2, 'duplicate'],
    ]);
    expect(plan.rejected.map((r) => r.seq)).toEqual([1]);
  });

  it('counts an eventId already stored under another epoch as a duplicate, not a second sale', () => {
    const facts = noFacts();
    facts.storedByEventId.set(event(1).eventId, { epoch: 'old0old0old0old0', seq: 9 });
    const plan = classifyEvents(EPOCH, [event(1)], facts);
    expect(plan.inserts.map((i) => i.status)).toEqual(['duplicate']);
    expect(plan.stored).toBe(0);
    expect(plan.duplicates).toBe(1);
  });

  it('counts a POS transaction captured again under another seq once, and quarantines a changed one', () => {
    const facts = noFacts();
    facts.storedByTransaction.set(transactionKey('T1', 'tx-1'), {
      epoch: EPOCH,
      seq: 40,
      bodyHash: 'hash-1',
      bodyText: '{"n":1}',
    });
    facts.storedByTransaction.set(transactionKey('T1', 'tx-2'), {
      epoch: EPOCH,
      seq: 41,
      bodyHash: 'other',
      bodyText: '{"n":-2}',
    });
    // The same transaction re-serialised by the POS (other key order) is still the same transaction.
    facts.storedByTransaction.set(transactionKey('T1', 'tx-3'), {
      epoch: EPOCH,
      seq: 42,
      bodyHash: 'x',
      bodyText: '{"b":2,"a":1}',
    });
    const reordered = event(3, { bodyText: '{"a":1,"b":2}' });
    const plan = classifyEvents(EPOCH, [event(1), event(2), reordered], facts);
    expect(plan.inserts.map((i) => i.status)).toEqual(['duplicate', 'quarantined', 'duplicate']);
    expect(plan.quarantine).toHaveLength(1);
  });

  it('tells a changed big integer apart: digits a double cannot hold still make a different body', () => {
    const facts = noFacts();
    const stored = '{"n":1,"extensions":{"loyaltyCard":12345678901234567891,"2":"b","1":"a"}}';
    facts.storedByTransaction.set(transactionKey('T1', 'tx-1'), {
      epoch: EPOCH,
      seq: 40,
      bodyHash: 'x',
      bodyText: stored,
    });
    facts.storedByTransaction.set(transactionKey('T1', 'tx-2'), {
      epoch: EPOCH,
      seq: 41,
      bodyHash: 'y',
      bodyText: stored,
    });
    const plan = classifyEvents(
      EPOCH,
      [
        // Same digits, other key order and spacing: the same transaction.
        event(1, {
          bodyText: '{ "extensions": {"1":"a", "2":"b", "loyaltyCard": 12345678901234567891}, "n": 1 }',
        }),
        // One digit changed beyond what a double holds: a different transaction.
        event(2, { bodyText: stored.replace('567891', '567892') }),
      ],
      facts,
    );
    expect(plan.inserts.map((i) => i.status)).toEqual(['duplicate', 'quarantined']);
  });

  it('sees duplicates inside one batch', () => {
    const plan = classifyEvents(
      EPOCH,
      [event(1), event(1), event(2, { eventId: event(1).eventId })],
      noFacts(),
    );
    expect(plan.inserts.map((i) => [i.event.seq, i.status])).toEqual([
      [1, 'stored'],
      [2, 'duplicate'],
    ]);
  });

  it('refuses, without storing or quarantining, an event at a seq head office held and dropped under retention', () => {
    // Seqs 1–5 were acknowledged (contiguous-through 5) and their month dropped: no row at seq 2 any more.
    const facts = { ...noFacts(), heldThrough: 5 };
    facts.bySeq.set(4, { eventId: event(4).eventId, bodyHash: 'hash-4', status: 'stored' });
    const plan = classifyEvents(EPOCH, [event(2), event(4), event(6)], facts);
    expect(plan.inserts.map((i) => [i.event.seq, i.status])).toEqual([[6, 'stored']]);
    expect(plan.quarantine).toEqual([]);
    expect(plan.conflicts).toEqual([
      { seq: 2, reason: expect.stringContaining('db.retentionMonths') as string },
    ]);
    // Without retention (nothing ever dropped), every seq without a row is new.
    expect(classifyEvents(EPOCH, [event(2)], noFacts()).stored).toBe(1);
  });

  it('takes an event judged only by its digest as a redelivery, and asks for a full judgement before writing one', () => {
    const facts = noFacts();
    facts.bySeq.set(1, { eventId: event(1).eventId, bodyHash: 'hash-1', status: 'stored' });
    const digested = (seq: number, overrides: Partial<IncomingEvent> = {}) =>
      event(seq, { unjudged: true, terminalId: null, transactionId: null, businessDay: null, ...overrides });
    const plan = classifyEvents(EPOCH, [digested(1)], facts);
    expect(plan.inserts).toEqual([]);
    expect(plan.conflicts).toEqual([]);
    // A different text at the held seq must be quarantined, with names: only a full judgement gives them.
    expect(() => classifyEvents(EPOCH, [digested(1, { bodyHash: 'other' })], facts)).toThrow(
      UnjudgedEventError,
    );
    // No row where the hub thought it held one: to be stored, so to be judged.
    expect(() => classifyEvents(EPOCH, [digested(2)], facts)).toThrow(UnjudgedEventError);
  });

  it("tallies the rows a plan inserts, by status, for the epoch's counters", () => {
    const bad = event(3, { invalidReason: 'invalid transaction: v: required' });
    const plan = classifyEvents(EPOCH, [event(1), event(2, { eventId: event(1).eventId }), bad], noFacts());
    expect(tallyInserts(plan.inserts)).toEqual({
      stored: 1,
      duplicate: 1,
      rejected: 1,
      quarantined: 0,
      moved: 0,
    });
  });
});

describe('contiguity', () => {
  it('advances only over consecutive seqs', () => {
    expect(advanceContiguous(0, [1, 2, 3, 5])).toBe(3);
    expect(advanceContiguous(3, [5, 6])).toBe(3);
    expect(advanceContiguous(3, [4, 4, 5])).toBe(5);
    expect(advanceContiguous(0, [])).toBe(0);
  });

  it('reads on while a step of seqs continued the run to its end', () => {
    expect(contiguityStep(0, [1, 2, 3], 3)).toEqual({ through: 3, more: true });
    expect(contiguityStep(0, [1, 2, 3], 5)).toEqual({ through: 3, more: false });
    expect(contiguityStep(0, [1, 3, 4], 3)).toEqual({ through: 1, more: false });
  });

  it('takes contiguous-through from the written seqs alone only when nothing was held above it', () => {
    expect(contiguousFromWrites({ contiguousThrough: 10, highestSeq: 10 }, [11, 12, 14])).toBe(12);
    expect(contiguousFromWrites({ contiguousThrough: 10, highestSeq: 10 }, [12, 11])).toBe(12);
    expect(contiguousFromWrites({ contiguousThrough: 10, highestSeq: 10 }, [])).toBe(10);
    // Seq 13 may be held already: only the table can say how far the run goes.
    expect(contiguousFromWrites({ contiguousThrough: 10, highestSeq: 13 }, [11, 12])).toBeUndefined();
    expect(highestAfter(10, [3, 12, 11])).toBe(12);
    expect(highestAfter(10, [])).toBe(10);
  });

  it('looks up by seq only the seqs that may already have a row', () => {
    expect(seqsMaybeHeld([event(3), event(9), event(10), event(11)], 10)).toEqual([3, 9, 10]);
    expect(seqsMaybeHeld([event(11)], 10)).toEqual([]);
  });

  it('lists the missing ranges above contiguous-through', () => {
    expect(findGaps(3, [5, 6, 9])).toEqual([
      { from: 4, to: 4 },
      { from: 7, to: 8 },
    ]);
    expect(findGaps(3, [])).toEqual([]);
    expect(findGaps(0, [3, 6, 9], 1)).toEqual([{ from: 1, to: 2 }]);
  });
});
