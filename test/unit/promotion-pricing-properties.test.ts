import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineAmount } from '../../src/contracts/money.js';
import {
  basketSchema,
  promotionDocumentSchema,
  type PromotionDocument,
} from '../../src/contracts/promotion.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { allocate } from '../../src/promotions/discount-arithmetic.js';
import { createPricingIndex, priceBasket } from '../../src/promotions/index.js';

/**
 * Properties of pricing over random catalogues and baskets. Each run is bounded (numRuns), and a failing
 * case is shrunk by fast-check to a small basket a reader can check by hand.
 */

const SKUS = ['A', 'B', 'C', 'D', 'E'];
const CATEGORIES = ['x', 'y'];
const RUNS = { numRuns: 400 };

/** Prices from a short list too, so baskets often hold equal lines: the ties order independence is about. */
const money = fc.oneof(
  fc.constantFrom(99, 100, 250, 333),
  fc.integer({ min: 0, max: 5000 }),
  fc.integer({ min: 0, max: 50_000_000 }),
);
const percent = fc.integer({ min: 1, max: 10_000 }).map((hundredths) => hundredths / 100);

const rule = fc.oneof(
  fc.record({ kind: fc.constant('percent-off'), percent }),
  fc.record({ kind: fc.constant('amount-off'), amount: fc.integer({ min: 1, max: 5000 }) }),
  fc.record({ kind: fc.constant('fixed-price'), price: fc.integer({ min: 0, max: 5000 }) }),
  fc.record(
    {
      kind: fc.constant('buy-x-get-y'),
      buy: fc.integer({ min: 1, max: 4 }),
      get: fc.integer({ min: 1, max: 3 }),
      percent,
    },
    { requiredKeys: ['kind', 'buy', 'get'] },
  ),
  fc.record({
    kind: fc.constant('bundle-price'),
    quantity: fc.integer({ min: 2, max: 5 }),
    price: fc.integer({ min: 1, max: 20_000 }),
  }),
  fc
    .record({ spend: fc.integer({ min: 1, max: 30_000 }), share: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ spend, share }) => ({
      kind: 'threshold',
      spend,
      amountOff: Math.max(1, Math.floor(spend * share)),
    })),
  fc.record({
    kind: fc.constant('threshold'),
    spend: fc.integer({ min: 1, max: 30_000 }),
    percentOff: percent,
  }),
);

const items = fc.oneof(
  fc.constant({ all: true }),
  fc.record({ skus: fc.subarray(SKUS, { minLength: 1 }) }),
  fc.record({ categories: fc.subarray(CATEGORIES, { minLength: 1 }) }),
  fc.record({
    skus: fc.subarray(SKUS, { minLength: 1 }),
    categories: fc.subarray(CATEGORIES, { minLength: 1 }),
  }),
);

const promotionDraft = fc.record(
  {
    rule,
    items,
    exclusions: fc.record({ skus: fc.subarray(SKUS, { maxLength: 2 }) }),
    concurrency: fc.constantFrom('exclusive', 'best-price', 'compounded'),
    priority: fc.integer({ min: 0, max: 2 }),
    minimumBasket: fc.integer({ min: 1, max: 20_000 }),
  },
  { requiredKeys: ['rule', 'items', 'concurrency'] },
);

/** Up to 8 promotions with distinct ids; drafts the schema refuses (exclusions covering all) are dropped. */
const catalogue = fc.array(promotionDraft, { maxLength: 8 }).map((drafts) =>
  drafts.flatMap((draft, i): PromotionDocument[] => {
    const parsed = promotionDocumentSchema.safeParse({
      v: 1,
      promotionId: `P${i}`,
      version: 1,
      name: `Promotion ${i}`,
      state: 'active',
      currency: 'EUR',
      target: { all: true },
      validity: { from: '2026-01-01T00:00:00Z', until: '2027-01-01T00:00:00Z' },
      ...draft,
    });
    return parsed.success ? [parsed.data] : [];
  }),
);

const quantity = fc.oneof(
  fc.integer({ min: 1, max: 3 }),
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 1, max: 5000 }).map((grams) => grams / 1000),
);

