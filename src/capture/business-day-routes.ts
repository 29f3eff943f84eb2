import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dayCloseSchema, type DayClose } from '../contracts/day-close.js';
import { businessDay } from '../contracts/transaction.js';
import { toApiIssues } from '../lib/api-issues.js';
import { textDigest } from '../lib/canonical-hash.js';
import { ForbiddenError, ValidationError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { CaptureResult, DayCloseInput } from '../sync/index.js';
import type { JsonBody } from './json-body.js';

/** Where a till's close of its day goes: durably into the outbox, like a sale. */
export interface DayCloseSink {
  closeDay(input: DayCloseInput): Promise<CaptureResult>;
}

export interface BusinessDayRoutesOptions {
  sink: DayCloseSink;
  /** The terminal the request's token belongs to (checked before the body was read). */
  terminalOf: (request: FastifyRequest) => string;
  logger: Logger;
}

/** Validates a close's body with the schema head office uses; every problem is reported with its path. */
function validateDayClose(value: unknown): DayClose {
  const parsed = dayCloseSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = toApiIssues(parsed.error);
  const first = issues[0]!;
  const where = first.path.length ? `${first.path.join('.')}: ` : '';
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  throw new ValidationError(`invalid day close: ${where}${first.message}${more}`, issues);
}

/**
 * `POST /v1/business-days/{day}/close` (terminal token): a till closes its business day with its own
 * Z-report (dayCloseSchema, docs/protocol.md "Business days"). Captured into the outbox as a `day-close`
 * event whose body is the exact text, answered 201 after the durable commit; head office compares it
 * with what it holds for that till and day and its verdict shows in `/v1/status`. Idempotent per
 * (terminal, day, closedAt): a retry of the same close is a 200 duplicate, a corrected Z-report (closed
 * again, later) is a new close.
 */
export function registerBusinessDayRoutes(app: FastifyInstance, options: BusinessDayRoutesOptions): void {
  app.post('/v1/business-days/:day/close', async (request, reply) => {
    const terminalId = options.terminalOf(request);
    const { day } = request.params as { day: string };
    const pathDay = businessDay.safeParse(day);
    if (!pathDay.success)
      throw new ValidationError(
        `the business day in the path must be a calendar date YYYY-MM-DD, not "${day}"`,
        [{ path: ['day'], message: pathDay.error.issues[0]?.message ?? 'not a calendar date' }],
      );
    const body = request.body as JsonBody | undefined;
    if (!body)
      throw new ValidationError(
        'request body is empty: send the Z-report as JSON with Content-Type application/json',
      );
    const close = validateDayClose(body.value);
    if (close.terminalId !== terminalId)
      throw new ForbiddenError(
        `this token belongs to terminal ${terminalId}, but the close says terminalId ${close.terminalId}`,
      );
    if (close.businessDay !== pathDay.data)
      throw new ValidationError(
        `the path closes business day ${pathDay.data}, but the Z-report says businessDay ${close.businessDay}`,
        [{ path: ['businessDay'], message: `must be ${pathDay.data}, the day in the path` }],
      );
    const result = await options.sink.closeDay({
      terminalId,
      businessDay: close.businessDay,
      closedAt: Date.parse(close.closedAt),
      zNumber: close.zNumber ?? null,
      totals: close.totals,
      body: body.text,
      bodyHash: textDigest(body.text),
    });
    options.logger.info(result.duplicate ? 'day close repeated' : 'day closed', {
      eventId: result.eventId,
      terminalId,
      businessDay: close.businessDay,
      closedAt: close.closedAt,
      zNumber: close.zNumber,
      epoch: result.epoch,
      seq: result.seq,
    });
    if (result.duplicate)
      return reply.status(200).send({ eventId: result.eventId, seq: result.seq, duplicate: true });
    return reply.status(201).send({ eventId: result.eventId, seq: result.seq });
  });
}
