import { promotionDocumentSchema, type PromotionDocument } from '../../src/contracts/promotion.js';

/**
 * Small, valid promotion documents. A test starts from `promotion()` and overrides the fields its case is
 * about, so each document differs from a known-good one by what the test names.
 */
export function promotionDraft(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    promotionId: 'PROMO-1',
    version: 1,
    name: 'Ten percent off coffee',
    state: 'active',
    currency: 'EUR',
    target: { all: true },
    validity: { from: '2026-01-01T00:00:00+01:00', until: '2027-01-01T00:00:00+01:00' },
    rule: { kind: 'percent-off', percent: 10 },
    items: { skus: ['COFFEE'] },
    concurrency: 'best-price',
    ...overrides,
  };
}

/** A parsed document: throws (with every issue) if the overrides make it invalid. */
export function promotion(overrides: Record<string, unknown> = {}): PromotionDocument {
  return promotionDocumentSchema.parse(promotionDraft(overrides));
}
