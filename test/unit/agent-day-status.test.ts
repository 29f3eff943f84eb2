import { describe, expect, it } from 'vitest';
import { buildDaysStatus, dayProblems, differenceWords } from '../../src/agent/day-status.js';
import type { DayDifferences, ZTotal } from '../../src/contracts/day-close.js';
import { dayStatusSchema } from '../../src/contracts/status.js';
import type { TillDay } from '../../src/sync/index.js';

/** The business days part of the store's status, in the words the store manager reads. */

const DAY = '2026-11-24'; // a Tuesday
const PARIS = { timeZone: 'Europe/Paris' };
const NO_DIFFERENCES: DayDifferences = { missing: [], extra: [], totals: [] };

function till(
  terminalId: string,
  options: {
    day?: string;
    totals?: ZTotal[];
    closed?: boolean;
    verdict?: { state: 'confirmed' | 'mismatch'; at: string; differences?: DayDifferences; stale?: boolean };
  } = {},
): TillDay {
  return {
    terminalId,
    businessDay: options.day ?? DAY,
    close:
      options.closed === false
        ? null
        : {
            closedAt: Date.parse(`${options.day ?? DAY}T22:00:00+01:00`),
            zNumber: null,
            totals: options.totals ?? [{ type: 'sale', currency: 'EUR', count: 617, amount: 2283945 }],
            eventId: '01EVENT00000000000000',
          },
    verdict: options.verdict
      ? {
          state: options.verdict.state,
          at: Date.parse(options.verdict.at),
          differences: options.verdict.differences ?? NO_DIFFERENCES,
          receivedAt: Date.parse(options.verdict.at),
          stale: options.verdict.stale ?? false,
        }
      : null,
  };
}

const shortOfOne: DayDifferences = {
  missing: ['T2-0133'],
  extra: [],
  totals: [
    {
      type: 'sale',
      currency: 'EUR',
      till: { count: 405, amount: 1234567 },
      headOffice: { count: 404, amount: 1231567 },
    },
  ],
};

describe('the store’s business days in plain words', () => {
  it('says a confirmed day with its sales and amount, and when head office confirmed it on the store’s clock', () => {
    const days = buildDaysStatus(
      [
        till('T1', { verdict: { state: 'confirmed', at: '2026-11-25T01:05:00Z' } }),
        till('T2', { verdict: { state: 'confirmed', at: '2026-11-25T01:10:00Z' } }),
      ],
      PARIS,
    );
    expect(days).toHaveLength(1);
    expect(dayStatusSchema.parse(days[0])).toEqual(days[0]);
    // 01:10 UTC is 02:10 in Paris; 1,234 sales of €22,839.45 each till.
    expect(days[0]!.message).toBe(
      'Tuesday 24 November: 1,234 sales, €45,678.90, confirmed by head office at 02:10.',
    );
    expect(days[0]!.state).toBe('confirmed');
    expect(days[0]!.tills.map((t) => t.message)).toEqual([
      'Till T1: 617 sales, €22,839.45, confirmed by head office at 02:05.',
      'Till T2: 617 sales, €22,839.45, confirmed by head office at 02:10.',
    ]);
  });

  it('names the date of a confirmation that came days later, and returns, currencies and minor units apart', () => {
    const [day] = buildDaysStatus(
      [
        till('T1', {
          totals: [
            { type: 'return', currency: 'EUR', count: 7, amount: 4560 },
            { type: 'sale', currency: 'JPY', count: 1, amount: 1200 },
            { type: 'sale', currency: 'EUR', count: 2, amount: 1000 },
            { type: 'void', currency: 'EUR', count: 1, amount: 0 },
          ],
          verdict: { state: 'confirmed', at: '2026-11-27T08:00:00Z' },
        }),
      ],
      PARIS,
    );
    expect(day!.message).toBe(
      'Tuesday 24 November: 3 sales, €10.00 and JP¥1,200; 7 returns, €45.60; 1 void, confirmed by head office on 27 November at 09:00.',
    );
  });

  it('says which till is short, by how much, and which transactions head office is missing', () => {
    const [day] = buildDaysStatus(
      [
        till('T1', { verdict: { state: 'confirmed', at: '2026-11-25T01:05:00Z' } }),
        till('T2', { verdict: { state: 'mismatch', at: '2026-11-25T01:10:00Z', differences: shortOfOne } }),
        till('T3'),
      ],
      PARIS,
    );
    expect(day!.state).toBe('mismatch');
    expect(day!.message).toBe(
      'Tuesday 24 November: till T2 does not match head office: short 1 sale (€30.00); missing at head office: T2-0133. T1 confirmed; T3 waiting for head office.',
    );
    expect(day!.tills.map((t) => [t.terminalId, t.state, t.differences])).toEqual([
      ['T1', 'confirmed', null],
      ['T2', 'mismatch', shortOfOne],
      ['T3', 'awaiting', null],
    ]);
    expect(dayProblems([day!])).toEqual([
      expect.objectContaining({ code: 'day-mismatch', severity: 'warning', message: day!.message }),
    ]);
  });

  it('tells over from short, amounts that differ alone, and names at most five ids', () => {
    const words = differenceWords({
      missing: ['A-1', 'A-2', 'A-3', 'A-4', 'A-5', 'A-6', 'A-7'],
      extra: ['A-99'],
      totals: [
        {
          type: 'return',
          currency: 'EUR',
          till: { count: 1, amount: 500 },
          headOffice: { count: 3, amount: 1500 },
        },
        {
          type: 'sale',
          currency: 'EUR',
          till: { count: 10, amount: 10000 },
          headOffice: { count: 10, amount: 9990 },
        },
      ],
    });
    expect(words).toBe(
      '2 returns more than the till counted (€10.00); sales in EUR short by €0.10; ' +
        'missing at head office: A-1, A-2, A-3, A-4, A-5 and 2 more; not on the Z-report: A-99',
    );
  });

  it('waits for head office again when a till closed again after its verdict, and keeps a verdict without a close', () => {
    const days = buildDaysStatus(
      [
        till('T1', {
          verdict: { state: 'mismatch', at: '2026-11-25T01:10:00Z', differences: shortOfOne, stale: true },
        }),
        till('T9', {
          day: '2026-11-23',
          closed: false,
          verdict: { state: 'confirmed', at: '2026-11-24T06:00:00Z' },
        }),
      ],
      PARIS,
    );
    expect(days.map((d) => [d.businessDay, d.state])).toEqual([
      [DAY, 'awaiting'],
      ['2026-11-23', 'confirmed'],
    ]);
    expect(days[0]!.message).toBe(
      'Tuesday 24 November: 617 sales, €22,839.45; waiting for head office to confirm T1.',
    );
    expect(days[0]!.tills[0]).toMatchObject({
      state: 'awaiting',
      judgedAt: '2026-11-25T01:10:00.000Z',
      differences: null,
    });
    expect(days[1]!.tills[0]).toMatchObject({
      terminalId: 'T9',
      state: 'confirmed',
      closedAt: null,
      totals: [],
    });
    expect(dayProblems(days)).toEqual([]);
  });
});
