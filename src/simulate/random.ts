/**
 * A seeded pseudo-random source for the simulator's pure core. Generated traffic must be repeatable
 * from a seed (a failing run can be replayed), so nothing here touches Math.random or the clock.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/**
 * mulberry32: 32 bits of state, a few integer operations per draw, and good enough statistics for
 * shaping shopping baskets. Not for anything secret.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/**
 * Derives independent seeds from one run seed (splitmix32 finaliser), so each till gets its own
 * stream: what one till sells does not depend on how fast another till's requests come back.
 */
export function deriveSeed(seed: number, stream: number): number {
  let z = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** An integer in [min, max], both inclusive. */
export function intBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random.next() * (max - min + 1));
}

export function chance(random: Random, probability: number): boolean {
  return random.next() < probability;
}

export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('cannot pick from an empty list');
  return items[Math.floor(random.next() * items.length)]!;
}

/** Picks by relative weight; weights need not add up to 1. */
export function weighted<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  const totalWeight = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random.next() * totalWeight;
  for (const [value, weight] of choices) {
    roll -= weight;
    if (roll < 0) return value;
  }
  const last = choices[choices.length - 1];
  if (!last) throw new RangeError('cannot pick from an empty list');
  return last[0];
}

/** A fixed-length string of upper-case letters and digits, e.g. for card authorisation codes. */
export function code(random: Random, length: number): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[Math.floor(random.next() * alphabet.length)];
  return out;
}
