import { lineAmount } from '../contracts/money.js';
import type { PromotionRule } from '../contracts/promotion.js';
import { allocate, percentInBasisPoints, roundedShare } from './discount-arithmetic.js';

/**
 * What one promotion's rule would give on some lines, each line at what is still left to pay on it. Pure
 * and exact; which promotions get to run on which lines is decided in pricing.ts.
 */

export interface RulePart {
  /** The line's place in the basket's canonical order: the tie-break wherever one is needed. */
  index: number;
  quantity: number;
  /** What is left to pay on the line, in minor units. */
  remaining: number;
}

export interface Proposal {
  /** Line index → discount, every one positive and at most the line's remaining amount. */
  discounts: Map<number, number>;
  /** The lines the promotion takes, in index order: those discounted, and those a multi-buy counted. */
  used: number[];
  total: number;
}

const FULL = 10_000;

/** `used` may repeat lines and come in any order, unless `usedIsSorted` says it is ascending and unique. */
function proposal(
  discounts: Map<number, number>,
  used: Iterable<number>,
  usedIsSorted = false,
): Proposal | undefined {
  let total = 0;
  for (const [index, amount] of discounts) {
    if (amount <= 0) discounts.delete(index);
    else total += amount;
  }
  if (total === 0) return undefined;
  return { discounts, used: usedIsSorted ? [...used] : [...new Set(used)].sort((a, b) => a - b), total };
}

function perLine(parts: readonly RulePart[], discountOf: (part: RulePart) => number): Proposal | undefined {
  const discounts = new Map<number, number>();
  for (const part of parts) {
    const discount = Math.min(part.remaining, Math.max(0, discountOf(part)));
    if (discount > 0) discounts.set(part.index, discount);
  }
  // Parts come in index order, so the discounted lines do too.
  return proposal(discounts, discounts.keys(), true);
}

/** A run of units of one line that are worth the same (whole minor units). */
interface UnitRun {
  index: number;
  count: number;
  value: number;
}

/**
 * The units of whole-quantity lines, most valuable first. A line's remaining amount is spread over its
 * units in whole minor units (the first `remaining mod quantity` units carry one unit more), so every
 * unit has an integer worth and the units of a line always add up to what is left on it. Weighed lines
 * (a fractional quantity) have no units and never count towards a multi-buy.
 */
function unitRuns(parts: readonly RulePart[]): UnitRun[] {
  const runs: UnitRun[] = [];
  for (const part of parts) {
    if (!Number.isInteger(part.quantity) || part.remaining <= 0) continue;
    const base = Math.floor(part.remaining / part.quantity);
    const extra = part.remaining - base * part.quantity;
    if (extra > 0) runs.push({ index: part.index, count: extra, value: base + 1 });
    if (part.quantity - extra > 0 && base > 0)
      runs.push({ index: part.index, count: part.quantity - extra, value: base });
  }
  return runs.sort((a, b) => b.value - a.value || a.index - b.index);
}

interface GroupMember {
  index: number;
  units: number;
  value: number;
}

/**
 * Cuts the sorted units into consecutive groups of `size`, most valuable first, and calls `visit` for each
 * complete group, or once for `times` identical groups cut from one run (a line of 600 units is a few
 * calls, not 600). Leftover units that do not fill a group are not visited. `visit` returns false to stop.
 */
function forEachGroup(
  runs: readonly UnitRun[],
  size: number,
  visit: (members: GroupMember[], times: number) => boolean,
): void {
  let pending: GroupMember[] = [];
  let filled = 0;
  for (const run of runs) {
    let left = run.count;
    while (left > 0) {
      if (filled === 0 && left >= size) {
        const times = Math.floor(left / size);
        if (!visit([{ index: run.index, units: size, value: run.value }], times)) return;
        left -= times * size;
        continue;
      }
      const take = Math.min(size - filled, left);
      pending.push({ index: run.index, units: take, value: run.value });
      filled += take;
      left -= take;
      if (filled === size) {
        if (!visit(pending, 1)) return;
        pending = [];
        filled = 0;
      }
    }
  }
}

