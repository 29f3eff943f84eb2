import { z } from 'zod';
import { currencyCode } from './money.js';
import { businessDay, identifier } from './transaction.js';

/**
 * A till's close of its business day, with its own Z-report: what the POS itself counted. Head office
 * compares it with what it holds for that terminal and day, so finance gets proof per till that every
 * sale the till made (not only every sale the agent captured) reached head office.
 * Submitted to the agent (`POST /v1/business-days/{day}/close`, terminal token), captured into the
 * outbox as a `day-close` event (its body is this document's exact text), delivered like a sale.
 */
export const DAY_CLOSE_SCHEMA_VERSION = 1;

const transactionId = identifier('transactionId', 128);
const count = z.number().int().nonnegative().max(10_000_000);
/** Minor units; a day's sum may exceed one transaction's bounds but stays an exact integer. */
const amount = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** One row of the Z-report: how many transactions of a type the till made in a currency, and their Σ totals.total. */
export const zTotalSchema = z.strictObject({
  type: z.enum(['sale', 'return', 'void']),
  currency: currencyCode,
  count,
  /** Σ totals.total of those transactions as submitted (a void without totals counts 0). */
  amount,
});

export const dayCloseSchema = z
  .strictObject({
    v: z.literal(DAY_CLOSE_SCHEMA_VERSION),
    type: z.literal('day-close'),
    terminalId: identifier('terminalId'),
    businessDay,
    /** When the till closed the day (ISO-8601 with offset). */
    closedAt: z.iso.datetime({ offset: true }),
    /** The POS's own Z-report number, if it has one. */
    zNumber: z.string().min(1).max(64).optional(),
    /** The first and last transaction ids as the POS numbered them that day; null for a day without any. */
    firstTransactionId: transactionId.nullable(),
    lastTransactionId: transactionId.nullable(),
    /**
     * Every transaction id of the day, when the POS can list them: then head office names exactly what is
     * missing or extra. Without it, ids that share a prefix and end in a number are checked as a range.
     */
    transactionIds: z.array(transactionId).max(100_000).optional(),
    totals: z.array(zTotalSchema).max(100),
  })
  .superRefine((close, ctx) => {
    const seen = new Set<string>();
    close.totals.forEach((row, i) => {
      const key = `${row.type}/${row.currency}`;
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['totals', i], message: `${key} is listed twice` });
      seen.add(key);
    });
    if ((close.firstTransactionId === null) !== (close.lastTransactionId === null))
      ctx.addIssue({
        code: 'custom',
        path: ['lastTransactionId'],
        message: 'firstTransactionId and lastTransactionId are both null (no transactions) or both set',
      });
    const counted = close.totals.reduce((n, row) => n + row.count, 0);
    if (close.transactionIds !== undefined && close.transactionIds.length !== counted)
      ctx.addIssue({
        code: 'custom',
        path: ['transactionIds'],
        message: `lists ${close.transactionIds.length} ids but totals count ${counted} transactions`,
      });
  });

export type DayClose = z.infer<typeof dayCloseSchema>;
export type ZTotal = z.infer<typeof zTotalSchema>;

/** What head office found for one terminal and day. */
export const dayDifferencesSchema = z.strictObject({
  /** Transaction ids the till counted that head office does not hold. */
  missing: z.array(transactionId).max(1000),
  /** Transaction ids head office holds that the till did not count. */
  extra: z.array(transactionId).max(1000),
  /** Rows of the Z-report that disagree with what head office holds. */
  totals: z
    .array(
      z.strictObject({
        type: z.enum(['sale', 'return', 'void']),
        currency: currencyCode,
        till: z.strictObject({ count, amount }),
        headOffice: z.strictObject({ count, amount }),
      }),
    )
    .max(100),
});

export const DAY_STATES = ['confirmed', 'mismatch'] as const;
export const dayResultSchema = z.strictObject({
  terminalId: identifier('terminalId'),
  businessDay,
  state: z.enum(DAY_STATES),
  /** When head office judged it (it judges again whenever a late event of that day arrives). */
  at: z.iso.datetime({ offset: true }),
  differences: dayDifferencesSchema,
});

export type DayDifferences = z.infer<typeof dayDifferencesSchema>;
export type DayResult = z.infer<typeof dayResultSchema>;
