import { describe, expect, it } from 'vitest';
import {
  batchFiling,
  filedOn,
  isCalendarDay,
  monthOfPartition,
  monthsAhead,
  monthsBefore,
  monthsPastRetention,
  nextMonth,
  partitionName,
} from '../../src/hub/event-filing.js';
import type { IncomingEvent } from '../../src/hub/hub-store.js';

const AT = Date.parse('2026-11-23T12:00:00Z');

const event = (overrides: Partial<IncomingEvent> = {}): IncomingEvent => ({
  seq: 1,
  eventId: '01EVENT0000000001',
  type: 'sale',
  capturedAt: '2026-11-24T00:30:00+01:00',
  terminalId: 'T1',
  transactionId: 'T1-1',
  businessDay: '2026-11-23',
  bodyText: '{}',
  bodyIsJson: true,
  bodyHash: 'h',
  invalidReason: undefined,
  ...overrides,
});

describe('where an event is filed', () => {
  it('files a valid event under its business day, anything else under the UTC day it was captured', () => {
    expect(filedOn(event(), AT)).toBe('2026-11-23');
    // Refused: its business day may be anything the POS wrote.
    expect(filedOn(event({ invalidReason: 'bad', businessDay: '2026-13-45' }), AT)).toBe('2026-11-23');
    expect(filedOn(event({ businessDay: null, capturedAt: '2026-12-01T00:30:00+01:00' }), AT)).toBe(
      '2026-11-30',
    );
    expect(filedOn(event({ businessDay: '2026-02-30' }), AT)).toBe('2026-11-23');
  });

  it('looks for an earlier copy of a valid event in its own month, and of a refused one everywhere', () => {
    const filing = batchFiling(
      [
        event(),
        event({ businessDay: '2026-10-31' }),
        event({ businessDay: '2026-11-02' }),
        event({ invalidReason: 'withheld by the store: too large', businessDay: null }),
      ],
      AT,
    );
    expect(filing.filedOn).toEqual(['2026-11-23', '2026-10-31', '2026-11-02', '2026-11-23']);
    expect(filing.range).toEqual([1, 2, 1, 0]);
    expect(filing.months).toEqual([
      { from: '-infinity', to: 'infinity' },
      { from: '2026-11-01', to: '2026-12-01' },
      { from: '2026-10-01', to: '2026-11-01' },
    ]);
  });

  it('checks calendar dates as the transaction schema does', () => {
    expect(isCalendarDay('2028-02-29')).toBe(true);
    expect(isCalendarDay('2026-02-29')).toBe(false);
    expect(isCalendarDay('2026-1-01')).toBe(false);
  });
});

describe('months of the partitioned table', () => {
  it('counts months across years', () => {
    expect(nextMonth('2026-12-01')).toBe('2027-01-01');
    expect(monthsBefore('2027-01-01', 2)).toBe('2026-11-01');
    expect(monthsBefore('2026-11-01', -3)).toBe('2027-02-01');
    expect(partitionName('2027-01-01')).toBe('hub_events_2027_01');
    expect(monthOfPartition('hub_events_2027_01')).toBe('2027-01-01');
    expect(monthOfPartition('hub_events_default')).toBeUndefined();
  });

  it('makes the current month and the next ones, and offers for dropping only months before the retained ones', () => {
    expect(monthsAhead(AT, 2)).toEqual(['2026-11-01', '2026-12-01', '2027-01-01']);
    const existing = ['2026-07-01', '2026-08-01', '2026-09-01', '2026-10-01', '2026-11-01', '2026-12-01'];
    // Two whole months kept before November: September and October stay.
    expect(monthsPastRetention(existing, AT, 2)).toEqual(['2026-07-01', '2026-08-01']);
    expect(monthsPastRetention(existing, AT, 12)).toEqual([]);
  });
});
