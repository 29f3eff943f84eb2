import { describe, expect, it } from 'vitest';
import {
  advanceContiguous,
  classifyEvents,
  findGaps,
  tallyInserts,
  transactionKey,
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

  it("takes a late copy of an event its writer moved to the next epoch as a redelivery, and another writer's as a conflict", () => {
    const facts = noFacts();
    // The close arrived first: seqs 1 and 2 hold `moved` rows (no body) for the writer's events.
    facts.bySeq.set(1, { eventId: event(1).eventId, bodyHash: null, status: 'moved' });
    facts.bySeq.set(2, { eventId: '01OTHERWRITER0002', bodyHash: null, status: 'moved' });
    const plan = classifyEvents(EPOCH, [event(1), event(2)], facts);
    expect(plan.inserts).toEqual([]);
    expect(plan.conflicts.map((c) => c.seq)).toEqual([2]);
    expect(plan.quarantine.map((q) => q.event.seq)).toEqual([2]);
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

  it('lists the missing ranges above contiguous-through', () => {
    expect(findGaps(3, [5, 6, 9])).toEqual([
      { from: 4, to: 4 },
      { from: 7, to: 8 },
    ]);
    expect(findGaps(3, [])).toEqual([]);
    expect(findGaps(0, [3, 6, 9], 1)).toEqual([{ from: 1, to: 2 }]);
  });
});
