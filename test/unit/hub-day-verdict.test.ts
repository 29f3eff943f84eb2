import { describe, expect, it } from 'vitest';
import { dayCloseSchema, type DayClose, type ZTotal } from '../../src/contracts/day-close.js';
import { idsInRange, isLaterClose, judgeDayClose, sameVerdict } from '../../src/hub/day-verdict.js';

const AT = '2026-11-24T02:10:00.000Z';

/** A valid close of till T1 for 2026-11-23; tests change what they are about. */
function close(overrides: Partial<DayClose> = {}): DayClose {
  return dayCloseSchema.parse({
    v: 1,
    type: 'day-close',
    terminalId: 'T1',
    businessDay: '2026-11-23',
    closedAt: '2026-11-23T22:00:00+01:00',
    firstTransactionId: 'T1-0001',
    lastTransactionId: 'T1-0003',
    totals: [{ type: 'sale', currency: 'EUR', count: 3, amount: 1827 }],
    ...overrides,
  });
}

const sales = (count: number, amount: number): ZTotal => ({ type: 'sale', currency: 'EUR', count, amount });

describe('judging a till close against what head office holds', () => {
  it('confirms a day whose every id and total head office holds', () => {
    const result = judgeDayClose(
      close(),
      { totals: [sales(3, 1827)], transactionIds: ['T1-0001', 'T1-0002', 'T1-0003'] },
      AT,
    );
    expect(result).toEqual({
      terminalId: 'T1',
      businessDay: '2026-11-23',
      state: 'confirmed',
      at: AT,
      differences: { missing: [], extra: [], totals: [] },
    });
  });

  it('names the sale the till counted but head office never received, and the totals it is short by', () => {
    const result = judgeDayClose(
      close(),
      { totals: [sales(2, 1218)], transactionIds: ['T1-0001', 'T1-0003'] },
      AT,
    );
    expect(result.state).toBe('mismatch');
    expect(result.differences).toEqual({
      missing: ['T1-0002'],
      extra: [],
      totals: [
        {
          type: 'sale',
          currency: 'EUR',
          till: { count: 3, amount: 1827 },
          headOffice: { count: 2, amount: 1218 },
        },
      ],
    });
  });

  it('uses the listed ids when the close gives them, whatever their shape', () => {
    const listed = close({
      firstTransactionId: 'A',
      lastTransactionId: 'C',
      transactionIds: ['A', 'X-7', 'C'],
    });
    const result = judgeDayClose(listed, { totals: [sales(3, 1827)], transactionIds: ['A', 'C', 'Z'] }, AT);
    expect(result.differences.missing).toEqual(['X-7']);
    expect(result.differences.extra).toEqual(['Z']);
  });

  it('names transactions head office holds that the till did not count', () => {
    const result = judgeDayClose(
      close({ lastTransactionId: 'T1-0002', totals: [sales(2, 1218)] }),
      { totals: [sales(3, 1827)], transactionIds: ['T1-0001', 'T1-0002', 'T1-0003'] },
      AT,
    );
    expect(result.state).toBe('mismatch');
    expect(result.differences.extra).toEqual(['T1-0003']);
    expect(result.differences.missing).toEqual([]);
  });

  it('confirms a till that sold nothing and closed with an empty Z-report, and flags one that did sell', () => {
    const empty = close({ firstTransactionId: null, lastTransactionId: null, totals: [] });
    expect(judgeDayClose(empty, { totals: [], transactionIds: [] }, AT).state).toBe('confirmed');
    const sold = judgeDayClose(empty, { totals: [sales(1, 609)], transactionIds: ['T1-0009'] }, AT);
    expect(sold.differences).toMatchObject({ extra: ['T1-0009'], missing: [] });
    expect(sold.differences.totals).toHaveLength(1);
  });

  it('compares every (type, currency) row either side has, and only reports those that differ', () => {
    const mixed = close({
      transactionIds: ['T1-0001', 'T1-0002', 'T1-0003'],
      totals: [sales(2, 1218), { type: 'return', currency: 'EUR', count: 1, amount: 120 }],
    });
    const result = judgeDayClose(
      mixed,
      {
        totals: [
          sales(2, 1218),
          { type: 'return', currency: 'EUR', count: 1, amount: 121 },
          { type: 'void', currency: 'CHF', count: 0, amount: 0 },
        ],
        transactionIds: ['T1-0001', 'T1-0002', 'T1-0003'],
      },
      AT,
    );
    expect(result.differences.totals).toEqual([
      {
        type: 'return',
        currency: 'EUR',
        till: { count: 1, amount: 120 },
        headOffice: { count: 1, amount: 121 },
      },
    ]);
  });

  it('still checks both end ids when they form no range it can spell out', () => {
    const odd = close({ firstTransactionId: 'alpha', lastTransactionId: 'omega', totals: [sales(2, 100)] });
    const result = judgeDayClose(odd, { totals: [sales(2, 100)], transactionIds: ['alpha', 'beta'] }, AT);
    expect(result.differences).toEqual({ missing: ['omega'], extra: [], totals: [] });
  });

  it('caps the id lists at what the verdict schema allows', () => {
    const big = close({
      firstTransactionId: 'T1-1',
      lastTransactionId: 'T1-5000',
      totals: [sales(5000, 5000)],
    });
    const result = judgeDayClose(big, { totals: [], transactionIds: [] }, AT);
    expect(result.differences.missing).toHaveLength(1000);
    expect(result.differences.missing.slice(0, 3)).toEqual(['T1-1', 'T1-2', 'T1-3']);
  });
});

