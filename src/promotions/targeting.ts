import type { PromotionTarget } from '../contracts/promotion.js';

/** Who a store is, as far as promotions care. */
export interface StoreIdentity {
  storeId: string;
  region?: string | undefined;
}

/** A target names every store, or lists regions and store ids: a store is targeted when either list names it. */
export function targetsStore(target: PromotionTarget, store: StoreIdentity): boolean {
  if (target.all === true) return true;
  if (target.storeIds?.includes(store.storeId)) return true;
  return store.region !== undefined && (target.regions?.includes(store.region) ?? false);
}
