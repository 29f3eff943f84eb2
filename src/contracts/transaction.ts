import { z } from 'zod';
import { currencyCode, hasAtMostThreeDecimals, lineAmount, minorUnits } from './money.js';

/**
 * The canonical POS transaction, version 1. Shared by the store agent (validated on capture)
 * and the hub (validated again on ingest). Objects are strict: an unknown or misspelt field is
 * rejected by name rather than silently ignored; POS-specific data belongs in `extensions`.
 */
export const TRANSACTION_SCHEMA_VERSION = 1;

/** Identifiers travel in MQTT topics, log lines and file names: keep them to a safe alphabet. */
export const identifier = (what: string, max = 64) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must be at most ${max} characters` })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, {
      error: `${what} may contain only letters, digits and . _ : - (and must start with a letter or digit)`,
    });

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must be at most ${max} characters` });

export const businessDay = z
  .string({ error: 'must be a date in the form YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date in the form YYYY-MM-DD' })
  .refine(
    (day) =>
      !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) &&
      new Date(`${day}T00:00:00Z`).toISOString().startsWith(day),
    {
      error: 'is not a real calendar date',
    },
  );

const MAX_LINES = 1000;

const quantity = z
  .number({ error: 'must be a number' })
  .positive({
    error:
      'must be greater than zero: quantities are positive in sales and returns alike (the transaction type gives the direction)',
  })
  .max(100_000, { error: 'must be at most 100000' })
  .refine(hasAtMostThreeDecimals, { error: 'may have at most 3 decimals' });

export const discountSchema = z.strictObject({
  promotionId: identifier('promotionId', 128).optional(),
  amount: minorUnits,
  reason: text('reason', 200).optional(),
});

export const taxSchema = z.strictObject({
  code: identifier('tax code', 32),
  rate: z
    .number({ error: 'must be a number: the tax rate as a fraction, e.g. 0.2 for 20%' })
    .min(0, { error: 'must not be negative' })
    .max(1, { error: 'must be a fraction between 0 and 1, e.g. 0.2 for 20%' }),
  amount: minorUnits,
});

export const lineSchema = z.strictObject({
  lineNo: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1)
    .max(MAX_LINES * 10),
  sku: identifier('sku', 64),
  description: text('description', 200).optional(),
  quantity,
  unitPrice: minorUnits,
  amount: minorUnits,
  discounts: z.array(discountSchema).max(20, { error: 'at most 20 discounts per line' }).default([]),
  taxes: z.array(taxSchema).max(10, { error: 'at most 10 taxes per line' }).default([]),
});

export const tenderSchema = z.strictObject({
  method: z.enum(['cash', 'card', 'voucher', 'gift-card', 'store-credit', 'mobile', 'other'], {
    error: 'must be one of cash, card, voucher, gift-card, store-credit, mobile, other',
  }),
  amount: minorUnits,
  reference: text('reference', 128).optional(),
});

export const totalsSchema = z.strictObject({
  gross: minorUnits,
  discount: minorUnits,
  tax: minorUnits,
  total: minorUnits,
});

