import { lineAmount } from '../contracts/money.js';
import type { AppliedPromotion, Basket, BasketLine, PricedBasket } from '../contracts/promotion.js';
import type { TransactionLine } from '../contracts/transaction.js';
import type { IndexedPromotion, PricingIndex } from './pricing-index.js';
import { evaluateRule, type Proposal, type RulePart } from './rule-evaluation.js';

/**
 * Prices a basket with the promotions in force, the same way on every till (docs/promotions.md):
 *
 * 1. Exclusive promotions first, whatever their priority: higher priority first, and within a priority the
 *    one giving the most first. A line an exclusive promotion takes gets no other discount at all.
 * 2. Line promotions (every rule but threshold), priority by priority, highest first. Within a priority,
 *    each best-price promotion competes alone and each group of compounded promotions sharing lines
 *    competes together (applied one on the other, in promotionId order); the option giving the most is
 *    taken, then the next on the lines still open, and so on. A line taken at one priority is closed to
 *    lower ones.
 * 3. Threshold (spend N) promotions last, the same way, on what is left to pay after step 2.
 *
 * The result depends only on the lines' content and line numbers, never on their order: lines are put in a
 * canonical order before anything else, and every tie is broken by that order or by promotionId.
 */

/** The most discounts a transaction line may carry (transactionSchema); a compounded stack stops there. */
const MAX_DISCOUNTS_PER_LINE = 20;

interface WorkLine {
  index: number;
  lineNo: number;
  line: BasketLine;
  amount: number;
  remaining: number;
  /** promotionId → what it took off this line, in the order applied. */
  discounts: Map<string, { amount: number; promotion: IndexedPromotion }>;
  /** Taken by an exclusive promotion: closed to everything else. */
  exclusive: boolean;
}

interface Candidate {
  promotion: IndexedPromotion;
  /** Indexes of the lines the promotion covers, in canonical order. */
  eligible: number[];
}

