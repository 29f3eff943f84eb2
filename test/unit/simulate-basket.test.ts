import { describe, expect, it } from 'vitest';
import { transactionSchema, type Transaction } from '../../src/contracts/transaction.js';
import {
  createBasketGenerator,
  includedTax,
  localTime,
  type BasketGeneratorOptions,
  type PlannedSubmission,
} from '../../src/simulate/index.js';

const START = Date.UTC(2026, 10, 23, 8, 0, 0);

/** Drives a generator as a perfect agent would: every submission is stored, tills take turns, time moves on. */
function generate(count: number, options: Partial<BasketGeneratorOptions> = {}): PlannedSubmission[] {
  const generator = createBasketGenerator({
    seed: 1,
    runId: 'run-test',
    tills: [{ terminalId: 'T1' }, { terminalId: 'T2' }, { terminalId: 'T3' }, { terminalId: 'T4' }],
    currency: 'EUR',
    utcOffsetMinutes: 60,
    ...options,
  });
  const tills = (options.tills ?? [0, 0, 0, 0]).length;
  const out: PlannedSubmission[] = [];
  for (let i = 0; i < count; i += 1) {
    const submission = generator.next(i % tills, START + i * 1500);
    generator.accepted(submission);
    out.push(submission);
  }
  return out;
}

const key = (ref: { terminalId: string; transactionId: string }) => `${ref.terminalId}/${ref.transactionId}`;

