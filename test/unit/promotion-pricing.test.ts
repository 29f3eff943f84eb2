import { describe, expect, it } from 'vitest';
import { basketSchema, type PricedBasket, type PromotionDocument } from '../../src/contracts/promotion.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { allocate, roundedShare } from '../../src/promotions/discount-arithmetic.js';
import { createBasketPricer, createPricingIndex, priceBasket } from '../../src/promotions/index.js';
import { promotion } from '../support/promotion-documents.js';

interface LineInput {
  lineNo?: number;
  sku: string;
  category?: string;
  quantity: number;
  unitPrice: number;
}

function price(promotions: PromotionDocument[], lines: LineInput[], currency = 'EUR'): PricedBasket {
  return priceBasket(createPricingIndex(promotions), basketSchema.parse({ currency, lines }));
}

/** lineNo → [promotionId, amount] pairs, the shape a reader checks by hand. */
function discounts(priced: PricedBasket): Record<number, [string | undefined, number][]> {
  return Object.fromEntries(
    priced.lines.map((line) => [
      line.lineNo,
      line.discounts.map((d): [string | undefined, number] => [d.promotionId, d.amount]),
    ]),
  );
}

/** The priced basket as a sale paid by card: the real transaction schema must accept it. */
function asSale(priced: PricedBasket) {
  return {
    v: 1,
    type: 'sale',
    terminalId: 'T1',
    transactionId: 'priced-1',
    businessDay: '2026-06-01',
    occurredAt: '2026-06-01T10:00:00+02:00',
    currency: priced.currency,
    operatorId: 'op-1',
    taxIncluded: true,
    lines: priced.lines,
    tenders: [{ method: 'card', amount: priced.totals.total }],
    totals: priced.totals,
  };
}

const percent = (id: string, value: number, extra: Record<string, unknown> = {}) =>
  promotion({ promotionId: id, rule: { kind: 'percent-off', percent: value }, ...extra });

describe('discount arithmetic', () => {
  it('rounds a share half up to the minor unit, exactly even past 2^53', () => {
    expect(roundedShare(5, 1000, 10_000)).toBe(1); // 0.5 → 1
    expect(roundedShare(4, 1000, 10_000)).toBe(0); // 0.4 → 0
    expect(roundedShare(999, 1250, 10_000)).toBe(125); // 124.875
    expect(roundedShare(1_000_000_000_001, 9999, 10_000)).toBe(999_900_000_001); // 999 900 000 000.9999
  });

  it('allocates by largest remainder: parts sum to the whole, none above its weight, ties to the lower key', () => {
    expect(
      allocate(500, [
        { key: 0, weight: 3000 },
        { key: 1, weight: 2500 },
      ]),
    ).toEqual([273, 227]);
    expect(
      allocate(2, [
        { key: 1, weight: 1 },
        { key: 0, weight: 1 },
        { key: 2, weight: 1 },
      ]),
    ).toEqual([1, 1, 0]);
    expect(
      allocate(3, [
        { key: 0, weight: 1 },
        { key: 1, weight: 1 },
        { key: 2, weight: 1 },
      ]),
    ).toEqual([1, 1, 1]);
    expect(() => allocate(4, [{ key: 0, weight: 3 }])).toThrow(RangeError);
  });
});

