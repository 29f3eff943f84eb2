import type { ActivePromotionsAnswer } from '../contracts/promotion-api.js';
import type { InForceAnswer } from './in-force.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** What `GET /v1/promotions/active` answers, from the evaluator's answer. */
export function activePromotionsAnswer(answer: InForceAnswer): ActivePromotionsAnswer {
  return {
    at: iso(answer.at),
    promotions: answer.inForce.map((entry) => ({
      promotionId: entry.promotion.promotionId,
      version: entry.promotion.version,
      name: entry.promotion.name,
      since: iso(entry.since),
      until: iso(entry.until),
      promotion: entry.promotion,
    })),
    ...(answer.next === undefined
      ? {}
      : {
          next: {
            startsAt: iso(answer.next.startsAt),
            promotions: answer.next.promotions.map((p) => ({
              promotionId: p.promotionId,
              version: p.version,
              name: p.name,
            })),
          },
        }),
    ...(answer.changesAt === undefined ? {} : { changesAt: iso(answer.changesAt) }),
  };
}
