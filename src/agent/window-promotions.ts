import type { PromotionsPanel } from '../contracts/window-api.js';
import type { InForceAnswer } from '../promotions/index.js';

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/**
 * The window's promotions panel from what is in force for this store now: each promotion in force with
 * the stretch it is in (its end, when one is in sight), and the first of those starting next. Pure.
 */
export function promotionsPanelOf(answer: InForceAnswer): PromotionsPanel {
  const first = answer.next?.promotions[0];
  return {
    inForce: answer.inForce.map(({ promotion, since, until }) => ({
      id: promotion.promotionId,
      name: promotion.name,
      startsAt: iso(since),
      endsAt: iso(until),
    })),
    next:
      answer.next && first
        ? { id: first.promotionId, name: first.name, startsAt: iso(answer.next.startsAt), endsAt: null }
        : null,
  };
}
