import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../../src/contracts/status.js';
import type { WindowSnapshot } from '../../src/contracts/window-api.js';
import { backlogSummary, toChartColumns } from '../../src/renderer/chart-data.js';
import { createFormatter } from '../../src/renderer/format.js';
import { markSilentTills } from '../../src/renderer/silent-tills.js';
import { describeState } from '../../src/renderer/state-line.js';
import { applyWindowMessage } from '../../src/renderer/window-state.js';

const NOW = '2026-11-23T09:55:00.000Z'; // 10:55 in Paris
const format = createFormatter('en-GB', 'Europe/Paris');

function snapshot(status: Partial<AgentStatus> = {}): WindowSnapshot {
  return {
    status: {
      storeId: 'S042',
      version: '0.1.0',
      now: NOW,
      epoch: 'e',
      capture: { state: 'ok' },
      connection: {
        state: 'online',
        since: '2026-11-23T07:00:00.000Z',
        lastError: null,
        everConnected: true,
      },
      logging: { state: 'ok', dir: null, since: null, error: null, droppedLines: 0 },
      backlog: { count: 0, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] },
      lastSeq: 10,
      lastAck: { seq: 10, at: '2026-11-23T09:54:58.000Z' },
      deadLetters: { count: 0, items: [] },
      promotions: { active: 0 },
      problems: [],
      ...status,
    },
    history: { bucketSeconds: 60, points: [] },
    terminals: [],
    notices: [],
    promotions: { inForce: [], next: null },
    app: { version: '0.1.0', update: { state: 'not-applicable' } },
  };
}

const offline = (since: string | null, state: 'offline' | 'connecting' = 'offline') => ({
  connection: { state, since, lastError: 'connect ECONNREFUSED', everConnected: true },
});
const waiting = (count: number) => ({
  backlog: {
    count,
    oldestCapturedAt: null,
    oldestAgeSeconds: 600,
    atRisk: [{ currency: 'EUR', amount: 123456 }],
  },
});

describe('the one-line state', () => {
  it('reads "Connected to head office" when nothing waits, with the last delivery under it', () => {
    expect(describeState(snapshot(), 'open', format)).toEqual({
      tone: 'ok',
      headline: 'Connected to head office',
      detail: 'Last delivery to head office: 10:54',
    });
  });

  it('says what is being sent while connected', () => {
    expect(describeState(snapshot(waiting(1)), 'open', format).headline).toBe(
      'Connected to head office: sending 1 sale',
    );
    expect(describeState(snapshot(waiting(1200)), 'open', format)).toMatchObject({
      tone: 'busy',
      headline: 'Connected to head office: sending 1,200 sales',
    });
  });

  it('says since when it is offline and that the sales are safe', () => {
    expect(
      describeState(snapshot({ ...offline('2026-11-23T09:42:00.000Z'), ...waiting(312) }), 'open', format),
    ).toMatchObject({
      tone: 'offline',
      headline: 'Offline since 10:42: 312 sales are safe on this PC and will be sent automatically',
    });
    expect(
      describeState(snapshot({ ...offline('2026-11-23T09:42:00.000Z'), ...waiting(1) }), 'open', format)
        .headline,
    ).toBe('Offline since 10:42: 1 sale is safe on this PC and will be sent automatically');
    expect(describeState(snapshot(offline('2026-11-23T09:42:00.000Z')), 'open', format).headline).toBe(
      'Offline since 10:42: no sales are waiting',
    );
    expect(describeState(snapshot(offline(null)), 'open', format).headline).toBe(
      'Offline: no sales are waiting',
    );
    // Offline since yesterday: the date is given too.
    expect(
      describeState(snapshot({ ...offline('2026-11-22T17:05:00.000Z'), ...waiting(5) }), 'open', format)
        .headline,
    ).toMatch(/^Offline since Sun 22 Nov(,| at) 18:05: 5 sales/);
  });

  it('calls a long connection attempt offline, a fresh one connecting', () => {
    expect(
      describeState(snapshot(offline('2026-11-23T09:54:50.000Z', 'connecting')), 'open', format),
    ).toMatchObject({
      tone: 'busy',
      headline: 'Connecting to head office…',
    });
    expect(
      describeState(snapshot(offline('2026-11-23T09:50:00.000Z', 'connecting')), 'open', format).tone,
    ).toBe('offline');
  });

  it('puts tills unable to save before anything else, then a store head office refuses', () => {
    const full = snapshot({
      ...offline('2026-11-23T09:42:00.000Z'),
      capture: { state: 'unavailable', message: 'the disk is full' },
      problems: [
        {
          code: 'capture-unavailable',
          severity: 'critical',
          message: 'Tills cannot save sales right now: disk full.',
          action: 'Free disk space.',
        },
      ],
    });
    expect(describeState(full, 'open', format)).toEqual({
      tone: 'critical',
      headline: 'Tills cannot save sales right now',
      detail: 'Tills cannot save sales right now: disk full. Free disk space.',
    });
    const refused = snapshot({
      problems: [{ code: 'sync-refused', severity: 'critical', message: 'm', action: 'a' }],
    });
    expect(describeState(refused, 'open', format)).toMatchObject({
      tone: 'critical',
      headline: 'Head office refuses this store',
    });
    expect(
      describeState(
        snapshot({
          connection: { state: 'not-configured', since: null, lastError: null, everConnected: false },
        }),
        'open',
        format,
      ),
    ).toMatchObject({ tone: 'warning', headline: 'Not set up to send sales to head office' });
  });

  it('says so when the window has lost the agent, rather than repeat stale news', () => {
    expect(describeState(snapshot(), 'lost', format)).toMatchObject({
      tone: 'unknown',
      headline: 'This window has lost contact with the Outpost agent',
    });
  });
});

