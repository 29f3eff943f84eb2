import { describe, expect, it } from 'vitest';
import { hasAtMostThreeDecimals, lineAmount } from '../../src/contracts/money.js';
import { checkArithmetic, signedTotal, transactionSchema } from '../../src/contracts/transaction.js';
import { returnOf, sale, voidOf } from '../support/pos-payloads.js';

type Json = Record<string, unknown>;

/** The issues a document raises, as `path: message` pairs with the path dotted like the API reports it. */
function issuesOf(document: unknown): { path: string; message: string }[] {
  const parsed = transactionSchema.safeParse(document);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

const pathsOf = (document: unknown) => issuesOf(document).map((issue) => issue.path);

/** A deep copy of the known-good sale with one thing broken by `mutate`. */
function brokenSale(mutate: (tx: SaleDoc) => void): SaleDoc {
  const tx = structuredClone(sale()) as SaleDoc;
  mutate(tx);
  return tx;
}

interface LineDoc {
  lineNo: number;
  sku: string;
  quantity: number;
  unitPrice: number;
  amount: number;
  discounts: { promotionId?: string; amount: number }[];
  taxes: { code: string; rate: number; amount: number }[];
}
interface SaleDoc extends Json {
  lines: LineDoc[];
  tenders: { method: string; amount: number }[];
  totals: { gross: number; discount: number; tax: number; total: number };
  taxIncluded: boolean;
}

const original = { terminalId: 'T1', transactionId: 'sale-1', businessDay: '2026-11-23' };
const voided = { terminalId: 'T1', transactionId: 'sale-1' };

describe('transaction schema: valid documents', () => {
  it('accepts the reference sale, with a weighed line of 3 decimals and a discount', () => {
    expect(issuesOf(sale())).toEqual([]);
    const parsed = transactionSchema.parse(sale());
    expect(parsed.lines[1]?.quantity).toBe(1.235);
    expect(signedTotal(parsed)).toBe(609);
  });

  it('accepts a return that names its original, and counts it negative', () => {
    expect(issuesOf(returnOf(original))).toEqual([]);
    expect(signedTotal(transactionSchema.parse(returnOf(original)))).toBe(-120);
  });

  it('accepts a zero-total void with no lines and no tenders, and counts it 0', () => {
    expect(issuesOf(voidOf(voided))).toEqual([]);
    expect(signedTotal(transactionSchema.parse(voidOf(voided)))).toBe(0);
  });

  it('accepts a void that omits lines and tenders altogether (they default to empty)', () => {
    const { lines: _lines, tenders: _tenders, ...bare } = voidOf(voided);
    const parsed = transactionSchema.parse(bare);
    expect(parsed.lines).toEqual([]);
    expect(parsed.tenders).toEqual([]);
  });

  it('accepts a void with only the fields README asks of one: voids, and no lines, tenders or totals', () => {
    const { lines: _lines, tenders: _tenders, totals: _totals, ...bare } = voidOf(voided);
    expect(issuesOf(bare)).toEqual([]);
    expect(signedTotal(transactionSchema.parse(bare))).toBe(0);
  });

  it('accepts a void that restates the voided lines, tenders and totals when they add up', () => {
    const restated = { ...sale(), type: 'void', transactionId: 'void-9', voids: voided };
    expect(issuesOf(restated)).toEqual([]);
  });

  it('accepts a weighed line of 0.755 kg at 1.99 rounded half away from zero (1.50245 → 150)', () => {
    const tx = {
      ...sale(),
      lines: [
        {
          lineNo: 1,
          sku: 'CHEESE-KG',
          quantity: 0.755,
          unitPrice: 199,
          amount: 150,
          discounts: [],
          taxes: [],
        },
      ],
      tenders: [{ method: 'cash', amount: 150 }],
      totals: { gross: 150, discount: 0, tax: 0, total: 150 },
    };
    expect(issuesOf(tx)).toEqual([]);
  });

  it('accepts tax-excluded pricing where total = gross − discount + tax', () => {
    // 729 gross − 120 discount + 62 tax = 671
    const tx = brokenSale((t) => {
      t.taxIncluded = false;
      t.totals.total = 671;
      t.tenders = [{ method: 'card', amount: 671 }];
    });
    expect(issuesOf(tx)).toEqual([]);
  });

  it('accepts an offset of Z and a currency without minor units (JPY)', () => {
    expect(issuesOf(sale({ occurredAt: '2026-11-23T09:15:00Z', currency: 'JPY' }))).toEqual([]);
  });

  it('keeps POS extensions untouched', () => {
    const parsed = transactionSchema.parse(sale({ extensions: { loyaltyCard: '1234', points: 12 } }));
    expect(parsed.extensions).toEqual({ loyaltyCard: '1234', points: 12 });
  });
});

describe('transaction schema: every arithmetic rule names the field that disagrees', () => {
  it('reports lines.1.amount when quantity × unitPrice does not give the line amount', () => {
    const tx = brokenSale((t) => {
      t.lines[1]!.amount = 370; // 1.235 × 299 = 369.265 → 369
      t.totals.gross = 730;
      t.totals.total = 610;
      t.tenders[1]!.amount = 110;
    });
    const issues = issuesOf(tx);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toEqual({
      path: 'lines.1.amount',
      message: 'is 370 but quantity × unitPrice = 1.235 × 299 = 369',
    });
  });

  it('reports lines.0.discounts when a line’s discounts exceed its amount', () => {
    const tx = brokenSale((t) => {
      t.lines[0]!.discounts = [
        { promotionId: 'A', amount: 200 },
        { promotionId: 'B', amount: 200 },
      ]; // 400 > 360
      t.totals.discount = 400;
      t.totals.total = 329; // 729 − 400
      t.tenders = [{ method: 'cash', amount: 329 }];
    });
    expect(pathsOf(tx)).toEqual(['lines.0.discounts']);
  });

  it('reports lines.1.lineNo when a line number appears twice', () => {
    const tx = brokenSale((t) => {
      t.lines[1]!.lineNo = 1;
    });
    expect(issuesOf(tx)).toEqual([{ path: 'lines.1.lineNo', message: 'lineNo 1 appears twice' }]);
  });

  it.each([
    ['gross', { gross: 730, discount: 120, tax: 62, total: 609 }, 'the sum of line amounts = 729'],
    ['discount', { gross: 729, discount: 100, tax: 62, total: 609 }, 'the sum of line discounts = 120'],
    ['tax', { gross: 729, discount: 120, tax: 61, total: 609 }, 'the sum of line taxes = 62'],
  ] as const)('reports totals.%s alone when only that total is wrong', (field, totals, how) => {
    const issues = issuesOf(brokenSale((t) => void (t.totals = { ...totals })));
    expect(issues).toEqual([{ path: `totals.${field}`, message: expect.stringContaining(how) as string }]);
  });

  it('reports totals.total when it is not gross − discount (tax included), even if tenders match it', () => {
    const tx = brokenSale((t) => {
      t.totals.total = 610;
      t.tenders[1]!.amount = 110;
    });
    expect(issuesOf(tx)).toEqual([{ path: 'totals.total', message: 'is 610 but gross − discount = 609' }]);
  });

  it('reports totals.total when tax-excluded pricing leaves the tax out of the total', () => {
    const tx = brokenSale((t) => void (t.taxIncluded = false)); // total should be 671, says 609
    expect(issuesOf(tx)).toEqual([
      { path: 'totals.total', message: 'is 609 but gross − discount + tax = 671' },
    ]);
  });

  it('reports tenders when they do not cover the total', () => {
    const tx = brokenSale((t) => void (t.tenders[1]!.amount = 100));
    expect(issuesOf(tx)).toEqual([
      {
        path: 'tenders',
        message: 'tenders add up to 600 but totals.total is 609 (cash is given net of change)',
      },
    ]);
  });

  it('reports tenders when a zero-total void is paid', () => {
    const tx = { ...voidOf(voided), tenders: [{ method: 'cash', amount: 1 }] };
    expect(pathsOf(tx)).toEqual(['tenders']);
  });

  it('reports tenders on a return whose refund exceeds its total', () => {
    const tx = { ...returnOf(original), tenders: [{ method: 'cash', amount: 121 }] };
    expect(pathsOf(tx)).toEqual(['tenders']);
  });

  it('checkArithmetic, as a pure function, reports nothing for the reference numbers', () => {
    const tx = transactionSchema.parse(sale());
    expect(checkArithmetic(tx)).toEqual([]);
  });
});

describe('transaction schema: field rules', () => {
  it.each([
    ['v', sale({ v: 2 })],
    ['type', sale({ type: 'refund' })],
    ['currency', sale({ currency: 'eur' })],
    ['currency', sale({ currency: 'ABC' })],
    ['businessDay', sale({ businessDay: '2026-02-30' })],
    ['businessDay', sale({ businessDay: '23.11.2026' })],
    ['occurredAt', sale({ occurredAt: '2026-11-23T10:15:00' })],
    ['operatorId', sale({ operatorId: undefined })],
    ['taxIncluded', sale({ taxIncluded: 'yes' })],
    ['transactionId', sale({ transactionId: '../../etc/passwd' })],
    ['lines', sale({ lines: [], tenders: [], totals: { gross: 0, discount: 0, tax: 0, total: 0 } })],
    ['lines.0.quantity', brokenSale((t) => void (t.lines[0]!.quantity = 0))],
    ['lines.1.quantity', brokenSale((t) => void (t.lines[1]!.quantity = 1.2345))],
    ['lines.0.unitPrice', brokenSale((t) => void (t.lines[0]!.unitPrice = -120))],
    ['lines.0.unitPrice', brokenSale((t) => void (t.lines[0]!.unitPrice = 1.2))],
    ['lines.0.unitPrice', brokenSale((t) => void (t.lines[0]!.unitPrice = 1e13))],
    ['lines.0.taxes.0.rate', brokenSale((t) => void (t.lines[0]!.taxes[0]!.rate = 19))],
    ['lines.0.sku', brokenSale((t) => void (t.lines[0]!.sku = 'x'.repeat(100_000)))],
    ['tenders.0.method', brokenSale((t) => void (t.tenders[0]!.method = 'bitcoin'))],
    ['original', { ...returnOf(original), original: undefined }],
    ['voids', { ...voidOf(voided), voids: undefined }],
    ['', sale({ customer: 'Jane' })],
    ['', 'not an object'],
  ])('rejects a document with a bad %s, at that path', (path, document) => {
    expect(pathsOf(document)).toContain(path);
  });

  it('asks a void that restates lines or tenders for its totals', () => {
    const withoutTotals: Json = { ...sale(), type: 'void', voids: voided };
    delete withoutTotals.totals;
    expect(issuesOf(withoutTotals)).toEqual([
      { path: 'totals', message: 'required when lines or tenders are given' },
    ]);
  });

  it('says a negative quantity in a return must be positive, and nothing wrong about its arithmetic', () => {
    const ret = structuredClone(returnOf(original)) as unknown as SaleDoc;
    ret.lines[0]!.quantity = -1;
    expect(issuesOf(ret)).toEqual([
      {
        path: 'lines.0.quantity',
        message:
          'must be greater than zero: quantities are positive in sales and returns alike (the transaction type gives the direction)',
      },
    ]);
    // With the signs flipped throughout, every negative field is named, and no sum is claimed (a line of
    // -1 × 120 "should be" -119, as the rounding of positive amounts would have put it).
    ret.lines[0]!.amount = -120;
    ret.totals = { gross: -120, discount: 0, tax: 19, total: -120 };
    ret.tenders = [{ method: 'cash', amount: -120 }];
    const issues = issuesOf(ret);
    expect(issues.map((i) => i.path).sort()).toEqual(
      ['lines.0.amount', 'lines.0.quantity', 'tenders.0.amount', 'totals.gross', 'totals.total'].sort(),
    );
    expect(issues.map((i) => i.message).join(' ')).not.toMatch(
      /-119|quantity × unitPrice|more than the line/,
    );
  });

  it('checks the arithmetic only once every field is valid on its own', () => {
    const tx = brokenSale((t) => {
      t.lines[0]!.quantity = 0;
      t.totals.gross = 1;
    });
    expect(pathsOf(tx)).toEqual(['lines.0.quantity']);
  });

  it('names an unknown field rather than silently dropping it', () => {
    expect(issuesOf(sale({ customer: 'Jane' }))[0]?.message).toMatch(/customer/);
  });

  it('says a non-object body must be a JSON object instead of blaming its type', () => {
    for (const body of [[], null, 42, 'sale']) {
      expect(issuesOf(body)).toEqual([{ path: '', message: 'the transaction must be a JSON object' }]);
    }
  });
});

describe('lineAmount: quantity × unitPrice to the minor unit, half away from zero', () => {
  it.each([
    [3, 120, 360],
    [1.235, 299, 369], // 369.265
    [0.001, 499, 0], // 0.499
    [0.001, 500, 1], // 0.5 rounds up, away from zero
    [2.5, 1, 3], // banker's rounding would give 2
    [0.5, 3, 2], // 1.5
    [1.005, 1000, 1005], // 1.005 × 1000 is 1004.999… in floating point
    [1.005, 100, 101], // 100.5 exactly; 1.005 × 100 in floating point is 100.4999…, which would round to 100
    [0.145, 100, 15], // 14.5 exactly; 14.4999… in floating point
    [0.285, 10, 3], // 2.85
    [12345.5, 987654321, 12193086419906], // …905.5, and the product in thousandths exceeds 2^53
    [12345.678, 987654321, 12193262222375], // …374.638
  ])('%d × %d = %d', (quantity, unitPrice, expected) => {
    expect(lineAmount(quantity, unitPrice)).toBe(expected);
  });

  it('allows at most three decimals of quantity, tolerating binary floating point', () => {
    expect(hasAtMostThreeDecimals(1.235)).toBe(true);
    expect(hasAtMostThreeDecimals(0.1 + 0.2)).toBe(true);
    expect(hasAtMostThreeDecimals(1.2345)).toBe(false);
    expect(hasAtMostThreeDecimals(0.0005)).toBe(false);
  });
});
