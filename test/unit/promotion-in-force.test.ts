import { describe, expect, it } from 'vitest';
import type { PromotionDocument } from '../../src/contracts/promotion.js';
import { createInForceEvaluator, createZoneClock, promotionsInForce } from '../../src/promotions/index.js';
import { promotion } from '../support/promotion-documents.js';

const paris = { storeId: 'S042', region: 'north', timeZone: 'Europe/Paris' };
const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Whether the promotion is in force at each instant, as a map instant → boolean, for readable failures. */
function inForceAt(document: PromotionDocument, instants: string[], store = paris): Record<string, boolean> {
  const evaluator = createInForceEvaluator(store);
  return Object.fromEntries(instants.map((at) => [at, evaluator.at([document], t(at)).inForce.length === 1]));
}

const allTrue = (instants: string[]) => Object.fromEntries(instants.map((at) => [at, true]));
const allFalse = (instants: string[]) => Object.fromEntries(instants.map((at) => [at, false]));

const weekendWeekly = promotion({
  promotionId: 'WEEKEND',
  validity: {
    from: '2026-01-01T00:00',
    until: '2026-12-31T23:59',
    weekly: [{ from: { day: 'saturday', time: '00:00' }, until: { day: 'sunday', time: '23:59' } }],
  },
});

describe('a store-local window across daylight-saving changes (Europe/Paris)', () => {
  // 2026-03-29: at 01:00Z Paris clocks jump from 02:00 CET (+01:00) to 03:00 CEST (+02:00).
  it('runs Saturday 00:00 to Sunday 23:59 on the weekend clocks go forward: 47 hours of real time', () => {
    expect(
      inForceAt(weekendWeekly, [
        '2026-03-27T22:59:59.999Z', // Friday 23:59:59 CET
        '2026-03-29T22:00:00.000Z', // Monday 00:00 CEST
      ]),
    ).toEqual(allFalse(['2026-03-27T22:59:59.999Z', '2026-03-29T22:00:00.000Z']));
    const inside = [
      '2026-03-27T23:00:00.000Z', // Saturday 00:00 CET
      '2026-03-29T00:59:59.999Z', // Sunday 01:59:59 CET, the last instant before the jump
      '2026-03-29T01:00:00.000Z', // Sunday 03:00 CEST, the first instant after it
      '2026-03-29T21:59:59.999Z', // Sunday 23:59:59 CEST
    ];
    expect(inForceAt(weekendWeekly, inside)).toEqual(allTrue(inside));
    const [entry] = promotionsInForce([weekendWeekly], paris, t('2026-03-28T12:00:00Z')).inForce;
    expect([iso(entry?.since), iso(entry?.until)]).toEqual([
      '2026-03-27T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
    ]);
    expect((entry?.until ?? 0) - (entry?.since ?? 0)).toBe(47 * 3600_000);
  });

  // 2026-10-25: at 01:00Z Paris clocks fall back from 03:00 CEST (+02:00) to 02:00 CET (+01:00).
  it('runs Saturday 00:00 to Sunday 23:59 on the weekend clocks go back: 49 hours, both 02:30s inside', () => {
    const outside = ['2026-10-23T21:59:59.999Z', '2026-10-25T23:00:00.000Z'];
    expect(inForceAt(weekendWeekly, outside)).toEqual(allFalse(outside));
    const inside = [
      '2026-10-23T22:00:00.000Z', // Saturday 00:00 CEST
      '2026-10-25T00:30:00.000Z', // Sunday 02:30 CEST, the first time
      '2026-10-25T01:30:00.000Z', // Sunday 02:30 CET, the second time
      '2026-10-25T22:59:59.999Z', // Sunday 23:59:59 CET
    ];
    expect(inForceAt(weekendWeekly, inside)).toEqual(allTrue(inside));
    const [entry] = promotionsInForce([weekendWeekly], paris, t('2026-10-24T12:00:00Z')).inForce;
    expect([iso(entry?.since), iso(entry?.until)]).toEqual([
      '2026-10-23T22:00:00.000Z',
      '2026-10-25T23:00:00.000Z',
    ]);
    expect((entry?.until ?? 0) - (entry?.since ?? 0)).toBe(49 * 3600_000);
  });

  it('gives the same answers for a one-off store-local window as for the weekly one', () => {
    const march = promotion({ validity: { from: '2026-03-28T00:00', until: '2026-03-29T23:59' } });
    const october = promotion({ validity: { from: '2026-10-24T00:00', until: '2026-10-25T23:59' } });
    const [m] = promotionsInForce([march], paris, t('2026-03-29T01:00:00Z')).inForce;
    const [o] = promotionsInForce([october], paris, t('2026-10-25T01:30:00Z')).inForce;
    expect([iso(m?.since), iso(m?.until)]).toEqual(['2026-03-27T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect([iso(o?.since), iso(o?.until)]).toEqual(['2026-10-23T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
  });

  it('starts a window whose start time does not exist (the skipped hour) when the clocks jump', () => {
    const skipped = promotion({
      validity: {
        from: '2026-03-01T00:00',
        until: '2026-04-30T23:59',
        weekly: [{ from: { day: 'sunday', time: '02:30' }, until: { day: 'sunday', time: '03:29' } }],
      },
    });
    expect(
      inForceAt(skipped, [
        '2026-03-29T00:59:59.999Z', // 01:59:59 CET: before 02:30 on the clock
        '2026-03-29T01:00:00.000Z', // 03:00 CEST: the clock is past 02:30
        '2026-03-29T01:29:59.999Z', // 03:29:59 CEST
        '2026-03-29T01:30:00.000Z', // 03:30 CEST: over
        '2026-04-05T00:30:00.000Z', // the next Sunday, 02:30 CEST, an ordinary day
      ]),
    ).toEqual({
      '2026-03-29T00:59:59.999Z': false,
      '2026-03-29T01:00:00.000Z': true,
      '2026-03-29T01:29:59.999Z': true,
      '2026-03-29T01:30:00.000Z': false,
      '2026-04-05T00:30:00.000Z': true,
    });
  });

  it('never runs a window that lies wholly inside the skipped hour', () => {
    const ghost = promotion({ validity: { from: '2026-03-29T02:10', until: '2026-03-29T02:50' } });
    const answer = promotionsInForce([ghost], paris, t('2026-03-29T00:00:00Z'));
    expect(answer.inForce).toEqual([]);
    expect(answer.next).toBeUndefined();
  });

  it('takes a repeated clock time at its first occurrence, so a window is one stretch of real time', () => {
    const firstPass = promotion({ validity: { from: '2026-10-25T02:00', until: '2026-10-25T02:29' } });
    expect(
      inForceAt(firstPass, [
        '2026-10-24T23:59:59.999Z', // 01:59:59 CEST
        '2026-10-25T00:00:00.000Z', // 02:00 CEST, first pass
        '2026-10-25T00:29:59.999Z', // 02:29:59 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T01:15:00.000Z', // 02:15 CET, second pass: the clock shows the window again, but it is over
      ]),
    ).toEqual({
      '2026-10-24T23:59:59.999Z': false,
      '2026-10-25T00:00:00.000Z': true,
      '2026-10-25T00:29:59.999Z': true,
      '2026-10-25T00:30:00.000Z': false,
      '2026-10-25T01:15:00.000Z': false,
    });
    const acrossBothPasses = promotion({ validity: { from: '2026-10-25T02:30', until: '2026-10-25T03:29' } });
    const [entry] = promotionsInForce([acrossBothPasses], paris, t('2026-10-25T01:00:00Z')).inForce;
    // From the first 02:30 (CEST) to 03:30 CET: two hours of real time for one hour on the poster.
    expect([iso(entry?.since), iso(entry?.until)]).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T02:30:00.000Z',
    ]);
  });
});

