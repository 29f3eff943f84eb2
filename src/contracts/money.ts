import { z } from 'zod';

/**
 * Money is always an integer count of the currency's minor unit (cents, pence, yen).
 * The ceiling keeps every sum of a few thousand amounts inside Number.MAX_SAFE_INTEGER,
 * so totals can be checked with plain integer arithmetic and never lose a unit.
 */
export const MAX_MINOR_UNITS = 1_000_000_000_000; // 10 billion in major units

export const minorUnits = z
  .number({ error: 'must be a number of minor units (an integer, e.g. 1999 for 19.99)' })
  .int({ error: 'must be a whole number of minor units (e.g. 1999 for 19.99), not a fraction' })
  .nonnegative({ error: 'must not be negative: the transaction type gives the direction' })
  .max(MAX_MINOR_UNITS, { error: `must be at most ${MAX_MINOR_UNITS} minor units` });

const isoCurrencies: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export const currencyCode = z
  .string({ error: 'must be an ISO 4217 currency code such as "EUR"' })
  .regex(/^[A-Z]{3}$/, { error: 'must be three upper-case letters (ISO 4217), e.g. "EUR"' })
  .refine((code) => isoCurrencies.has(code), {
    error: (iss) => `unknown ISO 4217 currency "${String(iss.input)}"`,
  });

/** Quantities may carry up to three decimals (weighed goods); they are compared in thousandths. */
export const QUANTITY_SCALE = 1000;

export function quantityInThousandths(quantity: number): number {
  return Math.round(quantity * QUANTITY_SCALE);
}

export function hasAtMostThreeDecimals(quantity: number): boolean {
  const scaled = quantity * QUANTITY_SCALE;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

/**
 * quantity × unitPrice rounded half away from zero to the minor unit. BigInt keeps the product exact:
 * thousandths × minor units can exceed 2^53 for large weighed lines.
 */
export function lineAmount(quantity: number, unitPrice: number): number {
  const product = BigInt(quantityInThousandths(quantity)) * BigInt(unitPrice);
  const scale = BigInt(QUANTITY_SCALE);
  return Number((product * 2n + scale) / (scale * 2n));
}
