import { z } from 'zod';
import { MAX_MINOR_UNITS, currencyCode, lineAmount, minorUnits } from './money.js';
import { identifier, lineSchema, totalsSchema } from './transaction.js';

/**
 * The promotion document, version 1: what head office signs and every store verifies, stores and prices
 * with (docs/promotions.md). Objects are strict and the schema has no defaults and no transforms, so a
 * parsed document is exactly the document that was signed: the signature is checked over the received
 * value and nothing downstream can differ from it.
 */
export const PROMOTION_SCHEMA_VERSION = 1;

const MAX_LIST = 10_000;

const text = (what: string, max: number) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must be at most ${max} characters` });

/** Money a promotion gives or asks for: a whole, positive number of the currency's minor unit. */
const positiveMinorUnits = z
  .number({ error: 'must be a number of minor units (an integer, e.g. 1999 for 19.99)' })
  .int({ error: 'must be a whole number of minor units (e.g. 1999 for 19.99), not a fraction' })
  .positive({ error: 'must be more than 0' })
  .max(MAX_MINOR_UNITS, { error: `must be at most ${MAX_MINOR_UNITS} minor units` });

/** A price a promotion sets: a whole number of minor units, 0 (free) allowed. */
const priceMinorUnits = z
  .number({ error: 'must be a number of minor units (an integer, e.g. 1999 for 19.99)' })
  .int({ error: 'must be a whole number of minor units (e.g. 1999 for 19.99), not a fraction' })
  .nonnegative({ error: 'must not be negative' })
  .max(MAX_MINOR_UNITS, { error: `must be at most ${MAX_MINOR_UNITS} minor units` });

const hasAtMostTwoDecimals = (n: number) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6;

/** A percentage such as 12.5; computed in hundredths of a percent so it never drifts. */
export const percentSchema = z
  .number({ error: 'must be a percentage, e.g. 20 for 20%' })
  .gt(0, { error: 'must be more than 0 and at most 100' })
  .max(100, { error: 'must be more than 0 and at most 100' })
  .refine(hasAtMostTwoDecimals, { error: 'may have at most 2 decimals' });

const count = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be a whole number` })
    .min(min, { error: `${what} must be at least ${min}` })
    .max(max, { error: `${what} must be at most ${max}` });

function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * An IANA time zone name such as "Europe/Paris". Fixed offsets ("+01:00") are refused: they do not follow
 * daylight saving time, which is the reason store-local windows exist.
 */
export const ianaTimeZone = z
  .string({ error: 'must be an IANA time zone name such as "Europe/Paris"' })
  .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, {
    error: 'must be an IANA time zone name such as "Europe/Paris", not an offset',
    abort: true,
  })
  .refine(isKnownTimeZone, { error: (iss) => `unknown time zone "${String(iss.input)}"` });

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A real calendar day and a time within it (Date.parse alone would roll 30 February over into March). */
function isRealDateTime(y: number, mo: number, d: number, h: number, mi: number, s = 0): boolean {
  const date = new Date(Date.UTC(y, mo - 1, d));
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    h < 24 &&
    mi < 60 &&
    s < 60
  );
}

/** Whether the text is a store-local date and time to the minute ("2026-03-28T00:00"), a real one. */
export function isLocalDateTime(value: string): boolean {
  const m = LOCAL_DATE_TIME.exec(value);
  if (!m) return false;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  return isRealDateTime(y, mo, d, h, mi);
}

/** Whether the text is a real instant with an offset or Z ("2026-03-28T00:00:00+01:00"). */
export function isInstant(value: string): boolean {
  const m = INSTANT.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHours = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinutes = m[10] === undefined ? 0 : Number(m[10]);
  return isRealDateTime(y, mo, d, h, mi, s) && offsetHours <= 14 && offsetMinutes < 60;
}

const validityBound = z
  .string({ error: 'must be a date and time' })
  .refine((value) => isInstant(value) || isLocalDateTime(value), {
    error:
      'must be an instant with an offset (2026-03-28T00:00:00+01:00) or a store-local date and time to the minute (2026-03-28T00:00)',
  });

