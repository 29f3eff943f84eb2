import { describe, expect, it } from 'vitest';
import {
  basketSchema,
  catalogueStatementSchema,
  ianaTimeZone,
  promotionDocumentSchema,
  signedPromotionSchema,
} from '../../src/contracts/promotion.js';
import { promotionDraft } from '../support/promotion-documents.js';

/** The issues a document raises, as `path: message` with the path dotted. */
function issuesOf(document: unknown): string[] {
  const parsed = promotionDocumentSchema.safeParse(document);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

const pathsOf = (document: unknown) => issuesOf(document).map((issue) => issue.split(':')[0]);

const weekend = {
  from: '2026-03-01T00:00',
  until: '2026-10-31T23:59',
  weekly: [{ from: { day: 'saturday', time: '00:00' }, until: { day: 'sunday', time: '23:59' } }],
};

describe('promotion document: valid documents', () => {
  it('accepts one document of each rule kind', () => {
    const rules = [
      { kind: 'percent-off', percent: 12.5 },
      { kind: 'amount-off', amount: 50 },
      { kind: 'fixed-price', price: 99 },
      { kind: 'buy-x-get-y', buy: 2, get: 1 },
      { kind: 'buy-x-get-y', buy: 1, get: 1, percent: 50 },
      { kind: 'bundle-price', quantity: 3, price: 1000 },
      { kind: 'threshold', spend: 5000, amountOff: 500 },
      { kind: 'threshold', spend: 5000, percentOff: 5 },
    ];
    for (const rule of rules) expect(issuesOf(promotionDraft({ rule })), rule.kind).toEqual([]);
  });

  it('accepts store-local windows, weekly windows, a zone of its own, targets and exclusions', () => {
    expect(
      issuesOf(
        promotionDraft({
          validity: { ...weekend, timeZone: 'Europe/Paris' },
          target: { regions: ['north'], storeIds: ['S042'] },
          items: { categories: ['coffee'], skus: ['TEA-1'] },
          exclusions: { skus: ['COFFEE-PREMIUM'] },
          priority: 10,
          minimumBasket: 2000,
          state: 'staged',
        }),
      ),
    ).toEqual([]);
  });

  it('parses to exactly the document given, so a signature over it stays valid', () => {
    const draft = promotionDraft({ validity: weekend });
    expect(promotionDocumentSchema.parse(draft)).toEqual(draft);
  });

  it('lets a percent-only promotion leave out the currency (it prices any currency)', () => {
    const { currency: _omitted, ...draft } = promotionDraft();
    expect(issuesOf(draft)).toEqual([]);
  });
});

describe('promotion document: nonsense is rejected with the path of the field', () => {
  it('rejects a window that ends before it starts, for instants and for store-local times', () => {
    expect(
      issuesOf(
        promotionDraft({
          validity: { from: '2026-05-02T00:00:00+02:00', until: '2026-05-01T00:00:00+02:00' },
        }),
      ),
    ).toEqual([expect.stringMatching(/^validity\.until: the window ends .* before it starts/)]);
    expect(
      pathsOf(promotionDraft({ validity: { from: '2026-05-02T00:00', until: '2026-05-01T23:59' } })),
    ).toEqual(['validity.until']);
    // An instant window needs some length; a store-local window of one minute is a minute long.
    expect(
      pathsOf(promotionDraft({ validity: { from: '2026-05-02T00:00:00Z', until: '2026-05-02T00:00:00Z' } })),
    ).toEqual(['validity.until']);
    expect(
      issuesOf(promotionDraft({ validity: { from: '2026-05-02T00:00', until: '2026-05-02T00:00' } })),
    ).toEqual([]);
  });

  it('rejects mixed kinds of bound, unreal dates, times without an offset and offsets for zones', () => {
    expect(
      pathsOf(promotionDraft({ validity: { from: '2026-05-02T00:00', until: '2026-05-03T00:00:00Z' } })),
    ).toEqual(['validity.until']);
    expect(
      pathsOf(promotionDraft({ validity: { from: '2026-02-30T00:00', until: '2026-03-03T00:00' } })),
    ).toEqual(['validity.from']);
    expect(
      pathsOf(promotionDraft({ validity: { from: '2026-02-03T24:00', until: '2026-03-03T00:00' } })),
    ).toEqual(['validity.from']);
    expect(pathsOf(promotionDraft({ validity: { from: '2026-02-03', until: '2026-03-03T00:00' } }))).toEqual([
      'validity.from',
    ]);
    // Date.parse would read 30 February as 2 March; the schema does not.
    expect(
      pathsOf(promotionDraft({ validity: { from: '2026-02-30T00:00:00Z', until: '2026-03-03T00:00:00Z' } })),
    ).toEqual(['validity.from']);
    expect(
      pathsOf(
        promotionDraft({ validity: { from: '2026-02-03T24:00:00+01:00', until: '2026-03-03T00:00:00Z' } }),
      ),
    ).toEqual(['validity.from']);
  });

  it('rejects an unknown time zone and a fixed offset in place of a zone', () => {
    expect(issuesOf(promotionDraft({ validity: { ...weekend, timeZone: 'Mars/Olympus_Mons' } }))).toEqual([
      'validity.timeZone: unknown time zone "Mars/Olympus_Mons"',
    ]);
    expect(pathsOf(promotionDraft({ validity: { ...weekend, timeZone: '+01:00' } }))).toEqual([
      'validity.timeZone',
    ]);
    expect(ianaTimeZone.safeParse('Europe/Paris').success).toBe(true);
    expect(ianaTimeZone.safeParse('Europe/Pariss').success).toBe(false);
  });

  it('rejects a time zone on a validity that has no store-local time to read in it', () => {
    expect(
      pathsOf(
        promotionDraft({
          validity: { from: '2026-05-01T00:00:00Z', until: '2026-05-03T00:00:00Z', timeZone: 'Europe/Paris' },
        }),
      ),
    ).toEqual(['validity.timeZone']);
  });

  it('rejects bad weekly windows by the field', () => {
    const bad = {
      ...weekend,
      weekly: [{ from: { day: 'saturday', time: '24:00' }, until: { day: 'caturday', time: '23:59' } }],
    };
    expect(pathsOf(promotionDraft({ validity: bad }))).toEqual([
      'validity.weekly.0.from.time',
      'validity.weekly.0.until.day',
    ]);
    expect(pathsOf(promotionDraft({ validity: { ...weekend, weekly: [] } }))).toEqual(['validity.weekly']);
  });

  it('rejects a percentage outside 0–100 or with more than 2 decimals', () => {
    expect(pathsOf(promotionDraft({ rule: { kind: 'percent-off', percent: 101 } }))).toEqual([
      'rule.percent',
    ]);
    expect(pathsOf(promotionDraft({ rule: { kind: 'percent-off', percent: -5 } }))).toEqual(['rule.percent']);
    expect(pathsOf(promotionDraft({ rule: { kind: 'percent-off', percent: 0 } }))).toEqual(['rule.percent']);
    expect(pathsOf(promotionDraft({ rule: { kind: 'percent-off', percent: 12.345 } }))).toEqual([
      'rule.percent',
    ]);
    expect(pathsOf(promotionDraft({ rule: { kind: 'threshold', spend: 100, percentOff: 150 } }))).toEqual([
      'rule.percentOff',
    ]);
    expect(
      pathsOf(promotionDraft({ rule: { kind: 'buy-x-get-y', buy: 1, get: 1, percent: 100.5 } })),
    ).toEqual(['rule.percent']);
  });

  it('rejects money that is not whole minor units', () => {
    expect(issuesOf(promotionDraft({ rule: { kind: 'amount-off', amount: 1.5 } }))).toEqual([
      'rule.amount: must be a whole number of minor units (e.g. 1999 for 19.99), not a fraction',
    ]);
    expect(pathsOf(promotionDraft({ rule: { kind: 'fixed-price', price: 2.99 } }))).toEqual(['rule.price']);
    expect(pathsOf(promotionDraft({ rule: { kind: 'bundle-price', quantity: 3, price: 9.99 } }))).toEqual([
      'rule.price',
    ]);
    expect(pathsOf(promotionDraft({ rule: { kind: 'threshold', spend: 50.5, amountOff: 5 } }))).toEqual([
      'rule.spend',
    ]);
    expect(pathsOf(promotionDraft({ minimumBasket: 10.01 }))).toEqual(['minimumBasket']);
    expect(pathsOf(promotionDraft({ rule: { kind: 'amount-off', amount: -100 } }))).toEqual(['rule.amount']);
  });

  it('rejects an amount of money without a currency', () => {
    const { currency: _omitted, ...draft } = promotionDraft({ rule: { kind: 'amount-off', amount: 100 } });
    expect(issuesOf(draft)).toEqual(['currency: is required: this promotion names an amount of money']);
    expect(new Set(pathsOf({ ...promotionDraft(), currency: 'EURO' }))).toEqual(new Set(['currency']));
  });

  it('rejects an empty item set, and exclusions that leave nothing', () => {
    expect(issuesOf(promotionDraft({ items: {} }))).toEqual([
      'items: the item set is empty: give skus, categories, or all: true',
    ]);
    expect(pathsOf(promotionDraft({ items: { skus: [], categories: [] } }))).toEqual(['items']);
    expect(pathsOf(promotionDraft({ items: { all: true, skus: ['A'] } }))).toEqual(['items']);
    expect(pathsOf(promotionDraft({ items: { all: false } }))).toEqual(['items.all']);
    expect(pathsOf(promotionDraft({ items: { skus: ['A'] }, exclusions: { skus: ['A'] } }))).toEqual([
      'exclusions',
    ]);
  });

  it('rejects a target that names no store', () => {
    expect(pathsOf(promotionDraft({ target: {} }))).toEqual(['target']);
    expect(pathsOf(promotionDraft({ target: { regions: [] } }))).toEqual(['target']);
    expect(pathsOf(promotionDraft({ target: { all: true, storeIds: ['S1'] } }))).toEqual(['target']);
  });

  it('rejects rule nonsense: unknown kind, both or neither threshold discount, more off than spent', () => {
    expect(pathsOf(promotionDraft({ rule: { kind: 'half-off' } }))).toEqual(['rule.kind']);
    expect(pathsOf(promotionDraft({ rule: { kind: 'threshold', spend: 100 } }))).toEqual(['rule']);
    expect(
      pathsOf(promotionDraft({ rule: { kind: 'threshold', spend: 100, amountOff: 10, percentOff: 5 } })),
    ).toEqual(['rule']);
    expect(issuesOf(promotionDraft({ rule: { kind: 'threshold', spend: 5000, amountOff: 6000 } }))).toEqual([
      'rule.amountOff: is 6000, more than the spend of 5000 that earns it',
    ]);
    expect(pathsOf(promotionDraft({ rule: { kind: 'buy-x-get-y', buy: 0, get: 1 } }))).toEqual(['rule.buy']);
    expect(pathsOf(promotionDraft({ rule: { kind: 'bundle-price', quantity: 1, price: 100 } }))).toEqual([
      'rule.quantity',
    ]);
  });

  it('rejects bad identity fields and unknown fields by name', () => {
    expect(pathsOf(promotionDraft({ version: 0 }))).toEqual(['version']);
    expect(pathsOf(promotionDraft({ version: 1.5 }))).toEqual(['version']);
    expect(pathsOf(promotionDraft({ state: 'paused' }))).toEqual(['state']);
    expect(pathsOf(promotionDraft({ concurrency: 'stacked' }))).toEqual(['concurrency']);
    expect(pathsOf(promotionDraft({ priority: -1 }))).toEqual(['priority']);
    expect(pathsOf(promotionDraft({ promotionId: 'has space' }))).toEqual(['promotionId']);
    expect(pathsOf(promotionDraft({ v: 2 }))).toEqual(['v']);
    expect(issuesOf(promotionDraft({ discount: 10 }))).toEqual([
      expect.stringMatching(/^: Unrecognized key.*discount/),
    ]);
  });
});

describe('signed envelope, catalogue statement and basket', () => {
  it('requires a signature of the Ed25519 shape beside the document', () => {
    const signature = { keyId: 'A'.repeat(22), algorithm: 'Ed25519', signature: `${'A'.repeat(86)}==` };
    expect(signedPromotionSchema.safeParse({ document: promotionDraft(), signature }).success).toBe(true);
    const rsa = signedPromotionSchema.safeParse({
      document: promotionDraft(),
      signature: { ...signature, algorithm: 'RS256' },
    });
    expect(rsa.success ? [] : rsa.error.issues.map((i) => i.path.join('.'))).toEqual(['signature.algorithm']);
  });

  it('accepts a short statement and one with versions', () => {
    const digest = 'x'.repeat(43);
    expect(catalogueStatementSchema.safeParse({ count: 0, digest }).success).toBe(true);
    expect(catalogueStatementSchema.safeParse({ count: 1, digest, versions: { P1: 3 } }).success).toBe(true);
    expect(catalogueStatementSchema.safeParse({ count: 1, digest, versions: { P1: 0 } }).success).toBe(false);
  });

  it('rejects a basket with partly numbered lines, repeated numbers or fractional prices', () => {
    const issues = (basket: unknown) => {
      const parsed = basketSchema.safeParse(basket);
      return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
    };
    const line = { sku: 'A', quantity: 1, unitPrice: 100 };
    expect(issues({ currency: 'EUR', lines: [line, { ...line, quantity: 1.25 }] })).toEqual([]);
    expect(issues({ currency: 'EUR', lines: [{ ...line, lineNo: 1 }, line] })).toEqual(['lines']);
    expect(
      issues({
        currency: 'EUR',
        lines: [
          { ...line, lineNo: 1 },
          { ...line, lineNo: 1 },
        ],
      }),
    ).toEqual(['lines.1.lineNo']);
    expect(issues({ currency: 'EUR', lines: [{ ...line, unitPrice: 1.5 }] })).toEqual(['lines.0.unitPrice']);
    expect(issues({ currency: 'EUR', lines: [{ ...line, quantity: 1.2345 }] })).toEqual(['lines.0.quantity']);
    expect(issues({ currency: 'EUR', lines: [] })).toEqual(['lines']);
  });
});
