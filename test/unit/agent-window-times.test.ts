import { describe, expect, it } from 'vitest';
import { buildStatusReport, type StatusInputs } from '../../src/agent/status-report.js';
import { storeTimeWords } from '../../src/agent/store-time-words.js';
import { agentStatusSchema } from '../../src/contracts/status.js';

/**
 * Times in what the store manager reads are told on the store's clock, in the words a shop uses: never a
 * raw timestamp, never the PC's or the server's zone when the store's is another.
 */

const HOUR = 3600_000;
/** Monday 23 November 2026, 12:00 in Paris (UTC+1). */
const NOW = Date.parse('2026-11-23T11:00:00Z');

describe("instants on the store's clock", () => {
  const paris = storeTimeWords('Europe/Paris');

  it('say the time alone today, "yesterday", the weekday within the week, and the date beyond', () => {
    expect(paris.since(Date.parse('2026-11-23T09:42:00Z'), NOW)).toBe('since 10:42');
    expect(paris.since(Date.parse('2026-11-22T17:05:00Z'), NOW)).toBe('since yesterday 18:05');
    expect(paris.since(Date.parse('2026-11-19T17:05:00Z'), NOW)).toBe('since Thursday 18:05');
    expect(paris.since(Date.parse('2026-11-10T17:05:00Z'), NOW)).toBe('since 10 November 18:05');
    expect(paris.since(Date.parse('2025-11-10T17:05:00Z'), NOW)).toBe('since 10 November 2025 18:05');
    expect(paris.at(Date.parse('2026-11-23T09:42:00Z'), NOW)).toBe('at 10:42');
    expect(paris.at(Date.parse('2026-11-22T17:05:00Z'), NOW)).toBe('yesterday at 18:05');
    expect(paris.at(Date.parse('2026-11-19T17:05:00Z'), NOW)).toBe('on Thursday at 18:05');
    expect(paris.at(Date.parse('2026-11-10T17:05:00Z'), NOW)).toBe('on 10 November at 18:05');
  });

  it("count days by the store's midnight, not UTC's", () => {
    // 23:30 UTC on the 22nd is already 00:30 on the 23rd in Paris: today there, yesterday in UTC.
    const justAfterMidnight = Date.parse('2026-11-22T23:30:00Z');
    expect(paris.since(justAfterMidnight, NOW)).toBe('since 00:30');
    expect(storeTimeWords('UTC').since(justAfterMidnight, NOW)).toBe('since yesterday 23:30');
    // New York is six hours behind Paris: its clock reads 06:00 on the same Monday.
    expect(storeTimeWords('America/New_York').since(Date.parse('2026-11-23T03:00:00Z'), NOW)).toBe(
      'since yesterday 22:00',
    );
  });

  it('keep the wall clock across a change of the clocks (DST)', () => {
    // Paris went from UTC+2 to UTC+1 on Sunday 25 October 2026 at 03:00.
    const after = Date.parse('2026-10-26T09:00:00Z'); // Monday 10:00
    expect(paris.since(Date.parse('2026-10-24T22:30:00Z'), after)).toBe('since yesterday 00:30');
    expect(paris.since(Date.parse('2026-10-25T08:00:00Z'), after)).toBe('since yesterday 09:00');
  });
});

function inputs(change: Partial<StatusInputs>): StatusInputs {
  return {
    storeId: 'S042',
    version: '0.1.0',
    now: NOW,
    outbox: {
      epoch: 'e1',
      lastSeq: 10,
      unsent: { count: 0, oldestCapturedAt: null, atRisk: [], records: 0 },
      lastAck: null,
      deadLetters: 0,
      total: 10,
    },
    captureError: null,
    connection: {
      state: 'online',
      since: NOW - HOUR,
      lastError: null,
      lastErrorCode: null,
      everConnected: true,
    },
    broker: { url: 'mqtt://broker.example.com', ca: false, cert: false, username: false },
    logging: undefined,
    deadLetters: [],
    timeZone: 'Europe/Paris',
    ...change,
  };
}