export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;

const weekTime = z.strictObject({
  day: z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }),
  time: z
    .string()
    .regex(TIME_OF_DAY, { error: 'must be a time of day to the minute, HH:mm (00:00 to 23:59)' }),
});

/**
 * A weekly window in store-local time, both minutes included: saturday 00:00 to sunday 23:59 is the whole
 * weekend. `until` before `from` in the week wraps over the week's end (friday 22:00 to monday 01:59).
 */
export const weeklyWindowSchema = z.strictObject({ from: weekTime, until: weekTime });

/**
 * When a promotion may be in force. `from`/`until` are either both instants with an offset (`until`
 * excluded: the first instant no longer in force) or both store-local date-times to the minute, read on the
 * store's clock (`until` included: the last minute in force, as a poster reads). `weekly` narrows the period
 * to recurring store-local windows. Store-local times are read in `timeZone` when given, otherwise in the
 * store's own time zone.
 */
export const validitySchema = z
  .strictObject({
    from: validityBound,
    until: validityBound,
    timeZone: ianaTimeZone.optional(),
    weekly: z
      .array(weeklyWindowSchema)
      .min(1, { error: 'when given, weekly needs at least one window' })
      .max(28, { error: 'at most 28 weekly windows' })
      .optional(),
  })
  .superRefine((validity, ctx) => {
    const fromLocal = isLocalDateTime(validity.from);
    const untilLocal = isLocalDateTime(validity.until);
    const fromInstant = isInstant(validity.from);
    const untilInstant = isInstant(validity.until);
    if ((fromLocal && untilInstant) || (fromInstant && untilLocal)) {
      ctx.addIssue({
        code: 'custom',
        path: ['until'],
        message: 'must be of the same kind as from: both instants with an offset, or both store-local',
        input: validity.until,
      });
      return;
    }
    if (fromInstant && untilInstant && Date.parse(validity.until) <= Date.parse(validity.from)) {
      ctx.addIssue({
        code: 'custom',
        path: ['until'],
        message: `the window ends (${validity.until}) before it starts (${validity.from})`,
        input: validity.until,
      });
    }
    // Same fixed-width form: text order is time order.
    if (fromLocal && untilLocal && validity.until < validity.from) {
      ctx.addIssue({
        code: 'custom',
        path: ['until'],
        message: `the window ends (${validity.until}) before it starts (${validity.from})`,
        input: validity.until,
      });
    }
    if (validity.timeZone !== undefined && fromInstant && untilInstant && validity.weekly === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeZone'],
        message: 'only store-local times are read in a time zone, and this validity has none',
        input: validity.timeZone,
      });
    }
  });

const skuList = z.array(identifier('sku', 64)).max(MAX_LIST, { error: `at most ${MAX_LIST} skus` });
const categoryList = z
  .array(identifier('category', 64))
  .max(MAX_LIST, { error: `at most ${MAX_LIST} categories` });

/** What a promotion covers: every item, or the listed skus and categories. */
export const itemSetSchema = z
  .strictObject({
    all: z.literal(true).optional(),
    skus: skuList.optional(),
    categories: categoryList.optional(),
  })
  .superRefine((items, ctx) => {
    const listed = (items.skus?.length ?? 0) + (items.categories?.length ?? 0);
    if (items.all === true && listed > 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'either all: true or a list of skus and categories, not both',
        input: items,
      });
    } else if (items.all !== true && listed === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'the item set is empty: give skus, categories, or all: true',
        input: items,
      });
    }
  });

export const exclusionsSchema = z.strictObject({
  skus: skuList.optional(),
  categories: categoryList.optional(),
});

