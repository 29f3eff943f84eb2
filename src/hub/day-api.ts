import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { businessDay, identifier } from '../contracts/transaction.js';
import { toApiIssues } from '../lib/api-issues.js';
import { ValidationError } from '../lib/errors.js';
import { chainDayView, storeDayView } from './day-views.js';
import type { HubStore } from './hub-store.js';

/** A 400 naming the parameter and the value given, e.g. `invalid business day "2026-02-30": is not a real calendar date`. */
function parse<S extends z.ZodType>(schema: S, params: unknown): z.infer<S> {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? '');
  const given = (params as Record<string, unknown>)[name];
  throw new ValidationError(
    `invalid ${name === 'day' ? 'business day' : name} ${JSON.stringify(given)}: ${issue.message}`,
    toApiIssues(parsed.error),
  );
}

const dayParams = z.strictObject({ day: businessDay });
const storeDayParams = z.strictObject({ storeId: identifier('storeId'), day: businessDay });

/**
 * The business-day routes of the operator API (behind its bearer token): one store's day, till by till,
 * and the chain's day, store by store. A day that is not a YYYY-MM-DD calendar date is a 400 naming it;
 * a store the hub never heard of is a 404.
 */
export function registerDayRoutes(app: FastifyInstance, store: HubStore): void {
  app.get('/v1/stores/:storeId/days/:day', async (request) => {
    const { storeId, day } = parse(storeDayParams, request.params);
    return storeDayView(store, storeId, day);
  });

  app.get('/v1/days/:day', async (request) => {
    const { day } = parse(dayParams, request.params);
    return chainDayView(store, day);
  });
}