describe('basket pricing: one test per rule kind', () => {
  it('percent off: per line, rounded half up, nothing for a line whose share rounds to 0', () => {
    const priced = price(
      [
        percent('P10', 10, { items: { skus: ['COFFEE', 'GUM'] } }),
        percent('P125', 12.5, { items: { skus: ['TEA'] } }),
      ],
      [
        { sku: 'COFFEE', quantity: 2, unitPrice: 499 }, // 998 → 99.8
        { sku: 'TEA', quantity: 1, unitPrice: 999 }, // 124.875
        { sku: 'GUM', quantity: 1, unitPrice: 4 }, // 0.4
        { sku: 'MILK', quantity: 1, unitPrice: 115 },
      ],
    );
    expect(discounts(priced)).toEqual({ 1: [['P10', 100]], 2: [['P125', 125]], 3: [], 4: [] });
    expect(priced.totals).toEqual({ gross: 998 + 999 + 4 + 115, discount: 225, tax: 0, total: 1891 });
  });

  it('amount off: per unit, per kilogram for weighed goods, never more than the line', () => {
    const off = promotion({
      rule: { kind: 'amount-off', amount: 100 },
      items: { skus: ['COFFEE', 'APPLES-KG'] },
    });
    const big = promotion({
      promotionId: 'BIG',
      rule: { kind: 'amount-off', amount: 600 },
      items: { skus: ['GUM'] },
    });
    const priced = price(
      [off, big],
      [
        { sku: 'COFFEE', quantity: 3, unitPrice: 499 },
        { sku: 'APPLES-KG', quantity: 1.235, unitPrice: 299 }, // 369; 1.235 × 100 = 123.5
        { sku: 'GUM', quantity: 1, unitPrice: 99 },
      ],
    );
    expect(discounts(priced)).toEqual({ 1: [['PROMO-1', 300]], 2: [['PROMO-1', 124]], 3: [['BIG', 99]] });
  });

  it('fixed price: each unit at the price, and a line already cheaper is left alone', () => {
    const fixed = promotion({
      rule: { kind: 'fixed-price', price: 399 },
      items: { skus: ['COFFEE', 'TEA'] },
    });
    const priced = price(
      [fixed],
      [
        { sku: 'COFFEE', quantity: 2, unitPrice: 499 },
        { sku: 'TEA', quantity: 1, unitPrice: 350 },
      ],
    );
    expect(discounts(priced)).toEqual({ 1: [['PROMO-1', 200]], 2: [] });
  });

  it('buy X get Y: the cheapest units of each group are free, across skus; weighed lines do not count', () => {
    const threeForTwo = promotion({
      promotionId: '3FOR2',
      rule: { kind: 'buy-x-get-y', buy: 2, get: 1 },
      items: { categories: ['pasta'] },
    });
    const priced = price(
      [threeForTwo],
      [
        { sku: 'PENNE', category: 'pasta', quantity: 2, unitPrice: 300 },
        { sku: 'FUSILLI', category: 'pasta', quantity: 2, unitPrice: 250 },
        { sku: 'ORZO', category: 'pasta', quantity: 1, unitPrice: 100 },
        { sku: 'FRESH-PASTA-KG', category: 'pasta', quantity: 0.5, unitPrice: 1200 },
      ],
    );
    // Units, dearest first: 300 300 250 | 250 100 (no full second group): one 250 is free.
    expect(discounts(priced)).toEqual({ 1: [], 2: [['3FOR2', 250]], 3: [], 4: [] });
    const secondHalfPrice = promotion({ rule: { kind: 'buy-x-get-y', buy: 1, get: 1, percent: 50 } });
    // Two groups of two at 199: two units half price, 199 × 2 × 50% = 199, rounded once for the line.
    expect(discounts(price([secondHalfPrice], [{ sku: 'COFFEE', quantity: 4, unitPrice: 199 }]))).toEqual({
      1: [['PROMO-1', 199]],
    });
    // Many units are grouped without walking them one by one.
    expect(
      discounts(price([threeForTwo], [{ sku: 'PENNE', category: 'pasta', quantity: 90_000, unitPrice: 3 }])),
    ).toEqual({ 1: [['3FOR2', 90_000]] });
  });

  it('bundle price: groups of the dearest units at the price, the saving spread over their lines', () => {
    const threeForTen = promotion({
      promotionId: '3FOR10',
      rule: { kind: 'bundle-price', quantity: 3, price: 1000 },
      items: { skus: ['WINE-A', 'WINE-B', 'WINE-C'] },
    });
    const priced = price(
      [threeForTen],
      [
        { sku: 'WINE-A', quantity: 2, unitPrice: 450 },
        { sku: 'WINE-B', quantity: 2, unitPrice: 400 },
        { sku: 'WINE-C', quantity: 3, unitPrice: 300 },
      ],
    );
    // Groups: [450 450 400] = 1300 → 300 off; [400 300 300] = 1000 → nothing; 300 left over.
    // 300 over 900 and 400: 207.69 and 92.31 → 207 + 92 = 299, the unit left goes to the larger remainder.
    expect(discounts(priced)).toEqual({ 1: [['3FOR10', 208]], 2: [['3FOR10', 92]], 3: [] });
    expect(priced.promotions).toEqual([
      expect.objectContaining({ promotionId: '3FOR10', amount: 300, lineNos: [1, 2], kind: 'bundle-price' }),
    ]);
  });

  it('threshold: spend N on the items and get M off, spread over them by what they cost', () => {
    const spend50 = promotion({
      promotionId: 'SPEND50',
      rule: { kind: 'threshold', spend: 5000, amountOff: 500 },
      items: { all: true },
    });
    const lines = [
      { sku: 'COFFEE', quantity: 1, unitPrice: 3000 },
      { sku: 'TEA', quantity: 1, unitPrice: 2500 },
    ];
    // 500 × 3000/5500 = 272.73, 500 × 2500/5500 = 227.27 → 272 + 227 = 499, one unit to the larger remainder.
    expect(discounts(price([spend50], lines))).toEqual({ 1: [['SPEND50', 273]], 2: [['SPEND50', 227]] });
    expect(discounts(price([spend50], [{ sku: 'COFFEE', quantity: 1, unitPrice: 4999 }]))).toEqual({ 1: [] });
    const tenPercent = promotion({
      promotionId: 'SPEND50-10',
      rule: { kind: 'threshold', spend: 5000, percentOff: 10 },
      items: { all: true },
    });
    expect(price([tenPercent], lines).totals.discount).toBe(550);
  });
});