/** For every buy + get units, the get cheapest of the group are percent off; each line's share rounded once. */
function buyXGetY(
  parts: readonly RulePart[],
  buy: number,
  get: number,
  basisPoints: number,
): Proposal | undefined {
  const freeValue = new Map<number, number>();
  const used: number[] = [];
  forEachGroup(unitRuns(parts), buy + get, (members, times) => {
    let free = get;
    for (let m = members.length - 1; m >= 0 && free > 0; m--) {
      const member = members[m];
      if (member === undefined) continue;
      const units = Math.min(free, member.units);
      free -= units;
      freeValue.set(member.index, (freeValue.get(member.index) ?? 0) + units * member.value * times);
    }
    for (const member of members) used.push(member.index);
    return true;
  });
  const discounts = new Map<number, number>();
  for (const [index, value] of freeValue) discounts.set(index, roundedShare(value, basisPoints, FULL));
  return proposal(discounts, used);
}

/** Each group of `size` units sells for `price`; a group already worth less is left alone (and so are the rest). */
function bundlePrice(parts: readonly RulePart[], size: number, price: number): Proposal | undefined {
  const discounts = new Map<number, number>();
  const used: number[] = [];
  forEachGroup(unitRuns(parts), size, (members, times) => {
    const worth = new Map<number, number>();
    for (const member of members)
      worth.set(member.index, (worth.get(member.index) ?? 0) + member.units * member.value);
    const value = [...worth.values()].reduce((a, b) => a + b, 0);
    // Groups come most valuable first: once one is not worth more than the price, none after it is.
    if (value <= price) return false;
    const weights = [...worth].map(([index, weight]) => ({ key: index, weight }));
    const shares = allocate(value - price, weights);
    weights.forEach((w, i) => {
      discounts.set(w.key, (discounts.get(w.key) ?? 0) + (shares[i] ?? 0) * times);
      used.push(w.key);
    });
    return true;
  });
  return proposal(discounts, used);
}

/** Spend at least `spend` on the lines (what is left on them) and the discount is spread over them by worth. */
function threshold(parts: readonly RulePart[], spend: number, amountOff?: number, percentOff?: number) {
  const open = parts.filter((part) => part.remaining > 0);
  const spent = open.reduce((sum, part) => sum + part.remaining, 0);
  if (spent < spend || open.length === 0) return undefined;
  const total =
    amountOff !== undefined
      ? Math.min(amountOff, spent)
      : roundedShare(spent, percentInBasisPoints(percentOff ?? 0), FULL);
  const shares = allocate(
    total,
    open.map((part) => ({ key: part.index, weight: part.remaining })),
  );
  const discounts = new Map<number, number>();
  open.forEach((part, i) => discounts.set(part.index, shares[i] ?? 0));
  return proposal(
    discounts,
    open.map((part) => part.index),
  );
}

/** What the rule gives on these lines (the promotion's eligible lines still open to it), or nothing. */
export function evaluateRule(rule: PromotionRule, parts: readonly RulePart[]): Proposal | undefined {
  switch (rule.kind) {
    case 'percent-off': {
      const basisPoints = percentInBasisPoints(rule.percent);
      return perLine(parts, (part) => roundedShare(part.remaining, basisPoints, FULL));
    }
    case 'amount-off':
      return perLine(parts, (part) => lineAmount(part.quantity, rule.amount));
    case 'fixed-price':
      return perLine(parts, (part) => part.remaining - lineAmount(part.quantity, rule.price));
    case 'buy-x-get-y':
      return buyXGetY(
        parts,
        rule.buy,
        rule.get,
        rule.percent === undefined ? FULL : percentInBasisPoints(rule.percent),
      );
    case 'bundle-price':
      return bundlePrice(parts, rule.quantity, rule.price);
    case 'threshold':
      return threshold(parts, rule.spend, rule.amountOff, rule.percentOff);
  }
}