/** Which stores a promotion is for: every store, or the listed regions and store ids (either matches). */
export const targetSchema = z
  .strictObject({
    all: z.literal(true).optional(),
    regions: z.array(identifier('region')).max(MAX_LIST).optional(),
    storeIds: z.array(identifier('storeId')).max(MAX_LIST).optional(),
  })
  .superRefine((target, ctx) => {
    const listed = (target.regions?.length ?? 0) + (target.storeIds?.length ?? 0);
    if (target.all === true && listed > 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'either all: true or lists of regions and storeIds, not both',
        input: target,
      });
    } else if (target.all !== true && listed === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'targets no store: give all: true, regions or storeIds',
        input: target,
      });
    }
  });

export const percentOffRuleSchema = z.strictObject({
  kind: z.literal('percent-off'),
  percent: percentSchema,
});

/** Money off each unit (each kilogram for weighed goods), never below zero. */
export const amountOffRuleSchema = z.strictObject({
  kind: z.literal('amount-off'),
  amount: positiveMinorUnits,
});

/** Each unit (kilogram) sells at `price`; a line already cheaper is left alone. */
export const fixedPriceRuleSchema = z.strictObject({
  kind: z.literal('fixed-price'),
  price: priceMinorUnits,
});

/** For every `buy` + `get` whole units, the `get` cheapest are `percent` off (free when percent is absent). */
export const buyXGetYRuleSchema = z.strictObject({
  kind: z.literal('buy-x-get-y'),
  buy: count('buy', 1, 1000),
  get: count('get', 1, 1000),
  percent: percentSchema.optional(),
});

/** Any `quantity` whole units for `price` together. */
export const bundlePriceRuleSchema = z.strictObject({
  kind: z.literal('bundle-price'),
  quantity: count('quantity', 2, 1000),
  price: positiveMinorUnits,
});

/** Spend `spend` on the items (after line promotions) and get `amountOff` or `percentOff` off them. */
export const thresholdRuleSchema = z
  .strictObject({
    kind: z.literal('threshold'),
    spend: positiveMinorUnits,
    amountOff: positiveMinorUnits.optional(),
    percentOff: percentSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    if ((rule.amountOff === undefined) === (rule.percentOff === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of amountOff and percentOff',
        input: rule,
      });
    }
    if (rule.amountOff !== undefined && rule.amountOff > rule.spend) {
      ctx.addIssue({
        code: 'custom',
        path: ['amountOff'],
        message: `is ${rule.amountOff}, more than the spend of ${rule.spend} that earns it`,
        input: rule.amountOff,
      });
    }
  });

export const ruleSchema = z.discriminatedUnion(
  'kind',
  [
    percentOffRuleSchema,
    amountOffRuleSchema,
    fixedPriceRuleSchema,
    buyXGetYRuleSchema,
    bundlePriceRuleSchema,
    thresholdRuleSchema,
  ],
  {
    error: 'kind must be one of percent-off, amount-off, fixed-price, buy-x-get-y, bundle-price, threshold',
  },
);

export const PROMOTION_STATES = ['staged', 'active', 'withdrawn'] as const;
export const CONCURRENCY_MODES = ['exclusive', 'best-price', 'compounded'] as const;

/** Priorities run 0 (the default) to 1000; higher picks first. */
export const MAX_PRIORITY = 1000;

const ruleUsesMoney = (rule: z.infer<typeof ruleSchema>): boolean =>
  rule.kind === 'amount-off' ||
  rule.kind === 'fixed-price' ||
  rule.kind === 'bundle-price' ||
  rule.kind === 'threshold';