/** Free-form POS data carried through to head office untouched; bounded so it cannot crowd out a sale. */
const extensions = z
  .record(z.string().max(64), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((ext) => Object.keys(ext).length <= 50, { error: 'at most 50 extension fields' })
  .optional();

const transactionReference = z.strictObject({
  terminalId: identifier('terminalId'),
  transactionId: identifier('transactionId', 128),
});

const common = {
  v: z.literal(TRANSACTION_SCHEMA_VERSION, {
    error: `must be ${TRANSACTION_SCHEMA_VERSION} (the schema version)`,
  }),
  terminalId: identifier('terminalId'),
  transactionId: identifier('transactionId', 128),
  businessDay,
  occurredAt: z.iso.datetime({
    offset: true,
    error: 'must be an ISO-8601 timestamp with an offset, e.g. 2026-11-23T14:05:00+01:00',
  }),
  currency: currencyCode,
  operatorId: identifier('operatorId'),
  taxIncluded: z.boolean({ error: 'must be true or false' }),
  totals: totalsSchema,
  extensions,
};

const saleSchema = z.strictObject({
  ...common,
  type: z.literal('sale'),
  lines: z.array(lineSchema).min(1, { error: 'a sale needs at least one line' }).max(MAX_LINES),
  tenders: z.array(tenderSchema).max(20),
});

const returnSchema = z.strictObject({
  ...common,
  type: z.literal('return'),
  original: z.strictObject({ ...transactionReference.shape, businessDay }),
  lines: z.array(lineSchema).min(1, { error: 'a return needs at least one line' }).max(MAX_LINES),
  tenders: z.array(tenderSchema).max(20),
});

/**
 * A void cancels a transaction in full. It needs only what names it (README: `voids {terminalId,
 * transactionId}`; lines and tenders optional); lines, tenders and totals, if given, restate what is
 * reversed and must add up. Without them its totals are zero.
 */
const voidSchema = z.strictObject({
  ...common,
  type: z.literal('void'),
  voids: transactionReference,
  lines: z.array(lineSchema).max(MAX_LINES).default([]),
  tenders: z.array(tenderSchema).max(20).default([]),
  totals: totalsSchema.optional(),
});

type Line = z.infer<typeof lineSchema>;
type Tender = z.infer<typeof tenderSchema>;

export interface ArithmeticInput {
  taxIncluded: boolean;
  lines: Line[];
  tenders: Tender[];
  /** Only a void may leave them out, and only when it restates no lines and no tenders. */
  totals?: z.infer<typeof totalsSchema> | undefined;
}

export interface ArithmeticIssue {
  path: (string | number)[];
  message: string;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/** Every arithmetic rule of DESIGN.md, as a pure function: each disagreement with the field that holds it. */
export function checkArithmetic(tx: ArithmeticInput): ArithmeticIssue[] {
  const issues: ArithmeticIssue[] = [];
  const seenLineNos = new Set<number>();
  tx.lines.forEach((line, i) => {
    if (seenLineNos.has(line.lineNo)) {
      issues.push({ path: ['lines', i, 'lineNo'], message: `lineNo ${line.lineNo} appears twice` });
    }
    seenLineNos.add(line.lineNo);
    const expected = lineAmount(line.quantity, line.unitPrice);
    if (line.amount !== expected) {
      issues.push({
        path: ['lines', i, 'amount'],
        message: `is ${line.amount} but quantity × unitPrice = ${line.quantity} × ${line.unitPrice} = ${expected}`,
      });
    }
    const lineDiscount = sum(line.discounts.map((d) => d.amount));
    if (lineDiscount > line.amount) {
      issues.push({
        path: ['lines', i, 'discounts'],
        message: `discounts add up to ${lineDiscount}, more than the line amount ${line.amount}`,
      });
    }
  });
  const totals = tx.totals;
  if (!totals) {
    if (tx.lines.length > 0 || tx.tenders.length > 0)
      issues.push({ path: ['totals'], message: 'required when lines or tenders are given' });
    return issues;
  }
  const gross = sum(tx.lines.map((l) => l.amount));
  const discount = sum(tx.lines.flatMap((l) => l.discounts.map((d) => d.amount)));
  const tax = sum(tx.lines.flatMap((l) => l.taxes.map((t) => t.amount)));
  const total = gross - discount + (tx.taxIncluded ? 0 : tax);
  const tendered = sum(tx.tenders.map((t) => t.amount));
  const check = (field: keyof typeof totals, expected: number, how: string) => {
    if (totals[field] !== expected) {
      issues.push({ path: ['totals', field], message: `is ${totals[field]} but ${how} = ${expected}` });
    }
  };
  check('gross', gross, 'the sum of line amounts');
  check('discount', discount, 'the sum of line discounts');
  check('tax', tax, 'the sum of line taxes');
  check('total', total, tx.taxIncluded ? 'gross − discount' : 'gross − discount + tax');
  if (tendered !== totals.total) {
    issues.push({
      path: ['tenders'],
      message: `tenders add up to ${tendered} but totals.total is ${totals.total} (cash is given net of change)`,
    });
  }
  return issues;
}

const withArithmetic = <T extends z.ZodType<ArithmeticInput>>(schema: T) =>
  schema.superRefine(
    (tx, ctx) => {
      for (const issue of checkArithmetic(tx)) {
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: tx });
      }
    },
    // Sums over fields that failed their own checks would only repeat the error in wrong words (a
    // negative quantity's line amount "should be" -99), so the arithmetic waits for valid fields.
    { when: (payload) => payload.issues.length === 0 },
  );

export const transactionSchema = z.discriminatedUnion(
  'type',
  [withArithmetic(saleSchema), withArithmetic(returnSchema), withArithmetic(voidSchema)],
  {
    // The union sees a non-object body (a JSON array, null, a number) before any discriminator: say so,
    // rather than blame a "type" the body cannot even hold.
    error: (issue) =>
      typeof issue.input !== 'object' || issue.input === null || Array.isArray(issue.input)
        ? 'the transaction must be a JSON object'
        : 'type must be one of "sale", "return", "void"',
  },
);

export type Transaction = z.infer<typeof transactionSchema>;
export type TransactionType = Transaction['type'];
export type TransactionLine = Line;
export type TransactionTender = Tender;

/**
 * The signed effect of a transaction on the till, in minor units: what head office would be missing if it
 * never arrived. A void's effect depends on what it cancels, which only head office knows, so it counts 0.
 */
export function signedTotal(
  tx:
    | { type: 'sale' | 'return'; totals: z.infer<typeof totalsSchema> }
    | { type: 'void'; totals?: z.infer<typeof totalsSchema> | undefined },
): number {
  if (tx.type === 'sale') return tx.totals.total;
  if (tx.type === 'return') return -tx.totals.total;
  return 0;
}
