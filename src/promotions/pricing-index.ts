import type { ConcurrencyMode, PromotionDocument, PromotionRule } from '../contracts/promotion.js';

/**
 * The promotions a store prices with, indexed by sku and category, so a basket looks up the few
 * promotions its lines can match instead of testing every promotion against every line. Built once per
 * catalogue change (or per change of what is in force), reused for every basket.
 */

export interface IndexedPromotion {
  document: PromotionDocument;
  promotionId: string;
  rule: PromotionRule;
  concurrency: ConcurrencyMode;
  priority: number;
  /** Position in promotionId order: the final tie-break between promotions. */
  rank: number;
  hasExclusions: boolean;
  covers(line: { sku: string; category?: string | undefined }): boolean;
}

const covers = (promotion: IndexedPromotion, line: IndexedLine | undefined) =>
  line !== undefined && promotion.covers(line);

export interface IndexedLine {
  sku: string;
  category?: string | undefined;
}

export interface PromotionMatch {
  promotion: IndexedPromotion;
  /** Positions (in the array given) of the lines the promotion covers, ascending. */
  lines: number[];
}

export interface PricingIndex {
  readonly size: number;
  /** Every promotion covering at least one of these lines, with the lines it covers, in rank order. */
  match(lines: readonly IndexedLine[]): PromotionMatch[];
}

function indexed(document: PromotionDocument, rank: number): IndexedPromotion {
  const skus = new Set(document.items.skus ?? []);
  const categories = new Set(document.items.categories ?? []);
  const excludedSkus = new Set(document.exclusions?.skus ?? []);
  const excludedCategories = new Set(document.exclusions?.categories ?? []);
  const all = document.items.all === true;
  return {
    document,
    promotionId: document.promotionId,
    rule: document.rule,
    concurrency: document.concurrency,
    priority: document.priority ?? 0,
    rank,
    hasExclusions: excludedSkus.size + excludedCategories.size > 0,
    covers: ({ sku, category }) => {
      if (excludedSkus.has(sku) || (category !== undefined && excludedCategories.has(category))) return false;
      return all || skus.has(sku) || (category !== undefined && categories.has(category));
    },
  };
}

function push<K>(map: Map<K, IndexedPromotion[]>, key: K, promotion: IndexedPromotion): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [promotion]);
  else list.push(promotion);
}

/** Indexes the promotions given; which of them are in force is the caller's choice (see in-force.ts). */
export function createPricingIndex(promotions: Iterable<PromotionDocument>): PricingIndex {
  const latest = new Map<string, PromotionDocument>();
  for (const document of promotions) {
    const known = latest.get(document.promotionId);
    if (known === undefined || known.version < document.version) latest.set(document.promotionId, document);
  }
  const ranked = [...latest.values()]
    .sort((a, b) => (a.promotionId < b.promotionId ? -1 : a.promotionId > b.promotionId ? 1 : 0))
    .map(indexed);
  const bySku = new Map<string, IndexedPromotion[]>();
  const byCategory = new Map<string, IndexedPromotion[]>();
  const forAll: IndexedPromotion[] = [];
  for (const promotion of ranked) {
    const { items } = promotion.document;
    if (items.all === true) forAll.push(promotion);
    for (const sku of items.skus ?? []) push(bySku, sku, promotion);
    for (const category of items.categories ?? []) push(byCategory, category, promotion);
  }
  return {
    size: ranked.length,
    match(lines) {
      const found = new Map<IndexedPromotion, number[]>();
      // Positions are visited in ascending order, so each list comes out sorted; a line found by both its
      // sku and its category is noted once.
      const note = (promotion: IndexedPromotion, position: number) => {
        const positions = found.get(promotion);
        if (positions === undefined) found.set(promotion, [position]);
        else if (positions[positions.length - 1] !== position) positions.push(position);
      };
      lines.forEach((line, position) => {
        for (const promotion of bySku.get(line.sku) ?? []) note(promotion, position);
        if (line.category !== undefined) {
          for (const promotion of byCategory.get(line.category) ?? []) note(promotion, position);
        }
      });
      const matches: PromotionMatch[] = [];
      const everyLine = lines.map((_, position) => position);
      for (const promotion of forAll) {
        const covered = promotion.hasExclusions
          ? everyLine.filter((p) => covers(promotion, lines[p]))
          : everyLine;
        if (covered.length > 0) matches.push({ promotion, lines: covered });
      }
      for (const [promotion, positions] of found) {
        // The lookup found the lines by sku or category; exclusions still have their say.
        const covered = promotion.hasExclusions
          ? positions.filter((p) => covers(promotion, lines[p]))
          : positions;
        if (covered.length > 0) matches.push({ promotion, lines: covered });
      }
      return matches.sort((a, b) => a.promotion.rank - b.promotion.rank);
    },
  };
}
