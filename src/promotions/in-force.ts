import {
  WEEKDAYS,
  isLocalDateTime,
  type PromotionDocument,
  type PromotionValidity,
  type WeeklyWindow,
} from '../contracts/promotion.js';
import { targetsStore, type StoreIdentity } from './targeting.js';
import { createZoneClock, type ZoneClock } from './zone-clock.js';

/**
 * Which promotions are in force for a store at an instant. Instants with an offset mean what they say;
 * store-local times are read on the store's clock (its IANA time zone, or the promotion's own `timeZone`),
 * through the rule of zone-clock.ts, so a store-local window stays one stretch of real time across
 * daylight-saving changes.
 */

export interface StoreContext extends StoreIdentity {
  /** The store's IANA time zone, e.g. "Europe/Paris". */
  timeZone: string;
}

export interface InForceEntry {
  promotion: PromotionDocument;
  /** The instant the current stretch in force began (ms since the epoch). */
  since: number;
  /** The first instant it is no longer in force (ms since the epoch), as far as the next three weeks tell. */
  until: number;
}

export interface InForceAnswer {
  at: number;
  /** In promotionId order. */
  inForce: InForceEntry[];
  /** The earliest start after `at` of a promotion not in force now, and every promotion starting then. */
  next?: { startsAt: number; promotions: PromotionDocument[] };
  /** The earliest instant after `at` at which this answer may change; absent when nothing will. */
  changesAt?: number;
}

export interface InForceEvaluator {
  /** `promotions`: the catalogue, one (the latest held) version per promotion. */
  at(promotions: Iterable<PromotionDocument>, instant: number): InForceAnswer;
  /** The stretches of real time in force, around `instant` (from a week before to three weeks after). */
  stretches(promotion: PromotionDocument, instant: number): Interval[];
}

