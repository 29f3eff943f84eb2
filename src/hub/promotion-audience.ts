import type { PromotionTarget } from '../contracts/promotion.js';
import type { topics } from '../contracts/sync-messages.js';

type Topics = ReturnType<typeof topics>;

/** The topics a promotion version is retained on: one per audience its target names. */
export function audienceTopics(target: PromotionTarget, promotionId: string, topic: Topics): string[] {
  if (target.all === true) return [topic.promotionForAll(promotionId)];
  return [
    ...(target.regions ?? []).map((region) => topic.promotionForRegion(region, promotionId)),
    ...(target.storeIds ?? []).map((storeId) => topic.promotionForStore(storeId, promotionId)),
  ];
}

/**
 * Where a new version is published: its own audience, and the audience of the version it replaces. A
 * retained message is replaced only by a publish on its own topic, so a version that stops targeting a
 * region must still land on that region's topic: otherwise a store of that region connecting later
 * would be handed the old version, retained there for ever, and hold it until its catalogue exchange
 * took it out of force again.
 */
export function publishTopics(
  target: PromotionTarget,
  previousTarget: PromotionTarget | undefined,
  promotionId: string,
  topic: Topics,
): string[] {
  const all = new Set(audienceTopics(target, promotionId, topic));
  if (previousTarget) for (const t of audienceTopics(previousTarget, promotionId, topic)) all.add(t);
  return [...all].sort();
}