describe('basket pricing: concurrency and priority', () => {
  const coffee = [{ sku: 'COFFEE', quantity: 1, unitPrice: 1000 }];

  it('an exclusive promotion beats all others, even of higher priority and bigger', () => {
    const exclusive = percent('EXCL-5', 5, { concurrency: 'exclusive' });
    const bigger = percent('BEST-20', 20, { priority: 10 });
    const compoundedOne = percent('COMP-10', 10, { concurrency: 'compounded', priority: 10 });
    const spend = promotion({
      promotionId: 'SPEND',
      rule: { kind: 'threshold', spend: 100, amountOff: 50 },
      items: { all: true },
    });
    const priced = price(
      [exclusive, bigger, compoundedOne, spend],
      [...coffee, { sku: 'TEA', quantity: 1, unitPrice: 1000 }],
    );
    // The coffee line gets the exclusive 5% and nothing else (not even the threshold); tea is open to the rest.
    expect(discounts(priced)).toEqual({ 1: [['EXCL-5', 50]], 2: [['SPEND', 50]] });
    const onTea = price(
      [exclusive, percent('BEST-20', 20, { items: { skus: ['COFFEE', 'TEA'] } }), spend],
      [...coffee, { sku: 'TEA', quantity: 1, unitPrice: 1000 }],
    );
    expect(discounts(onTea)).toEqual({
      1: [['EXCL-5', 50]],
      2: [
        ['BEST-20', 200],
        ['SPEND', 50],
      ],
    });
  });

  it('an exclusive threshold is measured on full amounts and keeps its lines to itself', () => {
    const exclusiveSpend = promotion({
      promotionId: 'SPEND-EXCL',
      concurrency: 'exclusive',
      rule: { kind: 'threshold', spend: 1500, amountOff: 300 },
      items: { skus: ['COFFEE', 'TEA'] },
    });
    const priced = price(
      [exclusiveSpend, percent('BEST-50', 50, { items: { skus: ['COFFEE', 'TEA', 'MILK'] } })],
      [...coffee, { sku: 'TEA', quantity: 1, unitPrice: 500 }, { sku: 'MILK', quantity: 1, unitPrice: 100 }],
    );
    // 300 over 1000 and 500: 200 and 100. Milk, not covered by the threshold, still gets its 50%.
    expect(discounts(priced)).toEqual({
      1: [['SPEND-EXCL', 200]],
      2: [['SPEND-EXCL', 100]],
      3: [['BEST-50', 50]],
    });
  });

  it('between exclusive promotions, priority first, then the bigger discount', () => {
    const small = percent('EXCL-SMALL', 5, { concurrency: 'exclusive', priority: 5 });
    const large = percent('EXCL-LARGE', 30, { concurrency: 'exclusive' });
    expect(discounts(price([small, large], coffee))).toEqual({ 1: [['EXCL-SMALL', 50]] });
    const largeSamePriority = percent('EXCL-LARGE', 30, { concurrency: 'exclusive', priority: 5 });
    expect(discounts(price([small, largeSamePriority], coffee))).toEqual({ 1: [['EXCL-LARGE', 300]] });
  });

  it('best-price promotions compete: the customer gets the best one only', () => {
    expect(discounts(price([percent('A-10', 10), percent('B-15', 15), percent('C-12', 12)], coffee))).toEqual(
      {
        1: [['B-15', 150]],
      },
    );
    // Of two rule kinds, too: 3 for 2 on three units at 1000 (1000 off) beats 25% (750).
    const threeForTwo = promotion({ promotionId: 'X-3FOR2', rule: { kind: 'buy-x-get-y', buy: 2, get: 1 } });
    expect(
      discounts(price([percent('A-25', 25), threeForTwo], [{ sku: 'COFFEE', quantity: 3, unitPrice: 1000 }])),
    ).toEqual({ 1: [['X-3FOR2', 1000]] });
  });

  it('compounded promotions combine, each on what the one before left, in promotionId order', () => {
    const ten = percent('C-10', 10, { concurrency: 'compounded' });
    const twenty = percent('C-20', 20, { concurrency: 'compounded' });
    // 10% of 1000 = 100, then 20% of 900 = 180.
    expect(discounts(price([twenty, ten], coffee))).toEqual({
      1: [
        ['C-10', 100],
        ['C-20', 180],
      ],
    });
  });

  it('compounded promotions together compete with a best-price one', () => {
    const tenA = percent('C-10A', 10, { concurrency: 'compounded' });
    const tenB = percent('C-10B', 10, { concurrency: 'compounded' });
    // Together 100 + 90 = 190: they beat 15% (150) and lose to 20% (200).
    expect(discounts(price([tenA, tenB, percent('B-15', 15)], coffee))).toEqual({
      1: [
        ['C-10A', 100],
        ['C-10B', 90],
      ],
    });
    expect(discounts(price([tenA, tenB, percent('B-20', 20)], coffee))).toEqual({ 1: [['B-20', 200]] });
  });

  it('a compounded promotion on other lines still applies when a best-price one wins its line', () => {
    const best = percent('B-20', 20);
    const onTea = percent('C-10', 10, { concurrency: 'compounded', items: { skus: ['TEA'] } });
    const compoundedOnCoffee = percent('C-05', 5, { concurrency: 'compounded' });
    const priced = price(
      [best, onTea, compoundedOnCoffee],
      [...coffee, { sku: 'TEA', quantity: 1, unitPrice: 500 }],
    );
    expect(discounts(priced)).toEqual({ 1: [['B-20', 200]], 2: [['C-10', 50]] });
  });

  it('a higher priority picks first: a line it takes is closed to lower priorities', () => {
    const highSmall = percent('HIGH-5', 5, { priority: 10 });
    const lowBig = percent('LOW-30', 30, { items: { skus: ['COFFEE', 'TEA'] } });
    const priced = price([highSmall, lowBig], [...coffee, { sku: 'TEA', quantity: 1, unitPrice: 1000 }]);
    expect(discounts(priced)).toEqual({ 1: [['HIGH-5', 50]], 2: [['LOW-30', 300]] });
    // Compounded promotions combine only within a priority.
    const highCompounded = percent('HIGH-C', 10, { priority: 10, concurrency: 'compounded' });
    const lowCompounded = percent('LOW-C', 10, { concurrency: 'compounded' });
    expect(discounts(price([highCompounded, lowCompounded], coffee))).toEqual({ 1: [['HIGH-C', 100]] });
  });

  it('threshold promotions come after line promotions, on what is left to pay', () => {
    const spend = promotion({
      promotionId: 'SPEND50',
      rule: { kind: 'threshold', spend: 5000, amountOff: 500 },
      items: { all: true },
    });
    const lines = [
      { sku: 'COFFEE', quantity: 1, unitPrice: 3000 },
      { sku: 'TEA', quantity: 1, unitPrice: 2500 },
    ];
    // 10% off coffee leaves 2700 + 2500 = 5200: still over 5000. 500 × 2700/5200 = 259.6, × 2500/5200 = 240.4.
    expect(discounts(price([spend, percent('A-10', 10)], lines))).toEqual({
      1: [
        ['A-10', 300],
        ['SPEND50', 260],
      ],
      2: [['SPEND50', 240]],
    });
    // 20% off coffee leaves 2400 + 2500 = 4900: the threshold is no longer reached.
    expect(discounts(price([spend, percent('A-20', 20)], lines))).toEqual({ 1: [['A-20', 600]], 2: [] });
  });

  it('threshold promotions compete or combine among themselves like line promotions', () => {
    const lines = [{ sku: 'COFFEE', quantity: 1, unitPrice: 10_000 }];
    const flat = (id: string, concurrency: string, amountOff: number) =>
      promotion({
        promotionId: id,
        concurrency,
        rule: { kind: 'threshold', spend: 5000, amountOff },
        items: { all: true },
      });
    expect(
      discounts(price([flat('T-300', 'best-price', 300), flat('T-500', 'best-price', 500)], lines)),
    ).toEqual({
      1: [['T-500', 500]],
    });
    // Compounded: the second is measured on what the first left (9700 ≥ 5000).
    expect(
      discounts(price([flat('T-300', 'compounded', 300), flat('T-500', 'compounded', 500)], lines)),
    ).toEqual({
      1: [
        ['T-300', 300],
        ['T-500', 500],
      ],
    });
  });
});

