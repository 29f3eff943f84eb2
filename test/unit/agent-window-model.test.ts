import { afterEach, describe, expect, it, vi } from 'vitest';
import winston from 'winston';
import { ActivityRing } from '../../src/agent/activity-history.js';
import { describeLogLine, LogNoticesTransport, RecentNotices } from '../../src/agent/log-notices.js';
import { TerminalsToday } from '../../src/agent/terminals-today.js';
import { WindowChanges } from '../../src/agent/window-changes.js';
import { promotionsPanelOf } from '../../src/agent/window-promotions.js';
import type { PromotionDocument } from '../../src/contracts/promotion.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const MIN = 60_000;

describe('the chart is a ring of minute buckets kept by the agent', () => {
  it('counts the sales of each minute and keeps the last backlog sampled in it', () => {
    const ring = new ActivityRing(60, 10);
    ring.setBacklog(T0, 0);
    ring.addSales(T0 + 5_000, 2);
    ring.addSales(T0 + 40_000, 3);
    ring.setBacklog(T0 + 20_000, 4);
    ring.setBacklog(T0 + 50_000, 5);
    ring.addSales(T0 + MIN + 1_000, 1);
    ring.setBacklog(T0 + MIN + 2_000, 1);
    expect(ring.view(T0 + MIN + 30_000)).toEqual({
      bucketSeconds: 60,
      points: [
        { at: '2026-11-23T10:00:00.000Z', backlog: 5, sales: 5 },
        { at: '2026-11-23T10:01:00.000Z', backlog: 1, sales: 1 },
      ],
    });
  });

  it('fills quiet minutes with no sales and the backlog as it last was, up to now', () => {
    const ring = new ActivityRing(60, 10);
    ring.setBacklog(T0, 7);
    ring.addSales(T0, 7);
    const points = ring.view(T0 + 3 * MIN).points;
    expect(points).toEqual([
      { at: '2026-11-23T10:00:00.000Z', backlog: 7, sales: 7 },
      { at: '2026-11-23T10:01:00.000Z', backlog: 7, sales: 0 },
      { at: '2026-11-23T10:02:00.000Z', backlog: 7, sales: 0 },
      { at: '2026-11-23T10:03:00.000Z', backlog: 7, sales: 0 },
    ]);
  });

  it('holds a fixed number of minutes: older ones are overwritten as the ring turns', () => {
    const ring = new ActivityRing(60, 3);
    for (let minute = 0; minute < 8; minute++) {
      ring.addSales(T0 + minute * MIN, minute + 1);
      ring.setBacklog(T0 + minute * MIN, minute * 10);
    }
    expect(ring.view(T0 + 7 * MIN).points).toEqual([
      { at: '2026-11-23T10:05:00.000Z', backlog: 50, sales: 6 },
      { at: '2026-11-23T10:06:00.000Z', backlog: 60, sales: 7 },
      { at: '2026-11-23T10:07:00.000Z', backlog: 70, sales: 8 },
    ]);
    // A sample from before the ring's window (a clock stepped far back) changes nothing.
    ring.addSales(T0, 100);
    expect(ring.view(T0 + 7 * MIN).points.map((p) => p.sales)).toEqual([6, 7, 8]);
  });

  it('shows nothing before anything was recorded', () => {
    expect(new ActivityRing().view(T0).points).toEqual([]);
  });
});

describe("today's tills", () => {
  const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

  it('are seeded from the outbox at start, then kept by each capture, sorted by till', () => {
    const tills = new TerminalsToday(dayOf);
    tills.seed(
      [
        { terminalId: 'T10', lastAt: T0 - 3 * MIN, count: 40 },
        { terminalId: 'T2', lastAt: T0 - 2 * MIN, count: 12 },
        // yesterday's: not today's till
        { terminalId: 'T7', lastAt: T0 - 11 * 60 * MIN, count: 3 },
      ],
      T0,
    );
    tills.record('T2', T0 + 1_000);
    tills.record('T3', T0 + 2_000);
    expect(tills.view(T0 + 5_000)).toEqual([
      { terminalId: 'T2', lastSaleAt: '2026-11-23T10:00:01.000Z', salesToday: 13 },
      { terminalId: 'T3', lastSaleAt: '2026-11-23T10:00:02.000Z', salesToday: 1 },
      { terminalId: 'T10', lastSaleAt: '2026-11-23T09:57:00.000Z', salesToday: 40 },
    ]);
  });

  it('start empty on a new day, and a clock stepped back over midnight keeps the day', () => {
    const tills = new TerminalsToday(dayOf);
    tills.record('T1', Date.parse('2026-11-23T23:59:00Z'));
    expect(tills.view(Date.parse('2026-11-24T00:00:30Z'))).toEqual([]);
    tills.record('T2', Date.parse('2026-11-24T00:01:00Z'));
    tills.record('T2', Date.parse('2026-11-23T23:59:50Z')); // NTP stepped the clock back
    expect(tills.view(Date.parse('2026-11-24T00:02:00Z'))).toEqual([
      { terminalId: 'T2', lastSaleAt: '2026-11-24T00:01:00.000Z', salesToday: 2 },
    ]);
  });
});