describe('what is in force', () => {
  it('takes instants with an offset as they are: from included, until excluded, whatever the store zone', () => {
    const flash = promotion({
      validity: { from: '2026-06-01T09:00:00+02:00', until: '2026-06-01T10:00:00+02:00' },
    });
    const tokyo = { ...paris, timeZone: 'Asia/Tokyo' };
    expect(
      inForceAt(flash, ['2026-06-01T06:59:59.999Z', '2026-06-01T07:00:00Z', '2026-06-01T08:00:00Z'], tokyo),
    ).toEqual({
      '2026-06-01T06:59:59.999Z': false,
      '2026-06-01T07:00:00Z': true,
      '2026-06-01T08:00:00Z': false,
    });
  });

  it("reads store-local times in the store's zone, or in the promotion's own zone when it names one", () => {
    const local = { from: '2026-06-01T09:00', until: '2026-06-01T09:59' };
    const atParisNine = '2026-06-01T07:30:00Z';
    const atNewYorkNine = '2026-06-01T13:30:00Z';
    expect(inForceAt(promotion({ validity: local }), [atParisNine, atNewYorkNine])).toEqual({
      [atParisNine]: true,
      [atNewYorkNine]: false,
    });
    const newYork = promotion({ validity: { ...local, timeZone: 'America/New_York' } });
    expect(inForceAt(newYork, [atParisNine, atNewYorkNine])).toEqual({
      [atParisNine]: false,
      [atNewYorkNine]: true,
    });
  });

  it('keeps staged, withdrawn and untargeted promotions out of force', () => {
    const at = t('2026-06-01T12:00:00Z');
    const documents = [
      promotion({ promotionId: 'ACTIVE' }),
      promotion({ promotionId: 'STAGED', state: 'staged' }),
      promotion({ promotionId: 'WITHDRAWN', state: 'withdrawn' }),
      promotion({ promotionId: 'SOUTH', target: { regions: ['south'] } }),
      promotion({ promotionId: 'MINE', target: { storeIds: ['S042'] } }),
    ];
    expect(promotionsInForce(documents, paris, at).inForce.map((e) => e.promotion.promotionId)).toEqual([
      'ACTIVE',
      'MINE',
    ]);
  });

  it('names the next promotions to start, and when the answer next changes', () => {
    const now = promotion({
      promotionId: 'NOW',
      validity: { from: '2026-06-01T00:00:00Z', until: '2026-06-10T00:00:00Z' },
    });
    const soonA = promotion({
      promotionId: 'SOON-A',
      validity: { from: '2026-06-05T00:00', until: '2026-06-06T23:59' },
    });
    const soonB = promotion({
      promotionId: 'SOON-B',
      validity: { from: '2026-06-05T00:00', until: '2026-06-20T23:59' },
    });
    const later = promotion({
      promotionId: 'LATER',
      validity: { from: '2026-07-01T00:00', until: '2026-07-02T23:59' },
    });
    const over = promotion({
      promotionId: 'OVER',
      validity: { from: '2026-01-01T00:00', until: '2026-01-02T23:59' },
    });
    const answer = promotionsInForce([later, soonB, over, now, soonA], paris, t('2026-06-02T00:00:00Z'));
    expect(answer.inForce.map((e) => e.promotion.promotionId)).toEqual(['NOW']);
    expect(iso(answer.next?.startsAt)).toBe('2026-06-04T22:00:00.000Z');
    expect(answer.next?.promotions.map((p) => p.promotionId)).toEqual(['SOON-A', 'SOON-B']);
    expect(iso(answer.changesAt)).toBe('2026-06-04T22:00:00.000Z');
    // Nothing in force and nothing ahead: no change is due.
    expect(promotionsInForce([over], paris, t('2026-06-02T00:00:00Z'))).toEqual({
      at: t('2026-06-02T00:00:00Z'),
      inForce: [],
    });
  });

  it('finds the next weekly window, including one in a period that starts weeks ahead', () => {
    const happyHour = promotion({
      validity: {
        from: '2026-09-01T00:00',
        until: '2026-09-30T23:59',
        weekly: [{ from: { day: 'wednesday', time: '17:00' }, until: { day: 'wednesday', time: '18:59' } }],
      },
    });
    // 2026-09-02 is the first Wednesday of the period; Paris is at +02:00.
    expect(iso(promotionsInForce([happyHour], paris, t('2026-06-01T00:00:00Z')).next?.startsAt)).toBe(
      '2026-09-02T15:00:00.000Z',
    );
    const during = promotionsInForce([happyHour], paris, t('2026-09-09T15:30:00Z'));
    expect(iso(during.inForce[0]?.until)).toBe('2026-09-09T17:00:00.000Z');
    expect(iso(promotionsInForce([happyHour], paris, t('2026-09-09T17:00:00Z')).next?.startsAt)).toBe(
      '2026-09-16T15:00:00.000Z',
    );
    // After the last Wednesday of the period there is none.
    expect(promotionsInForce([happyHour], paris, t('2026-09-30T17:00:00Z')).next).toBeUndefined();
  });

  it('runs a weekly window that wraps over the end of the week, cut by the period', () => {
    const lateWeekend = promotion({
      validity: {
        from: '2026-06-01T00:00',
        until: '2026-06-30T23:59',
        weekly: [{ from: { day: 'friday', time: '22:00' }, until: { day: 'monday', time: '01:59' } }],
      },
    });
    const evaluator = createInForceEvaluator(paris);
    const stretches = evaluator
      .stretches(lateWeekend, t('2026-06-10T00:00:00Z'))
      .map((s) => [iso(s.start), iso(s.end)]);
    expect(stretches).toContainEqual(['2026-06-12T20:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    // The first stretch of June begins with the period, mid-window (Monday 1 June 00:00).
    const first = evaluator.stretches(lateWeekend, t('2026-05-20T00:00:00Z'))[0];
    expect([iso(first?.start), iso(first?.end)]).toEqual([
      '2026-05-31T22:00:00.000Z',
      '2026-06-01T00:00:00.000Z',
    ]);
  });
});

describe('zone clock', () => {
  const clock = createZoneClock('Europe/Paris');
  const wall = (text: string) => Date.parse(`${text}Z`);

  it('maps ordinary, skipped and repeated wall times to instants by one rule', () => {
    expect(iso(clock.toInstant(wall('2026-03-29T01:30:00')))).toBe('2026-03-29T00:30:00.000Z');
    expect(iso(clock.toInstant(wall('2026-03-29T02:30:00')))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(clock.toInstant(wall('2026-03-29T03:00:00')))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(clock.toInstant(wall('2026-10-25T02:30:00')))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(clock.toInstant(wall('2026-10-25T03:00:00')))).toBe('2026-10-25T02:00:00.000Z');
  });

  it('agrees with the time zone database around every transition of a year, minute by minute', () => {
    const parisFormat = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Europe/Paris',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    // Bounded: two days around each of the two 2026 transitions, every minute.
    for (const day of ['2026-03-28T12:00:00Z', '2026-10-24T12:00:00Z']) {
      for (let minute = 0; minute < 48 * 60; minute++) {
        const instant = t(day) + minute * 60_000;
        const reading = clock.toWall(instant);
        const expected = parisFormat.format(instant).replace(' ', 'T');
        expect(iso(reading)?.slice(0, 19)).toBe(expected);
        // The way back lands on this instant, or on an earlier one showing the same time (the repeated hour).
        const back = clock.toInstant(reading);
        expect(back <= instant && clock.toWall(back) === reading).toBe(true);
      }
    }
  });

  it('refuses an unknown zone', () => {
    expect(() => createZoneClock('Mars/Olympus_Mons')).toThrow(/unknown time zone/);
  });
});
