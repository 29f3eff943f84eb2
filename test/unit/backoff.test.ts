import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/lib/backoff.js';

describe('backoffDelay', () => {
  const policy = { initialMs: 500, maxMs: 30_000 };

  it('grows exponentially and never exceeds the cap', () => {
    expect(backoffDelay(0, policy, () => 1)).toBe(500);
    expect(backoffDelay(3, policy, () => 1)).toBe(4000);
    expect(backoffDelay(20, policy, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, policy, () => 1)).toBe(30_000);
  });

  it('spreads reconnects with jitter, never below half the initial delay', () => {
    expect(backoffDelay(10, policy, () => 0)).toBe(250);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6, policy)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(250);
  });
});
