/**
 * The integer arithmetic every till must do the same way. One rounding rule: a share of an amount is
 * rounded half up to the minor unit (amounts are never negative, so half up is half away from zero, the
 * rule of a transaction's line amounts). A discount spread over several lines is split by largest
 * remainder, so the parts always add up to the whole and never exceed what each line can carry.
 */

const SAFE = Number.MAX_SAFE_INTEGER;

/** amount × numerator / denominator, rounded half up; exact for any amounts (BigInt past 2^53). */
export function roundedShare(amount: number, numerator: number, denominator: number): number {
  if (amount * numerator * 2 + denominator <= SAFE) {
    return Math.floor((amount * numerator * 2 + denominator) / (denominator * 2));
  }
  const d = BigInt(denominator);
  return Number((BigInt(amount) * BigInt(numerator) * 2n + d) / (d * 2n));
}

/** A percentage with up to two decimals, in hundredths of a percent (12.5 → 1250), out of 10000. */
export function percentInBasisPoints(percent: number): number {
  return Math.round(percent * 100);
}

export interface Weighted {
  /** Deterministic tie-break among equal remainders: lower comes first. */
  key: number;
  weight: number;
}

/**
 * Splits `total` over the weights in proportion, by largest remainder (Hamilton): each part is first
 * rounded down, then the units left go one each to the largest remainders, ties to the lower key. With
 * total ≤ Σ weights no part exceeds its weight; the parts always sum to `total` exactly.
 */
export function allocate(total: number, weights: readonly Weighted[]): number[] {
  const sum = weights.reduce((acc, w) => acc + w.weight, 0);
  if (total <= 0 || sum <= 0) return weights.map(() => 0);
  if (total > sum) throw new RangeError(`cannot allocate ${total} over weights that sum to ${sum}`);
  const exact = total * sum <= SAFE;
  const parts: number[] = [];
  const remainders: { i: number; remainder: number | bigint; key: number }[] = [];
  let given = 0;
  weights.forEach((w, i) => {
    let base: number;
    let remainder: number | bigint;
    if (exact) {
      base = Math.floor((total * w.weight) / sum);
      remainder = total * w.weight - base * sum;
    } else {
      const product = BigInt(total) * BigInt(w.weight);
      base = Number(product / BigInt(sum));
      remainder = product % BigInt(sum);
    }
    parts.push(base);
    given += base;
    remainders.push({ i, remainder, key: w.key });
  });
  remainders.sort((a, b) => (a.remainder > b.remainder ? -1 : a.remainder < b.remainder ? 1 : a.key - b.key));
  for (let k = 0; k < total - given; k++) {
    const target = remainders[k];
    if (target !== undefined) parts[target.i] = (parts[target.i] ?? 0) + 1;
  }
  return parts;
}