interface Option {
  steps: { candidate: Candidate; proposal: Proposal }[];
  total: number;
  rank: number;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function compareLines(a: BasketLine & { lineNo: number }, b: BasketLine & { lineNo: number }): number {
  return (
    compareText(a.sku, b.sku) ||
    compareText(a.category ?? '', b.category ?? '') ||
    a.unitPrice - b.unitPrice ||
    a.quantity - b.quantity ||
    compareText(a.description ?? '', b.description ?? '') ||
    a.lineNo - b.lineNo
  );
}

function applicable(promotion: IndexedPromotion, basket: Basket, gross: number): boolean {
  const { currency, minimumBasket } = promotion.document;
  if (currency !== undefined && currency !== basket.currency) return false;
  return minimumBasket === undefined || gross >= minimumBasket;
}

/**
 * One stage (exclusive, line or threshold): priority levels from the highest, and within each the greedy
 * choice of the option giving the most. `open` says which lines the stage may touch at all; `take` is told
 * of every line an option takes. A promotion's proposal is kept until a line it covers changes, so a
 * basket with hundreds of candidate promotions evaluates most of them once.
 */
function runStage(
  candidates: readonly Candidate[],
  lines: readonly WorkLine[],
  open: (line: WorkLine) => boolean,
  take: (line: WorkLine) => void,
): void {
  const levels = new Map<number, Candidate[]>();
  for (const candidate of candidates) {
    const level = levels.get(candidate.promotion.priority);
    if (level === undefined) levels.set(candidate.promotion.priority, [candidate]);
    else level.push(candidate);
  }
  const closed = new Set<number>();
  const isOpen = (index: number) => {
    const line = lines[index];
    return line !== undefined && !closed.has(index) && open(line);
  };
  const changedFlags = new Uint8Array(lines.length);
  const touches = (candidate: Candidate) => candidate.eligible.some((index) => changedFlags[index] === 1);
  for (const [, level] of [...levels].sort((a, b) => b[0] - a[0])) {
    const single = new Set(level.filter((c) => c.promotion.concurrency !== 'compounded'));
    let compounded = level.filter((c) => c.promotion.concurrency === 'compounded');
    const cached = new Map<Candidate, Option | undefined>();
    let compoundedCache: Option[] | undefined;
    for (;;) {
      let best: Option | undefined;
      for (const candidate of single) {
        if (!cached.has(candidate)) cached.set(candidate, singleOption(candidate, lines, isOpen));
        const option = cached.get(candidate);
        // Lines only ever close or shrink, so a promotion that gives nothing now never will at this level.
        if (option === undefined) single.delete(candidate);
        else best = better(best, option);
      }
      compoundedCache ??= compoundedOptions(compounded, lines, isOpen);
      for (const option of compoundedCache) best = better(best, option);
      if (best === undefined) break;

      const changed = applyOption(best, lines, closed, take);
      const taken = new Set(best.steps.map((step) => step.candidate));
      for (const candidate of taken) single.delete(candidate);
      compounded = compounded.filter((candidate) => !taken.has(candidate));
      for (const index of changed) changedFlags[index] = 1;
      for (const candidate of cached.keys()) if (touches(candidate)) cached.delete(candidate);
      if (
        compounded.some(touches) ||
        best.steps.some((s) => s.candidate.promotion.concurrency === 'compounded')
      ) {
        compoundedCache = undefined;
      }
      for (const index of changed) changedFlags[index] = 0;
    }
  }
}

/** The option giving the most; on a tie, the one whose (first) promotion comes first by promotionId. */
function better(current: Option | undefined, option: Option): Option {
  if (current === undefined) return option;
  if (option.total !== current.total) return option.total > current.total ? option : current;
  return option.rank < current.rank ? option : current;
}

/** Books an option's discounts on its lines and closes the lines it takes; answers the lines changed. */
function applyOption(
  option: Option,
  lines: readonly WorkLine[],
  closed: Set<number>,
  take: (line: WorkLine) => void,
): Set<number> {
  const changed = new Set<number>();
  for (const { candidate, proposal } of option.steps) {
    for (const [index, amount] of proposal.discounts) {
      const line = lines[index];
      if (line === undefined) continue;
      line.remaining -= amount;
      line.discounts.set(candidate.promotion.promotionId, { amount, promotion: candidate.promotion });
      changed.add(index);
    }
    for (const index of proposal.used) {
      const line = lines[index];
      closed.add(index);
      changed.add(index);
      if (line !== undefined) take(line);
    }
  }
  return changed;
}

function singleOption(
  candidate: Candidate,
  lines: readonly WorkLine[],
  isOpen: (index: number) => boolean,
): Option | undefined {
  const parts: RulePart[] = [];
  for (const index of candidate.eligible) {
    const line = lines[index];
    if (line !== undefined && isOpen(index)) parts.push(partOf(line, line.remaining));
  }
  const proposal = parts.length > 0 ? evaluateRule(candidate.promotion.rule, parts) : undefined;
  return proposal === undefined
    ? undefined
    : { steps: [{ candidate, proposal }], total: proposal.total, rank: candidate.promotion.rank };
}

function partOf(line: WorkLine, remaining: number): RulePart {
  return { index: line.index, quantity: line.line.quantity, remaining };
}

/**
 * Compounded promotions of one priority, applied one on the other in promotionId order on the open lines,
 * then split into groups that share no line: each group is one option. Groups are cut along the lines
 * each promotion looked at, not only those it discounted, so a group's result never depends on another's.
 */
function compoundedOptions(
  compounded: readonly Candidate[],
  lines: readonly WorkLine[],
  isOpen: (index: number) => boolean,
): Option[] {
  if (compounded.length === 0) return [];
  const remaining = new Map<number, number>();
  const discountCount = new Map<number, number>();
  const steps: { candidate: Candidate; proposal: Proposal; looked: number[] }[] = [];
  for (const candidate of [...compounded].sort((a, b) => a.promotion.rank - b.promotion.rank)) {
    const parts: RulePart[] = [];
    const looked: number[] = [];
    for (const index of candidate.eligible) {
      const line = lines[index];
      if (line === undefined || !isOpen(index)) continue;
      if ((discountCount.get(index) ?? line.discounts.size) >= MAX_DISCOUNTS_PER_LINE) continue;
      looked.push(index);
      parts.push(partOf(line, remaining.get(index) ?? line.remaining));
    }
    const proposal = parts.length > 0 ? evaluateRule(candidate.promotion.rule, parts) : undefined;
    if (proposal === undefined) continue;
    for (const [index, amount] of proposal.discounts) {
      const line = lines[index];
      remaining.set(index, (remaining.get(index) ?? line?.remaining ?? 0) - amount);
      discountCount.set(index, (discountCount.get(index) ?? line?.discounts.size ?? 0) + 1);
    }
    steps.push({ candidate, proposal, looked });
  }
  // Union-find over steps that looked at a common line.
  const parent = steps.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] ?? i] ?? i;
    return i;
  };
  const owner = new Map<number, number>();
  steps.forEach((step, i) => {
    for (const index of step.looked) {
      const other = owner.get(index);
      if (other === undefined) owner.set(index, i);
      else parent[find(i)] = find(other);
    }
  });
  const groups = new Map<number, Option>();
  steps.forEach((step, i) => {
    const root = find(i);
    const option = groups.get(root) ?? { steps: [], total: 0, rank: Infinity };
    option.steps.push({ candidate: step.candidate, proposal: step.proposal });
    option.total += step.proposal.total;
    option.rank = Math.min(option.rank, step.candidate.promotion.rank);
    groups.set(root, option);
  });
  return [...groups.values()];
}