const line = fc.record(
  {
    sku: fc.constantFrom(...SKUS),
    category: fc.constantFrom(...CATEGORIES),
    quantity,
    unitPrice: money,
  },
  { requiredKeys: ['sku', 'quantity', 'unitPrice'] },
);

/** 1–30 lines, numbered 1..n, handed over in a random order. */
const basketLines = fc.array(line, { minLength: 1, maxLength: 30 }).chain((lines) =>
  fc.shuffledSubarray(
    lines.map((l, i) => ({ ...l, lineNo: i + 1 })),
    { minLength: lines.length, maxLength: lines.length },
  ),
);

const price = (promotions: PromotionDocument[], lines: unknown[]) =>
  priceBasket(createPricingIndex(promotions), basketSchema.parse({ currency: 'EUR', lines }));

describe('basket pricing properties', () => {
  it('never gives a line more discount than its amount, and every discount is a positive whole amount', () => {
    fc.assert(
      fc.property(catalogue, basketLines, (promotions, lines) => {
        for (const priced of price(promotions, lines).lines) {
          expect(priced.amount).toBe(lineAmount(priced.quantity, priced.unitPrice));
          const discount = priced.discounts.reduce((sum, d) => sum + d.amount, 0);
          expect(discount).toBeLessThanOrEqual(priced.amount);
          for (const d of priced.discounts) expect(Number.isSafeInteger(d.amount) && d.amount > 0).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('never makes a total negative, and totals add up as a transaction requires', () => {
    fc.assert(
      fc.property(catalogue, basketLines, (promotions, lines) => {
        const priced = price(promotions, lines);
        const { gross, discount, tax, total } = priced.totals;
        expect(Math.min(gross, discount, total)).toBeGreaterThanOrEqual(0);
        expect(tax).toBe(0);
        expect(total).toBe(gross - discount);
        expect(priced.promotions.reduce((sum, p) => sum + p.amount, 0)).toBe(discount);
        const sale = {
          v: 1,
          type: 'sale',
          terminalId: 'T1',
          transactionId: 'priced-1',
          businessDay: '2026-06-01',
          occurredAt: '2026-06-01T10:00:00+02:00',
          currency: 'EUR',
          operatorId: 'op-1',
          taxIncluded: true,
          lines: priced.lines,
          tenders: [{ method: 'card', amount: total }],
          totals: priced.totals,
        };
        expect(transactionSchema.safeParse(sale).error?.issues ?? []).toEqual([]);
      }),
      RUNS,
    );
  });

  it('prices the same whatever the order of the lines', () => {
    fc.assert(
      fc.property(
        catalogue,
        basketLines.chain((lines) =>
          fc.tuple(
            fc.constant(lines),
            fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length }),
          ),
        ),
        (promotions, [lines, reordered]) => {
          expect(price(promotions, reordered)).toEqual(price(promotions, lines));
        },
      ),
      RUNS,
    );
  });

  it('prices the same whatever the order of the promotions', () => {
    fc.assert(
      fc.property(
        catalogue.chain((promotions) =>
          fc.tuple(
            fc.constant(promotions),
            fc.shuffledSubarray(promotions, { minLength: promotions.length, maxLength: promotions.length }),
          ),
        ),
        basketLines,
        ([promotions, reordered], lines) => {
          expect(price(reordered, lines)).toEqual(price(promotions, lines));
        },
      ),
      RUNS,
    );
  });

  it('allocates a discount over lines so the parts sum to the whole and none exceeds its line', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000_000_000 }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (weights, share) => {
          const sum = weights.reduce((a, b) => a + b, 0);
          const total = Math.floor(sum * share);
          const parts = allocate(
            total,
            weights.map((weight, key) => ({ key, weight })),
          );
          expect(parts.reduce((a, b) => a + b, 0)).toBe(sum === 0 ? 0 : total);
          parts.forEach((part, i) => expect(part >= 0 && part <= (weights[i] ?? 0)).toBe(true));
        },
      ),
      RUNS,
    );
  });
});
