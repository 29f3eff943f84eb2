import type { FastifyInstance } from 'fastify';
import { basketSchema, type Basket, type PricedBasket } from '../contracts/promotion.js';
import { toApiIssues } from '../lib/api-issues.js';
import { ValidationError } from '../lib/errors.js';
import type { JsonBody } from './json-body.js';

/** What the tills ask the store's promotions; answered from memory, so it works offline. */
export interface StorePromotions {
  /**
   * In force for this store at the instant (ms), read in the store's time zone, and what starts next: an
   * ActivePromotionsAnswer as JSON text (it may be large, and the agent keeps it serialised).
   */
  activeJson(at: number): string;
  /** Prices a basket with what is in force at the instant (ms). */
  price(basket: Basket, at: number): PricedBasket;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T/;

/**
 * The promotion routes of the capture API (terminal token, checked before the body is read):
 * `GET /v1/promotions/active[?at=ISO]` and `POST /v1/baskets/price`. A client's mistake is a 400 naming
 * the field; nothing here reads the database.
 */
export function registerPromotionRoutes(
  app: FastifyInstance,
  promotions: StorePromotions,
  now: () => number,
): void {
  app.get('/v1/promotions/active', async (request, reply) => {
    const { at } = request.query as { at?: unknown };
    const instant =
      at === undefined ? now() : typeof at === 'string' && ISO_DATE_TIME.test(at) ? Date.parse(at) : NaN;
    if (Number.isNaN(instant)) {
      throw new ValidationError(
        'query parameter "at" must be an ISO-8601 timestamp, e.g. 2026-11-23T14:05:00Z',
        [{ path: ['at'], message: 'not an ISO-8601 timestamp' }],
      );
    }
    return reply.type('application/json; charset=utf-8').send(promotions.activeJson(instant));
  });

  app.post('/v1/baskets/price', async (request) => {
    const body = request.body as JsonBody | undefined;
    if (!body)
      throw new ValidationError(
        'request body is empty: send the basket as JSON with Content-Type application/json',
      );
    const parsed = basketSchema.safeParse(body.value);
    if (!parsed.success) {
      const issues = toApiIssues(parsed.error);
      const first = issues[0];
      throw new ValidationError(
        `invalid basket${first ? `: ${first.path.join('.') || '(root)'}: ${first.message}` : ''}`,
        issues,
      );
    }
    const basket = parsed.data;
    return promotions.price(basket, basket.at === undefined ? now() : Date.parse(basket.at));
  });
}
