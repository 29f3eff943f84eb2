import { describe, expect, it } from 'vitest';
import type { PricedBasket } from '../../src/contracts/promotion.js';
import { transactionSchema, type Transaction } from '../../src/contracts/transaction.js';
import { createBasketPricer } from '../../src/promotions/index.js';
import {
  createBasketGenerator,
  type BasketGeneratorOptions,
  type PlannedBasket,
  type PlannedSubmission,
} from '../../src/simulate/index.js';
import { promotion } from '../support/promotion-documents.js';

/**
 * Simulated tills that ask the agent to price each sale: the basket they ask about, and the sale they
 * ring up with the answer. The agent's answer is played here by the pure pricer it uses.
 */

const START = Date.UTC(2026, 5, 15, 8, 0, 0);
const store = { storeId: 'S1', timeZone: 'Europe/Paris' };
const catalogue = [
  promotion({ promotionId: 'DAIRY-10', items: { categories: ['dairy'] } }),
  promotion({
    promotionId: 'PASTA-3FOR2',
    rule: { kind: 'buy-x-get-y', buy: 2, get: 1 },
    items: { categories: ['pasta'] },
  }),
  promotion({
    promotionId: 'SPEND-40',
    rule: { kind: 'threshold', spend: 4000, amountOff: 400 },
    items: { all: true },
  }),
];

type Pricing = (planned: PlannedBasket) => PricedBasket | null;
const agentPricing: Pricing = (planned) =>
  createBasketPricer(store).price(catalogue, planned.basket, Date.parse(planned.basket.at!));

function run(count: number, pricing: Pricing, options: Partial<BasketGeneratorOptions> = {}) {
  const generator = createBasketGenerator({
    seed: 5,
    runId: 'run-pricing',
    tills: [{ terminalId: 'T1' }, { terminalId: 'T2' }],
    currency: 'EUR',
    utcOffsetMinutes: 120,
    ...options,
  });
  const out: { submission: PlannedSubmission; basket?: PlannedBasket; priced?: PricedBasket | null }[] = [];
  for (let i = 0; i < count; i++) {
    const next = generator.nextForPricing(i % 2, START + i * 1000);
    let submission: PlannedSubmission;
    if (next.kind === 'basket') {
      const priced = pricing(next);
      submission = next.complete(priced);
      out.push({ submission, basket: next, priced });
    } else {
      submission = next;
      out.push({ submission });
    }
    generator.accepted(submission);
  }
  return out;
}

const promotionIds = (tx: Transaction) =>
  tx.lines.flatMap((l) => l.discounts.flatMap((d) => (d.promotionId === undefined ? [] : [d.promotionId])));

describe('simulated tills pricing through the agent', () => {
  it('ask about every new sale and ring it up with exactly the discounts answered, a valid sale every time', () => {
    const results = run(1500, agentPricing);
    const priced = results.filter((r) => r.basket);
    expect(priced.length).toBeGreaterThan(1000);
    for (const { submission, basket, priced: answer } of priced) {
      const tx = transactionSchema.parse(JSON.parse(submission.bodyText));
      expect(tx.type).toBe('sale');
      expect(basket!.basket.at).toBe(tx.occurredAt);
      expect(basket!.basket.lines.map((l) => [l.lineNo, l.sku, l.quantity, l.unitPrice])).toEqual(
        tx.lines.map((l) => [l.lineNo, l.sku, l.quantity, l.unitPrice]),
      );
      // The promotions' discounts are the agent's, line by line; a markdown may follow them.
      tx.lines.forEach((line, i) => {
        const answered = answer!.lines.find((l) => l.lineNo === line.lineNo)!.discounts;
        expect(line.discounts.slice(0, answered.length)).toEqual(answered);
        expect(line.discounts.slice(answered.length).every((d) => d.promotionId === undefined)).toBe(true);
        expect(i + 1).toBe(line.lineNo);
      });
    }
    const ids = new Set(
      priced.flatMap((r) => promotionIds(JSON.parse(r.submission.bodyText) as Transaction)),
    );
    expect([...ids].sort()).toEqual(['DAIRY-10', 'PASTA-3FOR2', 'SPEND-40']);
    // Returns of such sales refund their promotions pro rata, under the same ids.
    const returns = results.map((r) => r.submission.transaction).filter((tx) => tx.type === 'return');
    expect(returns.some((tx) => promotionIds(tx).length > 0)).toBe(true);
    for (const tx of returns) expect(transactionSchema.safeParse(tx).success).toBe(true);
  });

  it('sell at shelf prices when the agent cannot price (no answer, or an answer about other lines)', () => {
    const none = run(300, () => null);
    const wrong = run(300, (planned) => {
      const answer = agentPricing(planned)!;
      return { ...answer, lines: answer.lines.map((l) => ({ ...l, quantity: l.quantity + 1 })) };
    });
    for (const { submission } of [...none, ...wrong]) {
      const tx = transactionSchema.parse(JSON.parse(submission.bodyText));
      if (tx.type === 'sale') expect(promotionIds(tx)).toEqual([]);
    }
  });

  it('are deterministic for a seed and an answer, and complete a basket once', () => {
    const bodies = () => run(200, agentPricing).map((r) => r.submission.bodyText);
    expect(bodies()).toEqual(bodies());
    const generator = createBasketGenerator({
      seed: 1,
      runId: 'r',
      tills: [{ terminalId: 'T1' }],
      currency: 'EUR',
    });
    const next = generator.nextForPricing(0, START);
    if (next.kind !== 'basket') throw new Error('the first plan is a new sale');
    next.complete(null);
    expect(() => next.complete(null)).toThrow(/once/);
  });
});