describe('spelling out a first..last range', () => {
  it.each([
    ['T1-0998', 'T1-1001', ['T1-0998', 'T1-0999', 'T1-1000', 'T1-1001']],
    ['T1-9', 'T1-11', ['T1-9', 'T1-10', 'T1-11']],
    ['42', '42', ['42']],
  ])('%s … %s', (first, last, ids) => {
    expect(idsInRange(first, last)).toEqual(ids);
  });

  it.each([
    ['no common prefix', 'A-1', 'B-3'],
    ['no number at the end', 'T1-a', 'T1-b'],
    ['the last below the first', 'T1-10', 'T1-9'],
    ['a padded first id shorter than the last', 'T1-09', 'T1-100'],
    ['longer than any day', 'T1-1', 'T1-9999999'],
  ])('not with %s', (_why, first, last) => {
    expect(idsInRange(first, last)).toBeUndefined();
  });
});

describe('a corrected Z-report', () => {
  it('replaces the close in force when it was closed later, and on a tie when captured later', () => {
    const first = { closedAt: '2026-11-23T22:00:00+01:00', eventId: '01AAA' };
    expect(isLaterClose({ closedAt: '2026-11-23T22:05:00+01:00', eventId: '01AAB' }, first)).toBe(true);
    // Same instant in another offset: the later-captured event wins.
    expect(isLaterClose({ closedAt: '2026-11-23T21:00:00Z', eventId: '01AAB' }, first)).toBe(true);
    expect(isLaterClose({ closedAt: '2026-11-23T21:55:00+01:00', eventId: '01AAZ' }, first)).toBe(false);
  });

  it('counts as a change of verdict only when the state or the differences change', () => {
    const a = judgeDayClose(
      close(),
      { totals: [sales(3, 1827)], transactionIds: ['T1-0001', 'T1-0002', 'T1-0003'] },
      AT,
    );
    const later = { ...a, at: '2026-11-25T00:00:00.000Z' };
    expect(sameVerdict(a, later)).toBe(true);
    const b = judgeDayClose(
      close(),
      { totals: [sales(2, 1218)], transactionIds: ['T1-0001', 'T1-0003'] },
      AT,
    );
    expect(sameVerdict(a, b)).toBe(false);
  });
});