describe('basket pricing: what a promotion applies to', () => {
  it('honours categories and exclusions', () => {
    const coffeeAisle = percent('AISLE', 10, {
      items: { categories: ['coffee'] },
      exclusions: { skus: ['COFFEE-LUXE'] },
    });
    const priced = price(
      [coffeeAisle],
      [
        { sku: 'COFFEE', category: 'coffee', quantity: 1, unitPrice: 1000 },
        { sku: 'COFFEE-LUXE', category: 'coffee', quantity: 1, unitPrice: 2000 },
        { sku: 'TEA', category: 'tea', quantity: 1, unitPrice: 1000 },
      ],
    );
    expect(discounts(priced)).toEqual({ 1: [['AISLE', 100]], 2: [], 3: [] });
  });

  it('never prices a basket in another currency with an amount of money; a percentage fits any currency', () => {
    const off = promotion({ promotionId: 'EUR-OFF', rule: { kind: 'amount-off', amount: 100 } });
    const { currency: _none, ...anyCurrency } = percent('ANY-10', 10, { concurrency: 'compounded' });
    const lines = [{ sku: 'COFFEE', quantity: 1, unitPrice: 1000 }];
    expect(discounts(price([off, anyCurrency], lines, 'GBP'))).toEqual({ 1: [['ANY-10', 100]] });
  });

  it('applies a promotion with a minimum basket only when the gross reaches it', () => {
    const min = percent('MIN', 10, { minimumBasket: 2000 });
    expect(price([min], [{ sku: 'COFFEE', quantity: 1, unitPrice: 1999 }]).totals.discount).toBe(0);
    expect(price([min], [{ sku: 'COFFEE', quantity: 2, unitPrice: 1000 }]).totals.discount).toBe(200);
  });

  it('uses the latest version of a promotion when given several', () => {
    const v1 = percent('P', 10);
    const v2 = percent('P', 20, { version: 2 });
    expect(price([v2, v1], [{ sku: 'COFFEE', quantity: 1, unitPrice: 1000 }]).promotions[0]).toMatchObject({
      version: 2,
      amount: 200,
    });
  });
});