const offlineSince = (since: number) => ({
  connection: { state: 'offline' as const, since, lastError: 'x', lastErrorCode: null, everConnected: true },
});

describe("the store manager's problems", () => {
  it('say since when the store is offline on its own clock, with the instant for the window to word', () => {
    const today = buildStatusReport(inputs(offlineSince(Date.parse('2026-11-23T09:42:00Z'))));
    expect(agentStatusSchema.parse(today)).toEqual(today);
    const [problem] = today.problems;
    expect(problem).toMatchObject({
      code: 'head-office-unreachable',
      message:
        'Not connected to head office since 10:42. Sales are saved on this PC and will be sent automatically.',
      params: { since: '2026-11-23T09:42:00.000Z' },
    });
    const yesterday = buildStatusReport(inputs(offlineSince(Date.parse('2026-11-22T17:05:00Z'))));
    expect(yesterday.problems[0]!.message).toMatch(/^Not connected to head office since yesterday 18:05\. /);
    // No instant known: no time said, no blank to fill.
    const unknown = buildStatusReport(inputs(offlineSince(NOW))).problems[0]!;
    expect(unknown.message).toMatch(/since 12:00\./);
    const never = buildStatusReport(
      inputs({
        connection: {
          state: 'connecting',
          since: null,
          lastError: null,
          lastErrorCode: null,
          everConnected: true,
        },
      }),
    ).problems[0]!;
    expect(never.message).toMatch(/^Not connected to head office\. /);
    expect(never.params).toEqual({});
  });

  it('say when a promotion was refused on the store clock, not as a timestamp', () => {
    const report = buildStatusReport(
      inputs({
        promotions: {
          active: 0,
          trustedKeys: 1,
          lastRefusal: {
            at: '2026-11-22T17:05:00.000Z',
            promotionId: 'P-7',
            version: 3,
            reason: 'unknown-key',
            message: 'It is signed with a key this store does not trust.',
            advice: 'Call support.',
            severity: 'warning',
          },
        },
      }),
    );
    const [problem] = report.problems;
    expect(problem!.code).toBe('promotion-refused');
    expect(problem!.message).toContain(
      'Promotion P-7 (version 3) from head office was refused yesterday at 18:05',
    );
    expect(problem!.message).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('carry no raw timestamp in any of their words', () => {
    const report = buildStatusReport(
      inputs({
        ...offlineSince(Date.parse('2026-11-20T17:05:00Z')),
        captureError: 'the disk holding the outbox is full',
        logging: {
          state: 'failing',
          dir: '/var/lib/outpost/logs',
          reason: 'disk-full',
          error: 'ENOSPC',
          since: NOW - HOUR,
          droppedLines: 3,
        },
        outbox: {
          epoch: 'e1',
          lastSeq: 10,
          unsent: { count: 3, oldestCapturedAt: NOW - 20 * HOUR, atRisk: [], records: 0 },
          lastAck: { seq: 7, at: NOW - 21 * HOUR },
          deadLetters: 2,
          total: 10,
        },
      }),
    );
    expect(report.problems.map((p) => p.code)).toEqual([
      'capture-unavailable',
      'log-file-unwritable',
      'head-office-unreachable',
      'dead-letters',
    ]);
    for (const problem of report.problems)
      expect(`${problem.message} ${problem.action}`).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(report.problems[2]!.message).toContain('since Friday 18:05');
  });

  it('give the blanks of the problems the window words itself', () => {
    const stalled = buildStatusReport(
      inputs({
        outbox: {
          epoch: 'e1',
          lastSeq: 10,
          unsent: { count: 3, oldestCapturedAt: NOW - 20 * 60_000, atRisk: [], records: 0 },
          lastAck: null,
          deadLetters: 4,
          total: 10,
        },
      }),
    );
    expect(stalled.problems).toMatchObject([
      { code: 'sync-stalled', params: { minutes: 20 } },
      { code: 'dead-letters', params: { count: 4 } },
    ]);
  });
});
