import type { Basket, PricedBasket, PromotionDocument } from '../contracts/promotion.js';
import { createInForceEvaluator, type StoreContext } from './in-force.js';
import { createPricingIndex, type PricingIndex } from './pricing-index.js';
import { priceBasket } from './pricing.js';

/**
 * Prices baskets at an instant with what is in force then, keeping the pricing index for as long as the
 * answer cannot change: until the catalogue changes (a new array is passed) or the next start or end of
 * a promotion. Building the index for a thousand promotions costs milliseconds; a basket costs far less.
 */
export interface BasketPricer {
  /** `catalogue` is every promotion the store holds; pass the same array until it changes. */
  price(catalogue: readonly PromotionDocument[], basket: Basket, at: number): PricedBasket;
}

export function createBasketPricer(store: StoreContext): BasketPricer {
  const evaluator = createInForceEvaluator(store);
  let cache:
    { catalogue: readonly PromotionDocument[]; from: number; until: number; index: PricingIndex } | undefined;
  return {
    price(catalogue, basket, at) {
      if (cache === undefined || cache.catalogue !== catalogue || at < cache.from || at >= cache.until) {
        const answer = evaluator.at(catalogue, at);
        cache = {
          catalogue,
          from: at,
          until: answer.changesAt ?? Infinity,
          index: createPricingIndex(answer.inForce.map((entry) => entry.promotion)),
        };
      }
      return priceBasket(cache.index, basket);
    },
  };
}