describe('basket pricing: the answer is a transaction in the making', () => {
  const catalogue = [
    percent('A-10', 10, { items: { categories: ['coffee'] } }),
    promotion({
      promotionId: 'B-3FOR2',
      rule: { kind: 'buy-x-get-y', buy: 2, get: 1 },
      items: { skus: ['PASTA'] },
    }),
    promotion({
      promotionId: 'C-SPEND',
      rule: { kind: 'threshold', spend: 2000, amountOff: 333 },
      items: { all: true },
      concurrency: 'compounded',
    }),
  ];
  const lines: LineInput[] = [
    { lineNo: 1, sku: 'COFFEE', category: 'coffee', quantity: 2, unitPrice: 799 },
    { lineNo: 2, sku: 'PASTA', quantity: 3, unitPrice: 129 },
    { lineNo: 3, sku: 'APPLES-KG', quantity: 1.235, unitPrice: 299 },
    { lineNo: 4, sku: 'PASTA', quantity: 1, unitPrice: 129 },
  ];

  it('is accepted by the transaction schema, arithmetic included', () => {
    const priced = price(catalogue, lines);
    expect(transactionSchema.safeParse(asSale(priced)).error?.issues ?? []).toEqual([]);
    expect(priced.totals.discount).toBe(priced.promotions.reduce((sum, p) => sum + p.amount, 0));
  });

  it('does not depend on the order of the lines', () => {
    const forward = price(catalogue, lines);
    expect(price(catalogue, [...lines].reverse())).toEqual(forward);
    expect(price(catalogue, [lines[2], lines[0], lines[3], lines[1]] as LineInput[])).toEqual(forward);
  });

  it('numbers lines by their position when the basket gives no line numbers', () => {
    const priced = price(
      catalogue,
      lines.map(({ lineNo: _n, ...line }) => line),
    );
    expect(priced.lines.map((l) => [l.lineNo, l.sku])).toEqual([
      [1, 'COFFEE'],
      [2, 'PASTA'],
      [3, 'APPLES-KG'],
      [4, 'PASTA'],
    ]);
  });
});

