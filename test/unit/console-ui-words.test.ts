import { describe, expect, it } from 'vitest';
import type { ConsoleStore } from '../../src/contracts/console-api.js';
import { createFormatter } from '../../src/console/format.js';
import { parseRoute, recentDays, routeHref, type Route } from '../../src/console/route.js';
import { attentionWords, connectionWords, waitingWords } from '../../src/console/store-words.js';

const format = createFormatter('en-GB', 'Europe/Paris');
const NOW = '2026-11-23T10:00:00.000Z';

const store = (overrides: Partial<ConsoleStore>): ConsoleStore => ({
  storeId: 'S1',
  online: true,
  since: '2026-11-23T08:42:00.000Z',
  lastSeen: '2026-11-23T09:59:00.000Z',
  agentVersion: '0.1.0',
  currentEpoch: 'aaaaaaaaaaaaaaaa',
  backlog: 0,
  oldestUnsentAt: null,
  lastSeq: 10,
  contiguousThrough: 10,
  lag: 0,
  gaps: 0,
  unrecoverable: 0,
  quarantined: 0,
  deadLetters: 0,
  days: { mismatched: 0, notClosed: 0 },
  pendingCommands: 0,
  attention: { level: 'ok', reasons: [] },
  ...overrides,
});

describe("a store's row in words", () => {
  it('says online or offline since when, in the operator’s time zone', () => {
    expect(connectionWords(store({}), NOW, format)).toBe('Online, last status 09:42');
    expect(connectionWords(store({ online: false }), NOW, format)).toBe('Offline since 09:42');
    expect(connectionWords(store({ online: false, since: '2026-11-21T08:42:00.000Z' }), NOW, format)).toBe(
      'Offline since Sat 21 Nov, 09:42',
    );
    expect(connectionWords(store({ since: null, lastSeen: null }), NOW, format)).toBe('No status yet');
  });

  it('says what waits at the store and how old the oldest is, or that it did not say', () => {
    expect(waitingWords(store({ backlog: null }), NOW, format)).toBe('not reported');
    expect(waitingWords(store({ backlog: 0 }), NOW, format)).toBe('nothing');
    expect(
      waitingWords(store({ backlog: 1234, oldestUnsentAt: '2026-11-23T07:55:00.000Z' }), NOW, format),
    ).toBe('1,234 events, oldest 2 hours 5 minutes old');
    expect(waitingWords(store({ backlog: 1 }), NOW, format)).toBe('1 event');
  });

  it('puts every reason for attention in words, most serious first', () => {
    expect(
      attentionWords(
        store({
          attention: {
            level: 'alert',
            reasons: [
              { kind: 'quarantined', count: 1 },
              { kind: 'offline-backlog', count: 7 },
              { kind: 'day-mismatch', count: 2 },
              { kind: 'offline', count: 0 },
            ],
          },
        }),
      ),
    ).toEqual([
      '1 event quarantined (another writer)',
      'offline with 7 events waiting',
      '2 business days mismatched',
      'offline',
    ]);
  });
});

describe("the console's routes", () => {
  it('round-trips every page through the URL hash, store ids with odd characters included', () => {
    const routes: Route[] = [
      { page: 'stores' },
      { page: 'store', storeId: 'S:042.a', tab: 'overview' },
      { page: 'store', storeId: 'S1', tab: 'quarantine' },
      { page: 'days', day: null, storeId: null },
      { page: 'days', day: '2026-11-22', storeId: null },
      { page: 'days', day: '2026-11-22', storeId: 'S 9' },
      { page: 'promotions', promotionId: null },
      { page: 'promotions', promotionId: 'PROMO-3FOR2' },
    ];
    for (const route of routes) expect(parseRoute(routeHref(route))).toEqual(route);
  });

  it('falls back to the stores for anything it does not know', () => {
    expect(parseRoute('')).toEqual({ page: 'stores' });
    expect(parseRoute('#/nowhere')).toEqual({ page: 'stores' });
    expect(parseRoute('#/stores/%E0%A4%A')).toEqual({ page: 'stores' });
    expect(parseRoute('#/days/yesterday')).toEqual({ page: 'days', day: null, storeId: null });
    expect(parseRoute('#/stores/S1/bogus')).toEqual({ page: 'store', storeId: 'S1', tab: 'overview' });
  });

  it('offers the seven business days before today', () => {
    expect(recentDays(NOW)).toEqual([
      '2026-11-22',
      '2026-11-21',
      '2026-11-20',
      '2026-11-19',
      '2026-11-18',
      '2026-11-17',
      '2026-11-16',
    ]);
  });
});
