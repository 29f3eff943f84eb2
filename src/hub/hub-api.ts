import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { identifier } from '../contracts/transaction.js';
import { parseRequestPart } from '../lib/api-issues.js';
import { bearerMatches } from '../lib/bearer-token.js';
import { AuthenticationError } from '../lib/errors.js';
import { installErrorHandling } from '../lib/http-error-handler.js';
import type { Logger } from '../lib/logger.js';
import type { ConsoleAccess } from './console-routes.js';
import { registerDayRoutes } from './day-api.js';
import type { HubMetrics } from './hub-metrics.js';
import type { HubPromotions } from './hub-promotions.js';
import type { HubStore } from './hub-store.js';
import { registerPromotionRoutes } from './promotion-api.js';
import { eventJson, quarantineJson, withRawList } from './served-json.js';

/** What /healthz answers: 200 when ok, else 503 naming every problem (store, epoch, what it waits for). */
export type HubHealth =
  { ok: true; mqtt: string } | { ok: false; mqtt: string; reason: string; problems: string[] };

export interface HubApiOptions {
  store: HubStore;
  token: string;
  logger: Logger;
  metrics: HubMetrics;
  health: () => HubHealth;
  /** Publishing and rollout of promotions; without it the routes do not exist. */
  promotions?: HubPromotions;
  /** The operator's console at `/` (console-routes.ts): its page, sign-in and session-carrying requests. */
  console?: ConsoleAccess;
}

const JSON_TYPE = 'application/json; charset=utf-8';

const transactionsQuery = z.strictObject({
  epoch: z
    .string()
    .regex(/^[0-9a-f]{8,64}$/, { error: 'epoch must be hex digits' })
    .optional(),
  after: z.coerce.number({ error: 'after must be a number' }).int().nonnegative().default(0),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int()
    .min(1)
    .max(5000, { error: 'limit must be at most 5000' })
    .default(500),
});

/**
 * The operator-facing hub API (DESIGN.md, "Hub HTTP API"): one bearer token, everything but /healthz behind
 * it, except the operator console's page files and sign-in; the console's session stands in for the token
 * (console-routes.ts), and its writes must come from the hub's own page.
 */
export function buildHubApi(options: HubApiOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    connectionTimeout: 30_000,
    requestTimeout: 60_000,
    return503OnClosing: true,
  });
  installErrorHandling(app, options.logger);
  app.addHook('onRequest', async (request) => {
    if (request.url === '/healthz') return;
    if (options.console?.admits(request)) return;
    if (!bearerMatches(request.headers.authorization, options.token)) {
      throw new AuthenticationError(
        request.headers.authorization
          ? 'unknown operator token'
          : 'missing Authorization header: send "Authorization: Bearer <operator token>"',
      );
    }
  });

  app.get('/healthz', async (_request, reply) => {
    const health = options.health();
    return reply.status(health.ok ? 200 : 503).send(health);
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });

  app.get('/v1/stores', async () => ({ stores: await options.store.listStores() }));

  // Bodies are spliced in as the stored text (served-json.ts), never parsed and serialised again.
  app.get('/v1/stores/:storeId/transactions', async (request, reply) => {
    const { storeId } = parseRequestPart(
      z.object({ storeId: identifier('storeId') }),
      request.params,
      'store id',
    );
    const query = parseRequestPart(transactionsQuery, request.query, 'query');
    const result = await options.store.listTransactions(storeId, {
      limit: query.limit,
      after: query.after,
      ...(query.epoch ? { epoch: query.epoch } : {}),
    });
    const last = result.events.at(-1);
    const next = result.events.length === query.limit && last ? last.seq : null;
    return reply
      .type(JSON_TYPE)
      .send(withRawList({ storeId, epoch: result.epoch, next }, 'events', result.events.map(eventJson)));
  });

  app.get('/v1/stores/:storeId/quarantine', async (request, reply) => {
    const { storeId } = parseRequestPart(
      z.object({ storeId: identifier('storeId') }),
      request.params,
      'store id',
    );
    const events = await options.store.listQuarantine(storeId, 1000);
    return reply.type(JSON_TYPE).send(withRawList({ storeId }, 'events', events.map(quarantineJson)));
  });

  registerDayRoutes(app, options.store);
  if (options.promotions) registerPromotionRoutes(app, options.promotions);
  options.console?.register(app);

  return app;
}
