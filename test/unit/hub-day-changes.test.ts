import { describe, expect, it } from 'vitest';
import type { DayClose } from '../../src/contracts/day-close.js';
import type { RowToInsert } from '../../src/hub/classify-events.js';
import {
  dayChanges,
  planTillDays,
  rejudge,
  tillDayKey,
  type StoredTillDay,
} from '../../src/hub/day-changes.js';
import { chainDaySummary, storeDayState } from '../../src/hub/day-summary.js';
import type { EventStatus, IncomingEvent } from '../../src/hub/hub-store.js';

const base: IncomingEvent = {
  seq: 1,
  eventId: '01EV00000000000000000001',
  type: 'sale',
  capturedAt: '2026-11-23T10:00:00Z',
  terminalId: 'T1',
  transactionId: 'T1-1',
  businessDay: '2026-11-23',
  bodyText: '{}',
  bodyIsJson: true,
  bodyHash: 'h',
  invalidReason: undefined,
};

const sold = (
  seq: number,
  terminalId: string,
  amount: number,
  status: EventStatus = 'stored',
  type: 'sale' | 'return' = 'sale',
): RowToInsert => ({
  event: {
    ...base,
    seq,
    terminalId,
    transactionId: `${terminalId}-${seq}`,
    type,
    tally: { type, currency: 'EUR', amount },
  },
  status,
  reason: null,
});

const closeDoc = (terminalId: string, closedAt: string): DayClose => ({
  v: 1,
  type: 'day-close',
  terminalId,
  businessDay: '2026-11-23',
  closedAt,
  firstTransactionId: null,
  lastTransactionId: null,
  totals: [],
});

const closed = (seq: number, terminalId: string, closedAt: string): RowToInsert => ({
  event: {
    ...base,
    seq,
    eventId: `01CL${String(seq).padStart(20, '0')}`,
    type: 'day-close',
    terminalId,
    transactionId: null,
    dayClose: closeDoc(terminalId, closedAt),
  },
  status: 'stored',
  reason: null,
});

describe("what a batch changes in its store's days", () => {
  it('adds only stored transactions to their tills’ tallies, in key order, and lists the touched tills', () => {
    const changes = dayChanges([
      sold(1, 'T2', 100),
      sold(2, 'T1', 200),
      sold(3, 'T1', 300),
      sold(4, 'T1', 999, 'duplicate'),
      sold(5, 'T1', 999, 'quarantined'),
      sold(6, 'T1', 50, 'stored', 'return'),
    ]);
    expect(changes.tallies).toEqual([
      { terminalId: 'T1', businessDay: '2026-11-23', type: 'return', currency: 'EUR', count: 1, amount: 50 },
      { terminalId: 'T1', businessDay: '2026-11-23', type: 'sale', currency: 'EUR', count: 2, amount: 500 },
      { terminalId: 'T2', businessDay: '2026-11-23', type: 'sale', currency: 'EUR', count: 1, amount: 100 },
    ]);
    expect(changes.touched.map((d) => d.terminalId)).toEqual(['T1', 'T2']);
    expect(changes.closes).toEqual([]);
  });

  it('takes in closes, the latest closedAt in force, a late older one kept out', () => {
    const changes = dayChanges([
      closed(9, 'T1', '2026-11-23T22:05:00+01:00'),
      closed(7, 'T1', '2026-11-23T22:00:00+01:00'),
      closed(8, 'T3', '2026-11-23T22:00:00+01:00'),
    ]);
    expect(changes.closes.map((c) => c.seq)).toEqual([7, 8, 9]);
    const none = new Map<string, StoredTillDay>();
    const plans = planTillDays(changes.touched, none, changes.closes);
    expect(plans.map((p) => [p.terminalId, p.newClose?.seq])).toEqual([
      ['T1', 9],
      ['T3', 8],
    ]);

    const inForce = new Map<string, StoredTillDay>([
      [
        tillDayKey({ terminalId: 'T1', businessDay: '2026-11-23' }),
        {
          terminalId: 'T1',
          businessDay: '2026-11-23',
          state: 'confirmed',
          close: { epoch: 'e', seq: 3, eventId: '01ZZZ', closedAt: '2026-11-23T23:00:00+01:00' },
          verdict: { state: 'confirmed', differences: { missing: [], extra: [], totals: [] } },
        },
      ],
    ]);
    expect(planTillDays(changes.touched, inForce, changes.closes)[0]!.newClose).toBeUndefined();
  });

  it('says a verdict changed only when its state or differences did', () => {
    const doc = closeDoc('T1', '2026-11-23T22:00:00+01:00');
    const first = rejudge(doc, { totals: [], transactionIds: [] }, null, '2026-11-24T00:00:00Z');
    expect(first.changed).toBe(true);
    expect(
      rejudge(doc, { totals: [], transactionIds: [] }, first.result, '2026-11-24T01:00:00Z').changed,
    ).toBe(false);
    expect(
      rejudge(
        doc,
        { totals: [{ type: 'sale', currency: 'EUR', count: 1, amount: 1 }], transactionIds: ['x'] },
        first.result,
        '2026-11-24T01:00:00Z',
      ).changed,
    ).toBe(true);
  });
});

describe('a store day and the chain day', () => {
  it('is confirmed only when every till that sold closed and is confirmed; a mismatch outweighs a till not closed', () => {
    expect(storeDayState([{ state: 'confirmed' }, { state: 'confirmed' }])).toBe('confirmed');
    expect(storeDayState([{ state: 'confirmed' }, { state: 'not-closed' }])).toBe('not-closed');
    expect(storeDayState([{ state: 'not-closed' }, { state: 'mismatch' }])).toBe('mismatch');
    expect(storeDayState([])).toBe('not-closed');
  });

  it('sorts every known store into confirmed, mismatched and not closed, naming the tills', () => {
    const summary = chainDaySummary(
      '2026-11-23',
      ['S1', 'S2', 'S3', 'S4'],
      [
        { storeId: 'S1', terminalId: 'T1', state: 'confirmed' },
        { storeId: 'S2', terminalId: 'T1', state: 'confirmed' },
        { storeId: 'S2', terminalId: 'T2', state: 'mismatch' },
        { storeId: 'S2', terminalId: 'T3', state: 'not-closed' },
        { storeId: 'S3', terminalId: 'T1', state: 'not-closed' },
      ],
    );
    expect(summary).toEqual({
      businessDay: '2026-11-23',
      counts: { stores: 4, confirmed: 1, mismatch: 1, notClosed: 2 },
      confirmed: ['S1'],
      mismatch: [{ storeId: 'S2', mismatched: ['T2'], notClosed: ['T3'] }],
      notClosed: [
        { storeId: 'S3', notClosed: ['T1'] },
        { storeId: 'S4', notClosed: [] },
      ],
    });
  });
});