describe('formatting for the store manager', () => {
  it('formats money in the currency’s own minor unit', () => {
    const plain = (text: string) => text.replace(/\s/g, ' ');
    expect(format.money(123456, 'EUR')).toBe('€1,234.56');
    expect(format.money(1200, 'JPY')).toBe('JP¥1,200'); // no minor unit
    expect(plain(format.money(1500, 'KWD'))).toBe('KWD 1.500'); // three decimals
    expect(plain(createFormatter('de-DE', 'Europe/Berlin').money(123456, 'EUR'))).toBe('1.234,56 €');
  });

  it('says ages in words', () => {
    expect(format.age(45)).toBe('45 seconds');
    expect(format.age(60)).toBe('1 minute');
    expect(format.age(14 * 60 + 5)).toBe('14 minutes');
    expect(format.age(2 * 3600 + 5 * 60)).toBe('2 hours 5 minutes');
    expect(format.age(3600)).toBe('1 hour');
    expect(format.age(3 * 86400)).toBe('3 days');
    expect(format.age(-5)).toBe('0 seconds');
  });
});

describe('tills seen today', () => {
  const till = (terminalId: string, minutesAgo: number) => ({
    terminalId,
    lastSaleAt: new Date(Date.parse(NOW) - minutesAgo * 60_000).toISOString(),
    salesToday: 10,
  });

  it('singles out a till that stopped while the others sell', () => {
    const rows = markSilentTills([till('T10', 1), till('T2', 53), till('T1', 3)], NOW);
    expect(rows.map((r) => [r.terminalId, r.silentForSeconds])).toEqual([
      ['T1', null],
      ['T2', 53 * 60],
      ['T10', null],
    ]);
  });

  it('singles out none when the whole store is quiet', () => {
    expect(
      markSilentTills([till('T1', 45), till('T2', 53)], NOW).every((r) => r.silentForSeconds === null),
    ).toBe(true);
  });
});

describe('live messages', () => {
  it('never lets an older snapshot replace a newer one, and applies update messages to the update line only', () => {
    const newer = snapshot(waiting(3));
    const older = { ...snapshot(), status: { ...snapshot().status, now: '2026-11-23T09:54:00.000Z' } };
    expect(applyWindowMessage(newer, { type: 'snapshot', snapshot: older })).toBe(newer);
    const updated = applyWindowMessage(newer, {
      type: 'update',
      update: { state: 'downloading', channel: 'stable', version: '0.2.0', percent: 10 },
    });
    expect(updated?.app.update).toMatchObject({ state: 'downloading' });
    expect(updated?.status).toBe(newer.status);
    expect(applyWindowMessage(null, { type: 'update', update: { state: 'not-applicable' } })).toBeNull();
  });

  it('draws the chart in time order and sums up its peak for screen readers', () => {
    const history = {
      bucketSeconds: 60,
      points: [
        { at: '2026-11-23T09:02:00.000Z', backlog: 5, sales: 1 },
        { at: '2026-11-23T09:01:00.000Z', backlog: 40, sales: 2 },
      ],
    };
    expect(toChartColumns(history, 60)).toEqual([
      [Date.parse('2026-11-23T09:01:00Z') / 1000, Date.parse('2026-11-23T09:02:00Z') / 1000],
      [40, 5],
      [2, 1],
    ]);
    // Two minutes of an agent that just started: the axis still spans half an hour, empty before them.
    expect(toChartColumns(history)).toEqual([
      [
        Date.parse('2026-11-23T08:32:00Z') / 1000,
        Date.parse('2026-11-23T09:01:00Z') / 1000,
        Date.parse('2026-11-23T09:02:00Z') / 1000,
      ],
      [null, 40, 5],
      [null, 2, 1],
    ]);
    expect(backlogSummary(history)).toEqual({ peak: 40, latest: 5 });
  });
});
