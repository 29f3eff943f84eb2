import { describe, expect, it } from 'vitest';
import { buildStatusReport, type StatusInputs } from '../../src/agent/status-report.js';
import { agentStatusSchema } from '../../src/contracts/status.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const MINUTE = 60_000;

/** A healthy store: connected, nothing unsent, nothing dead. Each test changes what it is about. */
function inputs(change: Partial<StatusInputs> = {}, unsentAgeMs: number | null = null): StatusInputs {
  return {
    storeId: 'store-0042',
    version: '0.1.0',
    now: NOW,
    outbox: {
      epoch: 'e1',
      lastSeq: 120,
      unsent: {
        count: unsentAgeMs === null ? 0 : 3,
        oldestCapturedAt: unsentAgeMs === null ? null : NOW - unsentAgeMs,
        atRisk: unsentAgeMs === null ? [] : [{ currency: 'EUR', amount: 1827 }],
      },
      lastAck: { seq: 117, at: NOW - 5000 },
      deadLetters: 0,
      total: 120,
    },
    captureError: null,
    connection: { state: 'online', since: NOW - 60 * MINUTE, lastError: null },
    deadLetters: [],
    activePromotions: 2,
    ...change,
  };
}

const codes = (input: StatusInputs) => buildStatusReport(input).problems.map((p) => p.code);

describe('status report', () => {
  it('reports a healthy, connected store with no problems, in the wire format', () => {
    const report = buildStatusReport(inputs());
    expect(agentStatusSchema.parse(report)).toEqual(report);
    expect(report.problems).toEqual([]);
    expect(report.capture).toEqual({ state: 'ok' });
    expect(report.now).toBe('2026-11-23T12:00:00.000Z');
    expect(report.connection.since).toBe('2026-11-23T11:00:00.000Z');
    expect(report.lastSeq).toBe(120);
    expect(report.lastAck).toEqual({ seq: 117, at: '2026-11-23T11:59:55.000Z' });
    expect(report.backlog).toEqual({ count: 0, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] });
    expect(report.promotions).toEqual({ active: 2 });
  });

  it('gives the backlog its age in seconds and the money at risk', () => {
    const report = buildStatusReport(inputs({}, 90_000));
    expect(report.backlog).toEqual({
      count: 3,
      oldestCapturedAt: '2026-11-23T11:58:30.000Z',
      oldestAgeSeconds: 90,
      atRisk: [{ currency: 'EUR', amount: 1827 }],
    });
  });

  it('never reports a negative age when the clock stepped back', () => {
    expect(buildStatusReport(inputs({}, -5000)).backlog.oldestAgeSeconds).toBe(0);
  });

  it('tells the manager, as critical, that tills cannot save sales when capture fails', () => {
    const report = buildStatusReport(inputs({ captureError: 'the disk holding the outbox is full' }));
    expect(report.capture).toEqual({ state: 'unavailable', message: 'the disk holding the outbox is full' });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ code: 'capture-unavailable', severity: 'critical' });
    expect(report.problems[0]?.message).toContain('the disk holding the outbox is full');
  });

  it('says offline is nothing to worry about while the backlog is young, and a warning after an hour', () => {
    const offline = {
      connection: { state: 'offline' as const, since: NOW - 2 * 60 * MINUTE, lastError: 'x' },
    };
    const young = buildStatusReport(inputs(offline, 10 * MINUTE)).problems;
    expect(young).toMatchObject([{ code: 'head-office-unreachable', severity: 'info' }]);
    expect(young[0]?.message).toContain('since 2026-11-23T10:00:00.000Z');
    expect(young[0]?.action).toMatch(/keep trading/);
    const old = buildStatusReport(inputs(offline, 61 * MINUTE)).problems;
    expect(old).toMatchObject([{ code: 'head-office-unreachable', severity: 'warning' }]);
  });

  it('flags sync as stalled only when connected and the oldest unsent sale is over 15 minutes old', () => {
    expect(codes(inputs({}, 15 * MINUTE))).toEqual([]);
    expect(codes(inputs({}, 16 * MINUTE))).toEqual(['sync-stalled']);
    expect(buildStatusReport(inputs({}, 16 * MINUTE)).problems[0]?.message).toContain('16 minutes');
    const offline = { connection: { state: 'offline' as const, since: null, lastError: null } };
    expect(codes(inputs(offline, 16 * MINUTE))).toEqual(['head-office-unreachable']);
  });

  it('reports transactions refused by head office as dead letters to call support about', () => {
    const base = inputs();
    const report = buildStatusReport({ ...base, outbox: { ...base.outbox, deadLetters: 2 } });
    expect(report.deadLetters.count).toBe(2);
    expect(report.problems).toMatchObject([{ code: 'dead-letters', severity: 'warning' }]);
    expect(report.problems[0]?.message).toMatch(/^2 transaction/);
  });

  it('tells the manager to call support when the broker refuses the store data while connected', () => {
    const refused = inputs({
      connection: { state: 'online', since: NOW, lastError: 'the broker refused a batch: Not authorized' },
    });
    expect(codes(refused)).toEqual(['sync-refused']);
    expect(buildStatusReport(refused).problems[0]!.message).toContain('Not authorized');
  });
});