/** Prices a validated basket with the indexed promotions (those in force: see in-force.ts). */
export function priceBasket(index: PricingIndex, basket: Basket): PricedBasket {
  const numbered = basket.lines.map((line, i) => ({ ...line, lineNo: line.lineNo ?? i + 1 }));
  const lines: WorkLine[] = [...numbered].sort(compareLines).map((line, i) => {
    const amount = lineAmount(line.quantity, line.unitPrice);
    return {
      index: i,
      lineNo: line.lineNo,
      line,
      amount,
      remaining: amount,
      discounts: new Map(),
      exclusive: false,
    };
  });
  const gross = lines.reduce((sum, line) => sum + line.amount, 0);

  const exclusive: Candidate[] = [];
  const lineRules: Candidate[] = [];
  const thresholds: Candidate[] = [];
  // Matched on the lines in canonical order: a match's positions are the lines' indexes.
  for (const { promotion, lines: eligible } of index.match(lines.map((line) => line.line))) {
    if (!applicable(promotion, basket, gross)) continue;
    const candidate = { promotion, eligible };
    if (promotion.concurrency === 'exclusive') exclusive.push(candidate);
    else if (promotion.rule.kind === 'threshold') thresholds.push(candidate);
    else lineRules.push(candidate);
  }
  const notExclusive = (line: WorkLine) => !line.exclusive;
  runStage(exclusive, lines, notExclusive, (line) => (line.exclusive = true));
  runStage(lineRules, lines, notExclusive, () => {});
  runStage(thresholds, lines, notExclusive, () => {});

  return pricedResult(basket, lines);
}

function pricedResult(basket: Basket, lines: readonly WorkLine[]): PricedBasket {
  const byLineNo = [...lines].sort((a, b) => a.lineNo - b.lineNo);
  const applied = new Map<string, AppliedPromotion>();
  const outLines: TransactionLine[] = byLineNo.map((work) => {
    const discounts = [...work.discounts].map(([promotionId, { amount, promotion }]) => {
      const name = promotion.document.name;
      let summary = applied.get(promotionId);
      if (summary === undefined) {
        summary = {
          promotionId,
          version: promotion.document.version,
          name,
          kind: promotion.rule.kind,
          concurrency: promotion.concurrency,
          priority: promotion.priority,
          amount: 0,
          lineNos: [],
        };
        applied.set(promotionId, summary);
      }
      summary.amount += amount;
      summary.lineNos.push(work.lineNo);
      return { promotionId, amount, reason: name };
    });
    return {
      lineNo: work.lineNo,
      sku: work.line.sku,
      ...(work.line.description === undefined ? {} : { description: work.line.description }),
      quantity: work.line.quantity,
      unitPrice: work.line.unitPrice,
      amount: work.amount,
      discounts,
      taxes: [],
    };
  });
  const grossTotal = outLines.reduce((sum, line) => sum + line.amount, 0);
  const discountTotal = outLines.reduce(
    (sum, line) => sum + line.discounts.reduce((s, d) => s + d.amount, 0),
    0,
  );
  return {
    currency: basket.currency,
    lines: outLines,
    totals: { gross: grossTotal, discount: discountTotal, tax: 0, total: grossTotal - discountTotal },
    promotions: [...applied.values()].sort((a, b) => compareText(a.promotionId, b.promotionId)),
  };
}
