import type { PromotionDocument } from '../contracts/promotion.js';

/**
 * Promotions that fit the simulated store's catalogue (catalogue.ts categories), for the demo: one it
 * pushes through the hub at start, so the simulated sales carry a real promotion id, and one it writes
 * to a file for the operator to push by hand. Validity starts an hour before `now` and lasts 30 days.
 */
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const validity = (now: number) => ({
  from: new Date(now - HOUR).toISOString(),
  until: new Date(now + 30 * DAY).toISOString(),
});

/** 10% off everything in the dairy aisle (milk, butter, eggs, yoghurt, cheese): in most simulated baskets. */
export function dairyWeek(now: number): PromotionDocument {
  return {
    v: 1,
    promotionId: 'DEMO-DAIRY-10',
    version: 1,
    name: 'Dairy week: 10% off milk, butter, eggs, yoghurt and cheese',
    state: 'active',
    target: { all: true },
    validity: validity(now),
    rule: { kind: 'percent-off', percent: 10 },
    items: { categories: ['dairy'] },
    concurrency: 'best-price',
    priority: 10,
  };
}

/** Pasta three for two, for the north region: the one the demo leaves for the operator to push. */
export function pastaThreeForTwo(now: number): PromotionDocument {
  return {
    v: 1,
    promotionId: 'DEMO-PASTA-3FOR2',
    version: 1,
    name: 'Pasta: 3 for 2',
    state: 'active',
    target: { regions: ['north'] },
    validity: validity(now),
    rule: { kind: 'buy-x-get-y', buy: 2, get: 1 },
    items: { categories: ['pasta'] },
    concurrency: 'best-price',
    priority: 20,
  };
}