describe('recent warnings and errors in plain words', () => {
  it('words known log events for a store manager and keeps the technical line for IT', () => {
    const described = describeLogLine({
      level: 'warn',
      message: 'mqtt error',
      link: 'store S1',
      error: 'connect ECONNREFUSED 127.0.0.1:1883',
      timestamp: '2026-11-23T10:00:00Z',
      component: 'agent',
    });
    expect(described.message).toBe(
      'Head office cannot be reached right now. Sales are kept on this PC and will be sent automatically.',
    );
    expect(described.level).toBe('warning');
    expect(described.details).toBe(
      'mqtt error {"link":"store S1","error":"connect ECONNREFUSED 127.0.0.1:1883"}',
    );
    expect(
      describeLogLine({
        level: 'warn',
        message: 'event too large to send; withheld, and sent without its body',
      }).level,
    ).toBe('error');
  });

  it('still shows an unknown event, in general words, with its line', () => {
    const described = describeLogLine({ level: 'error', message: 'something new broke', code: 7 });
    expect(described).toMatchObject({
      level: 'error',
      code: 'other-error',
      params: {},
      message: 'The agent reported an error. Sales already saved are safe; call support if this repeats.',
      details: 'something new broke {"code":7}',
    });
    expect(describeLogLine({ level: 'warn', message: 'something new wobbled' }).code).toBe('other-warning');
  });

  it('gives each notice a stable code and its blanks, so the window can word it in its own language', () => {
    expect(describeLogLine({ level: 'warn', message: 'mqtt error', error: 'ECONNREFUSED' })).toMatchObject({
      code: 'head-office-unreachable',
      params: {},
    });
    const pruned = describeLogLine({
      level: 'warn',
      message: 'pruned acknowledged events early to make room',
      removed: 1200,
    });
    expect(pruned).toMatchObject({ code: 'disk-nearly-full', params: { removed: 1200 } });
    expect(pruned.message).toBe(
      'The disk is nearly full: 1200 old sales that head office already has were removed from this PC to make room.',
    );
    // A field that is not what the words expect is left out rather than shown as "[object Object]".
    expect(
      describeLogLine({
        level: 'warn',
        message: 'pruned acknowledged events early to make room',
        removed: {},
      }).params,
    ).toEqual({});
  });

  it("knows an event whose line carried a `message` field, which winston appends to the event's name", () => {
    const notices = new RecentNotices();
    const logger = winston.createLogger({
      level: 'debug',
      transports: [
        new LogNoticesTransport(
          notices,
          () => T0,
          () => {},
        ),
      ],
    });
    logger.warn('promotion refused', {
      promotionId: 'P-7',
      message:
        'promotion P-7 version 3 is signed with key K, which this store does not trust; nothing changed.',
    });
    const [notice] = notices.list();
    expect(notice).toMatchObject({ code: 'promotion-refused', params: { promotionId: 'P-7' } });
    expect(notice!.message).toMatch(/^Promotion P-7 from head office was refused by this store/);
    // IT still reads the whole line.
    expect(notice!.details).toMatch(/^promotion refused promotion P-7 version 3 is signed with key K/);
  });

  it('keeps a bounded list, newest first, with a repeated event as one notice saying how often', () => {
    const notices = new RecentNotices(3);
    const event = (message: string, level = 'warn') => describeLogLine({ level, message });
    notices.add(event('mqtt error'), T0);
    notices.add(event('capture unavailable', 'error'), T0 + 1_000);
    notices.add(event('mqtt error'), T0 + 2_000);
    notices.add(event('mqtt error'), T0 + 3_000);
    let list = notices.list();
    expect(list.map((n) => n.details.split('\n')[0])).toEqual(['mqtt error', 'capture unavailable']);
    expect(list[0]).toMatchObject({ at: '2026-11-23T10:00:03.000Z' });
    expect(list[0]!.details).toContain('(3 times since 2026-11-23T10:00:00.000Z)');
    for (const name of ['a', 'b', 'c']) notices.add(event(name), T0 + 4_000);
    list = notices.list();
    expect(list).toHaveLength(3);
    expect(list.map((n) => n.details)).toEqual(['c', 'b', 'a']);
  });

  it('hears warnings and errors from the logger, not the info lines of every sale', () => {
    const notices = new RecentNotices();
    const heard = vi.fn();
    const logger = winston.createLogger({
      level: 'debug',
      transports: [new LogNoticesTransport(notices, () => T0, heard)],
    });
    logger.info('captured', { eventId: 'E1' });
    logger.debug('acknowledged');
    logger.warn('no acknowledgement in time; publishing unacknowledged events again', { epoch: 'e1' });
    logger.error('capture unavailable', { reason: 'disk-full' });
    expect(notices.list().map((n) => n.level)).toEqual(['error', 'warning']);
    expect(heard).toHaveBeenCalledTimes(2);
  });
});

