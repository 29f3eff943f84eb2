import { z } from 'zod';
import { promotionDocumentSchema } from './promotion.js';

/**
 * The store agent's promotion answers to tills (README, "Agent HTTP API"): what is in force at an
 * instant, for `GET /v1/promotions/active`. Basket pricing answers with `pricedBasketSchema`
 * (src/contracts/promotion.ts) for `POST /v1/baskets/price`.
 */
const instant = z.iso.datetime({ offset: true });

export const activePromotionSchema = z.object({
  promotionId: z.string(),
  version: z.number().int().positive(),
  name: z.string(),
  /** The stretch of real time in force around the instant asked about: `until` is the first instant out of force. */
  since: instant,
  until: instant,
  /** The signed document itself (rule, items, exclusions, concurrency…), for a till that shows or applies it. */
  promotion: promotionDocumentSchema,
});

export const activePromotionsAnswerSchema = z.object({
  /** The instant the answer is for (the query's `at`, or now). */
  at: instant,
  /** In promotionId order. */
  promotions: z.array(activePromotionSchema),
  /** The next promotions to start after `at`; absent when none is scheduled. */
  next: z
    .object({
      startsAt: instant,
      promotions: z.array(z.object({ promotionId: z.string(), version: z.number().int(), name: z.string() })),
    })
    .optional(),
  /** The first instant after `at` at which this answer may change; absent when nothing will. */
  changesAt: instant.optional(),
});

export type ActivePromotion = z.infer<typeof activePromotionSchema>;
export type ActivePromotionsAnswer = z.infer<typeof activePromotionsAnswerSchema>;