export const promotionDocumentSchema = z
  .strictObject({
    v: z.literal(PROMOTION_SCHEMA_VERSION, {
      error: `must be ${PROMOTION_SCHEMA_VERSION} (the promotion schema version)`,
    }),
    promotionId: identifier('promotionId', 128),
    /** Every change is a new version, higher than the last; a store never takes an older or equal one. */
    version: z
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .positive({ error: 'must be 1 or more' })
      .max(Number.MAX_SAFE_INTEGER),
    name: text('name', 120),
    description: text('description', 1000).optional(),
    /** staged: delivered and held but in force nowhere until a later `active` version; withdrawn: over. */
    state: z.enum(PROMOTION_STATES, { error: `must be one of ${PROMOTION_STATES.join(', ')}` }),
    /** Required when the rule or minimumBasket names money; a promotion never prices a basket in another currency. */
    currency: currencyCode.optional(),
    target: targetSchema,
    validity: validitySchema,
    rule: ruleSchema,
    items: itemSetSchema,
    exclusions: exclusionsSchema.optional(),
    concurrency: z.enum(CONCURRENCY_MODES, { error: `must be one of ${CONCURRENCY_MODES.join(', ')}` }),
    priority: count('priority', 0, MAX_PRIORITY).optional(),
    /** The basket's gross (before any discount) must reach this for the promotion to apply. */
    minimumBasket: positiveMinorUnits.optional(),
  })
  .superRefine((doc, ctx) => {
    if (doc.currency === undefined && (ruleUsesMoney(doc.rule) || doc.minimumBasket !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['currency'],
        message: 'is required: this promotion names an amount of money',
        input: doc.currency,
      });
    }
    const excludedSkus = new Set(doc.exclusions?.skus ?? []);
    const excludedCategories = new Set(doc.exclusions?.categories ?? []);
    const listed = [...(doc.items.skus ?? []), ...(doc.items.categories ?? [])];
    if (
      listed.length > 0 &&
      (doc.items.skus ?? []).every((sku) => excludedSkus.has(sku)) &&
      (doc.items.categories ?? []).every((category) => excludedCategories.has(category))
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['exclusions'],
        message: 'excludes every item the promotion lists, so it covers nothing',
        input: doc.exclusions,
      });
    }
  });

export type PromotionDocument = z.infer<typeof promotionDocumentSchema>;
export type PromotionRule = z.infer<typeof ruleSchema>;
export type PromotionTarget = z.infer<typeof targetSchema>;
export type PromotionValidity = z.infer<typeof validitySchema>;
export type WeeklyWindow = z.infer<typeof weeklyWindowSchema>;
export type Weekday = (typeof WEEKDAYS)[number];
export type PromotionState = (typeof PROMOTION_STATES)[number];
export type ConcurrencyMode = (typeof CONCURRENCY_MODES)[number];

export const SIGNATURE_ALGORITHM = 'Ed25519';

/** A key id is derived from the public key itself (a digest prefix), so it cannot claim another key. */
export const keyIdSchema = z
  .string({ error: 'must be a key id' })
  .regex(/^[A-Za-z0-9_-]{22}$/, { error: 'must be a key id: 22 base64url characters' });

export const promotionSignatureSchema = z.strictObject({
  keyId: keyIdSchema,
  algorithm: z.literal(SIGNATURE_ALGORITHM, { error: `must be "${SIGNATURE_ALGORITHM}"` }),
  /** 64 bytes, base64. */
  signature: z
    .string({ error: 'must be a base64 signature' })
    .regex(/^[A-Za-z0-9+/]{86}==$/, { error: 'must be a 64-byte Ed25519 signature in base64' }),
});

/** A promotion version as it travels from hub to store: the document and the hub's signature over it. */
export const signedPromotionSchema = z.strictObject({
  document: promotionDocumentSchema,
  signature: promotionSignatureSchema,
});

export type PromotionSignature = z.infer<typeof promotionSignatureSchema>;
export type SignedPromotion = z.infer<typeof signedPromotionSchema>;

/** Why a store refused a promotion version; carried in promotion-refused events and shown in the status. */
export const PROMOTION_REFUSAL_REASONS = [
  'unsigned',
  'malformed',
  'unknown-key',
  'bad-signature',
  'not-targeted',
  'stale-version',
  'already-held',
  'version-conflict',
] as const;
export const promotionRefusalReasonSchema = z.enum(PROMOTION_REFUSAL_REASONS);
export type PromotionRefusalReason = (typeof PROMOTION_REFUSAL_REASONS)[number];

const promotionVersion = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * What a store states about the promotions it holds that are live for it (staged or active, and targeted
 * at it), so a hub can re-offer exactly what is missing without relying on the broker. `count` and
 * `digest` alone are enough to see that nothing is missing; `versions` says what is.
 */