describe('changes reach the window coalesced, and only while it listens', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const fakeClock = () => ({ now: () => Date.now(), monotonic: () => Date.now() });

  it('turns a burst of changes into one message, and the next burst into another', async () => {
    vi.useFakeTimers();
    const changes = new WindowChanges({ clock: fakeClock(), minIntervalMs: 500 });
    const heard = vi.fn();
    changes.subscribe(heard);
    for (let i = 0; i < 100; i++) changes.notify();
    await vi.advanceTimersByTimeAsync(499);
    expect(heard).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(heard).toHaveBeenCalledTimes(1);
    changes.notify();
    await vi.advanceTimersByTimeAsync(500);
    expect(heard).toHaveBeenCalledTimes(2);
    changes.stop();
  });

  it('notices what changed in memory without a word, and refreshes a quiet window now and then', async () => {
    vi.useFakeTimers();
    let link = 'online';
    const changes = new WindowChanges({
      clock: fakeClock(),
      watch: () => link,
      watchEveryMs: 1_000,
      quietRefreshMs: 30_000,
    });
    const heard = vi.fn();
    changes.subscribe(heard);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(heard).toHaveBeenCalledTimes(0);
    link = 'offline';
    await vi.advanceTimersByTimeAsync(1_500);
    expect(heard).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(28_000);
    expect(heard).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(heard).toHaveBeenCalledTimes(2);
    changes.stop();
  });

  it('runs no timer and calls nobody when no window listens', async () => {
    vi.useFakeTimers();
    const watch = vi.fn(() => 'same');
    const changes = new WindowChanges({ clock: fakeClock(), watch });
    const heard = vi.fn();
    const unsubscribe = changes.subscribe(heard);
    unsubscribe();
    watch.mockClear();
    changes.notify();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(heard).not.toHaveBeenCalled();
    expect(watch).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('the promotions panel', () => {
  const doc = (promotionId: string, name: string) => ({ promotionId, name }) as unknown as PromotionDocument;

  it('lists what is in force with the end of its stretch, and the first promotion starting next', () => {
    expect(
      promotionsPanelOf({
        at: T0,
        inForce: [
          { promotion: doc('P1', 'Winter coats: 20% off'), since: T0 - MIN, until: T0 + 60 * MIN },
          { promotion: doc('P2', 'Always on'), since: T0 - MIN, until: Number.POSITIVE_INFINITY },
        ],
        next: { startsAt: T0 + 120 * MIN, promotions: [doc('P3', 'Advent'), doc('P4', 'Also then')] },
      }),
    ).toEqual({
      inForce: [
        {
          id: 'P1',
          name: 'Winter coats: 20% off',
          startsAt: '2026-11-23T09:59:00.000Z',
          endsAt: '2026-11-23T11:00:00.000Z',
        },
        { id: 'P2', name: 'Always on', startsAt: '2026-11-23T09:59:00.000Z', endsAt: null },
      ],
      next: { id: 'P3', name: 'Advent', startsAt: '2026-11-23T12:00:00.000Z', endsAt: null },
    });
    expect(promotionsPanelOf({ at: T0, inForce: [] })).toEqual({ inForce: [], next: null });
  });
});