export interface Interval {
  start: number;
  end: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const WEEK = 7 * DAY;

/** A store-local date-time ("2026-03-28T00:00") as a wall time. */
function wallOf(localDateTime: string): number {
  const [date = '', time = ''] = localDateTime.split('T');
  const [y = 0, mo = 1, d = 1] = date.split('-').map(Number);
  const [h = 0, mi = 0] = time.split(':').map(Number);
  return Date.UTC(y, mo - 1, d, h, mi);
}

function minuteOfWeek(point: WeeklyWindow['from']): number {
  const [h = 0, mi = 0] = point.time.split(':').map(Number);
  return WEEKDAYS.indexOf(point.day) * 1440 + h * 60 + mi;
}

/** A weekly window as minutes from Monday 00:00, end excluded; a window that wraps ends past the week. */
function weeklyMinutes(window: WeeklyWindow): { start: number; end: number } {
  const start = minuteOfWeek(window.from);
  const lastMinute = minuteOfWeek(window.until);
  return { start, end: lastMinute >= start ? lastMinute + 1 : lastMinute + 1 + 7 * 1440 };
}

/** Monday 00:00 of the week holding a wall time (1970-01-01 was a Thursday). */
function mondayOf(wall: number): number {
  const day = Math.floor(wall / DAY);
  const weekday = (((day + 3) % 7) + 7) % 7; // 0 = Monday
  return (day - weekday) * DAY;
}

/** A document's validity in numbers, worked out once per document and store. */
interface CompiledValidity {
  period: Interval;
  clock: ZoneClock;
  weekly?: { start: number; end: number }[];
  /** The stretches last worked out for a weekly validity, and the week they were worked out around. */
  lastMonday?: number;
  lastStretches?: Interval[];
}

export function createInForceEvaluator(store: StoreContext): InForceEvaluator {
  const clocks = new Map<string, ZoneClock>();
  const clockFor = (validity: PromotionValidity): ZoneClock => {
    const timeZone = validity.timeZone ?? store.timeZone;
    let clock = clocks.get(timeZone);
    if (clock === undefined) {
      clock = createZoneClock(timeZone);
      clocks.set(timeZone, clock);
    }
    return clock;
  };

  // Documents are immutable values: what is worked out from one stays true for as long as it lives.
  const compiled = new WeakMap<PromotionDocument, CompiledValidity>();
  const compile = (promotion: PromotionDocument): CompiledValidity => {
    let known = compiled.get(promotion);
    if (known !== undefined) return known;
    const { validity } = promotion;
    const clock = clockFor(validity);
    // A store-local `until` names the last minute in force: the period ends where the next minute begins.
    const period = isLocalDateTime(validity.from)
      ? {
          start: clock.toInstant(wallOf(validity.from)),
          end: clock.toInstant(wallOf(validity.until) + MINUTE),
        }
      : { start: Date.parse(validity.from), end: Date.parse(validity.until) };
    known = {
      period,
      clock,
      ...(validity.weekly === undefined ? {} : { weekly: validity.weekly.map(weeklyMinutes) }),
    };
    compiled.set(promotion, known);
    return known;
  };

  /**
   * The stretches in force around `reference`: the period, or its intersection with the weekly windows of
   * the week before through three weeks after, merged where one ends as the next begins.
   */
  const stretches = (promotion: PromotionDocument, reference: number): Interval[] => {
    const validity = compile(promotion);
    const whole = validity.period;
    if (validity.weekly === undefined) return whole.end > whole.start ? [whole] : [];
    const { clock } = validity;
    const monday = mondayOf(clock.toWall(Math.max(reference, whole.start)));
    if (validity.lastMonday === monday && validity.lastStretches !== undefined) return validity.lastStretches;
    const pieces: Interval[] = [];
    for (let week = -1; week <= 3; week++) {
      for (const minutes of validity.weekly) {
        const base = monday + week * WEEK;
        const start = Math.max(clock.toInstant(base + minutes.start * MINUTE), whole.start);
        const end = Math.min(clock.toInstant(base + minutes.end * MINUTE), whole.end);
        if (end > start) pieces.push({ start, end });
      }
    }
    pieces.sort((a, b) => a.start - b.start || a.end - b.end);
    const merged: Interval[] = [];
    for (const piece of pieces) {
      const last = merged[merged.length - 1];
      if (last !== undefined && piece.start <= last.end) last.end = Math.max(last.end, piece.end);
      else merged.push({ ...piece });
    }
    validity.lastMonday = monday;
    validity.lastStretches = merged;
    return merged;
  };

  const at = (promotions: Iterable<PromotionDocument>, instant: number): InForceAnswer => {
    const inForce: InForceEntry[] = [];
    let nextStart = Infinity;
    let startingNext: PromotionDocument[] = [];
    for (const promotion of promotions) {
      if (promotion.state !== 'active' || !targetsStore(promotion.target, store)) continue;
      let upcoming = Infinity;
      let current: Interval | undefined;
      for (const stretch of stretches(promotion, instant)) {
        if (stretch.start <= instant && instant < stretch.end) current = stretch;
        else if (stretch.start > instant && stretch.start < upcoming) upcoming = stretch.start;
      }
      if (current !== undefined) {
        inForce.push({ promotion, since: current.start, until: current.end });
      } else if (upcoming < nextStart) {
        nextStart = upcoming;
        startingNext = [promotion];
      } else if (upcoming === nextStart && upcoming !== Infinity) {
        startingNext.push(promotion);
      }
    }
    const byId = (a: PromotionDocument, b: PromotionDocument) =>
      a.promotionId < b.promotionId ? -1 : a.promotionId > b.promotionId ? 1 : 0;
    inForce.sort((a, b) => byId(a.promotion, b.promotion));
    const changesAt = Math.min(nextStart, ...inForce.map((entry) => entry.until));
    return {
      at: instant,
      inForce,
      ...(nextStart === Infinity
        ? {}
        : { next: { startsAt: nextStart, promotions: startingNext.sort(byId) } }),
      ...(Number.isFinite(changesAt) ? { changesAt } : {}),
    };
  };

  return { at, stretches: (promotion, reference) => stretches(promotion, reference).map((s) => ({ ...s })) };
}

/** One-off convenience; an agent keeps one evaluator per store so its time-zone memos are reused. */
export function promotionsInForce(
  promotions: Iterable<PromotionDocument>,
  store: StoreContext,
  instant: number,
): InForceAnswer {
  return createInForceEvaluator(store).at(promotions, instant);
}