export const catalogueStatementSchema = z.strictObject({
  count: z.number().int().nonnegative(),
  digest: z.string().regex(/^[A-Za-z0-9_-]{43}$/, { error: 'must be a SHA-256 digest in base64url' }),
  versions: z.record(identifier('promotionId', 128), promotionVersion).optional(),
});
export type CatalogueStatement = z.infer<typeof catalogueStatementSchema>;

/** One line of a basket to price. Taxes are the POS's business after pricing; see docs/promotions.md. */
export const basketLineSchema = z.strictObject({
  lineNo: lineSchema.shape.lineNo.optional(),
  sku: lineSchema.shape.sku,
  category: identifier('category', 64).optional(),
  description: lineSchema.shape.description,
  quantity: lineSchema.shape.quantity,
  unitPrice: lineSchema.shape.unitPrice,
});

export const MAX_BASKET_LINES = 1000;

export const basketSchema = z
  .strictObject({
    currency: currencyCode,
    lines: z
      .array(basketLineSchema)
      .min(1, { error: 'a basket needs at least one line' })
      .max(MAX_BASKET_LINES, { error: `at most ${MAX_BASKET_LINES} lines` }),
    /** The instant to price at (defaults to now on the agent). */
    at: z.iso
      .datetime({
        offset: true,
        error: 'must be an ISO-8601 timestamp with an offset, e.g. 2026-11-23T14:05:00+01:00',
      })
      .optional(),
  })
  .superRefine((basket, ctx) => {
    const numbered = basket.lines.filter((line) => line.lineNo !== undefined).length;
    if (numbered !== 0 && numbered !== basket.lines.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['lines'],
        message: 'give lineNo on every line or on none',
        input: basket.lines,
      });
    }
    const seen = new Set<number>();
    let gross = 0;
    basket.lines.forEach((line, i) => {
      const amount = lineAmount(line.quantity, line.unitPrice);
      gross += amount;
      // The priced lines must still be valid transaction lines.
      if (amount > MAX_MINOR_UNITS) {
        ctx.addIssue({
          code: 'custom',
          path: ['lines', i],
          message: `quantity × unitPrice = ${amount}, more than ${MAX_MINOR_UNITS} minor units`,
          input: line,
        });
      }
      if (line.lineNo === undefined) return;
      if (seen.has(line.lineNo)) {
        ctx.addIssue({
          code: 'custom',
          path: ['lines', i, 'lineNo'],
          message: `lineNo ${line.lineNo} appears twice`,
          input: line.lineNo,
        });
      }
      seen.add(line.lineNo);
    });
    if (gross > MAX_MINOR_UNITS) {
      ctx.addIssue({
        code: 'custom',
        path: ['lines'],
        message: `the lines add up to ${gross}, more than ${MAX_MINOR_UNITS} minor units`,
        input: basket.lines,
      });
    }
  });

export type BasketLine = z.infer<typeof basketLineSchema>;
export type Basket = z.infer<typeof basketSchema>;

export const appliedPromotionSchema = z.strictObject({
  promotionId: identifier('promotionId', 128),
  version: promotionVersion,
  name: z.string(),
  kind: z.enum(['percent-off', 'amount-off', 'fixed-price', 'buy-x-get-y', 'bundle-price', 'threshold']),
  concurrency: z.enum(CONCURRENCY_MODES),
  priority: z.number().int(),
  /** The whole discount this promotion gave, in minor units: the sum of its line discounts. */
  amount: minorUnits,
  lineNos: z.array(z.number().int().positive()),
});

/** A priced basket: lines and totals in the very shape a transaction carries them (taxes left to the POS). */
export const pricedBasketSchema = z.strictObject({
  currency: currencyCode,
  lines: z.array(lineSchema),
  totals: totalsSchema,
  promotions: z.array(appliedPromotionSchema),
});

export type AppliedPromotion = z.infer<typeof appliedPromotionSchema>;
export type PricedBasket = z.infer<typeof pricedBasketSchema>;
