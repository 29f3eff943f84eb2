import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { identifier } from '../contracts/transaction.js';
import { toApiIssues } from '../lib/api-issues.js';
import { ValidationError } from '../lib/errors.js';
import type { HubPromotions, PublishOutcome } from './hub-promotions.js';

const params = z.strictObject({ promotionId: identifier('promotionId', 128) });

const pushQuery = z.strictObject({
  /** Activate the staged version once this share (0–1] of its targeted stores has applied it. */
  activateWhenShare: z.coerce
    .number({ error: 'activateWhenShare must be a number' })
    .gt(0, { error: 'activateWhenShare must be more than 0 and at most 1 (a share of the targeted stores)' })
    .max(1, { error: 'activateWhenShare must be more than 0 and at most 1 (a share of the targeted stores)' })
    .optional(),
});

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = toApiIssues(parsed.error);
  throw new ValidationError(`invalid ${what}: ${issues.map((i) => i.message).join('; ')}`, issues);
}

const created = (outcome: PublishOutcome) => (outcome.created ? 201 : 200);

/**
 * The promotion routes of the operator API (behind its bearer token): publish, withdraw and activate
 * (each a new signed version), and rollout. A hub without a signing key answers the first three with
 * 501 and how to configure one.
 */
export function registerPromotionRoutes(app: FastifyInstance, promotions: HubPromotions): void {
  app.post('/v1/promotions', async (request, reply) => {
    const query = parse(pushQuery, request.query, 'query');
    const outcome = await promotions.push(request.body, {
      ...(query.activateWhenShare === undefined ? {} : { activateWhenShare: query.activateWhenShare }),
    });
    return reply.status(created(outcome)).send(outcome);
  });

  app.post('/v1/promotions/:promotionId/withdraw', async (request, reply) => {
    const { promotionId } = parse(params, request.params, 'promotion id');
    const outcome = await promotions.change(promotionId, 'withdraw');
    return reply.status(created(outcome)).send(outcome);
  });

  app.post('/v1/promotions/:promotionId/activate', async (request, reply) => {
    const { promotionId } = parse(params, request.params, 'promotion id');
    const outcome = await promotions.change(promotionId, 'activate');
    return reply.status(created(outcome)).send(outcome);
  });

  app.get('/v1/promotions', async () => ({ promotions: await promotions.list() }));

  app.get('/v1/promotions/:promotionId', async (request) => {
    const { promotionId } = parse(params, request.params, 'promotion id');
    return promotions.detail(promotionId);
  });
}