describe('simulated baskets', () => {
  it.each([1, 42, 20261123])(
    'are valid canonical transactions whose arithmetic adds up (seed %i)',
    (seed) => {
      const submissions = generate(4000, { seed });
      for (const { bodyText } of submissions) {
        const parsed = transactionSchema.safeParse(JSON.parse(bodyText));
        if (!parsed.success) {
          throw new Error(`${bodyText}\n${JSON.stringify(parsed.error.issues, null, 2)}`);
        }
      }
    },
  );

  it('contain the whole mix a store sees: sales, returns, voids, weighed goods, promotions, split tenders', () => {
    const txs = generate(5000)
      .filter((s) => s.kind === 'new')
      .map((s) => s.transaction);
    const byType = (type: Transaction['type']) => txs.filter((t) => t.type === type).length;
    const lines = txs.flatMap((t) => t.lines);
    const discounts = lines.flatMap((l) => l.discounts);
    const sales = txs.filter((t) => t.type === 'sale');
    const sizes = sales.map((t) => t.lines.length);
    const methods = new Set(txs.flatMap((t) => t.tenders.map((tender) => tender.method)));

    expect(byType('sale')).toBeGreaterThan(0.85 * txs.length);
    expect(byType('return')).toBeGreaterThan(0.02 * txs.length);
    expect(byType('void')).toBeGreaterThan(0.005 * txs.length);
    expect(lines.some((l) => !Number.isInteger(l.quantity))).toBe(true);
    expect(lines.some((l) => Math.round(l.quantity * 1000) % 10 !== 0)).toBe(true); // a real third decimal
    expect(discounts.some((d) => d.promotionId !== undefined)).toBe(true);
    expect(discounts.some((d) => d.promotionId === undefined && d.reason !== undefined)).toBe(true);
    expect(new Set(lines.flatMap((l) => l.taxes.map((t) => t.rate)))).toEqual(new Set([0.19, 0.07, 0]));
    expect(sales.some((t) => t.tenders.length > 1)).toBe(true);
    expect([...methods]).toEqual(expect.arrayContaining(['card', 'cash', 'voucher']));
    expect(Math.min(...sizes)).toBe(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(30);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(20);
    // Skewed small: most baskets are a few items.
    const sorted = [...sizes].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThanOrEqual(6);
    expect(txs.every((t) => t.taxIncluded)).toBe(true);
  });

  it('refer only to earlier stored sales, each at most once: returns from any till, voids from the same terminal', () => {
    const stored = new Map<string, Transaction>();
    const referenced = new Set<string>();
    let returns = 0;
    let voids = 0;
    for (const { kind, transaction: tx } of generate(5000, { seed: 9 })) {
      if (kind === 'retry') continue;
      if (tx.type === 'return') {
        returns += 1;
        const original = stored.get(key(tx.original));
        expect(original?.type).toBe('sale');
        expect(tx.original.businessDay).toBe(original!.businessDay);
        for (const line of tx.lines) {
          // The same SKU may have been rung up on two lines (two bags of bananas): any of them will do.
          const sold = original!.lines.filter((l) => l.sku === line.sku && l.unitPrice === line.unitPrice);
          expect(sold.some((l) => line.quantity <= l.quantity)).toBe(true);
        }
        expect(referenced.has(key(tx.original))).toBe(false);
        referenced.add(key(tx.original));
      }
      if (tx.type === 'void') {
        voids += 1;
        expect(stored.get(key(tx.voids))?.type).toBe('sale');
        expect(tx.voids.terminalId).toBe(tx.terminalId);
        expect(tx.lines).toEqual([]);
        expect(tx.tenders).toEqual([]);
        expect(tx.totals).toEqual({ gross: 0, discount: 0, tax: 0, total: 0 });
        expect(referenced.has(key(tx.voids))).toBe(false);
        referenced.add(key(tx.voids));
      }
      stored.set(key(tx), tx);
    }
    expect(returns).toBeGreaterThan(0);
    expect(voids).toBeGreaterThan(0);
  });

  it('never refer to, or retry, anything the agent has not stored', () => {
    const generator = createBasketGenerator({
      seed: 3,
      runId: 'run-x',
      tills: [{ terminalId: 'T1' }],
      currency: 'EUR',
      retryProbability: 1,
      returnProbability: 1,
      voidProbability: 1,
    });
    for (let i = 0; i < 200; i += 1) {
      const s = generator.next(0, START + i);
      expect(s.kind).toBe('new');
      expect(s.transaction.type).toBe('sale');
    }
  });

  it('retry the exact body of an earlier stored transaction of the same terminal, about as often as asked', () => {
    const submissions = generate(5000, { seed: 11, retryProbability: 0.03 });
    const sent = new Map<string, string>();
    let retries = 0;
    for (const s of submissions) {
      const k = key(s.transaction);
      if (s.kind === 'retry') {
        retries += 1;
        expect(sent.get(k)).toBe(s.bodyText);
        expect(s.transaction.terminalId).toBe(['T1', 'T2', 'T3', 'T4'][s.till]);
      } else {
        expect(sent.has(k)).toBe(false);
        sent.set(k, s.bodyText);
      }
    }
    expect(retries / submissions.length).toBeGreaterThan(0.015);
    expect(retries / submissions.length).toBeLessThan(0.05);
    expect(generate(2000, { retryProbability: 0 }).some((s) => s.kind === 'retry')).toBe(false);
  });

  it('keep transactionIds unique per terminal even when tills share a terminal identity', () => {
    const tills = [{ terminalId: 'T1' }, { terminalId: 'T1' }, { terminalId: 'T1' }, { terminalId: 'T2' }];
    const ids = generate(3000, { tills, retryProbability: 0 }).map((s) => key(s.transaction));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id.includes('/run-test-T'))).toBe(true);
  });

  it('repeat the same traffic for the same seed, and differ for another', () => {
    const a = generate(800, { seed: 7 }).map((s) => s.bodyText);
    const b = generate(800, { seed: 7 }).map((s) => s.bodyText);
    const c = generate(800, { seed: 8 }).map((s) => s.bodyText);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('give each run its own transactionIds, so a second run against the same agent never collides', () => {
    const first = generate(200, { seed: 7, runId: 'sim-aaaa' });
    const second = generate(200, { seed: 7, runId: 'sim-bbbb' });
    expect(second.map((s) => s.transaction.transactionId)).not.toContain(first[0]!.transaction.transactionId);
    // Same seed: the baskets themselves are the same, only the run id differs.
    const strip = (s: PlannedSubmission) => s.bodyText.replaceAll(/sim-(aaaa|bbbb)/g, 'sim-x');
    expect(second.map(strip)).toEqual(first.map(strip));
  });

  it('reject options that cannot make valid traffic', () => {
    const base = { seed: 1, runId: 'r1', tills: [{ terminalId: 'T1' }], currency: 'EUR' };
    expect(() => createBasketGenerator({ ...base, runId: '-bad' })).toThrow(/runId/);
    expect(() => createBasketGenerator({ ...base, runId: 'x'.repeat(41) })).toThrow(/runId/);
    expect(() => createBasketGenerator({ ...base, tills: [] })).toThrow(/till/);
    expect(() => createBasketGenerator({ ...base, retryProbability: 1.5 })).toThrow(/retryProbability/);
  });
});

describe('simulated till arithmetic', () => {
  it('computes the tax inside a tax-inclusive amount in whole minor units, rounding half up', () => {
    expect(includedTax(119, 1900)).toBe(19);
    expect(includedTax(107, 700)).toBe(7);
    expect(includedTax(240, 1900)).toBe(38); // 38.32
    expect(includedTax(369, 700)).toBe(24); // 24.14
    expect(includedTax(1000, 0)).toBe(0);
    expect(includedTax(0, 1900)).toBe(0);
  });

  it('stamps the store offset on occurredAt and takes the business day from local time', () => {
    expect(localTime(Date.UTC(2026, 10, 23, 23, 30), 60)).toEqual({
      businessDay: '2026-11-24',
      occurredAt: '2026-11-24T00:30:00.000+01:00',
    });
    expect(localTime(Date.UTC(2026, 10, 23, 2, 15), -300)).toEqual({
      businessDay: '2026-11-22',
      occurredAt: '2026-11-22T21:15:00.000-05:00',
    });
  });
});