describe('basket pricing at an instant', () => {
  it('prices with what is in force at that instant in the store zone, across a cached boundary', () => {
    const pricer = createBasketPricer({ storeId: 'S042', timeZone: 'Europe/Paris' });
    const weekend = percent('WEEKEND', 10, {
      validity: {
        from: '2026-03-01T00:00',
        until: '2026-04-30T23:59',
        weekly: [{ from: { day: 'saturday', time: '00:00' }, until: { day: 'sunday', time: '23:59' } }],
      },
    });
    const staged = percent('STAGED', 50, { state: 'staged' });
    const catalogue = [weekend, staged];
    const basket = basketSchema.parse({
      currency: 'EUR',
      lines: [{ sku: 'COFFEE', quantity: 1, unitPrice: 1000 }],
    });
    const discountAt = (at: string) => pricer.price(catalogue, basket, Date.parse(at)).totals.discount;
    // Friday 23:59:59 CET, then Saturday 00:00 CET, then Monday 00:00 CEST (after the clocks went forward).
    expect(discountAt('2026-03-27T22:59:59Z')).toBe(0);
    expect(discountAt('2026-03-27T23:00:00Z')).toBe(100);
    expect(discountAt('2026-03-29T21:59:59Z')).toBe(100);
    expect(discountAt('2026-03-29T22:00:00Z')).toBe(0);
    // Back in time, and a new catalogue: both are priced afresh.
    expect(discountAt('2026-03-28T10:00:00Z')).toBe(100);
    const withdrawn = [percent('WEEKEND', 10, { version: 2, state: 'withdrawn' }), staged];
    expect(pricer.price(withdrawn, basket, Date.parse('2026-03-28T10:00:00Z')).totals.discount).toBe(0);
  });
});
