import { describe, expect, it } from 'vitest';
import { IngestHealth } from '../../src/hub/ingest-health.js';

/** A clock whose wall time can be stepped back while monotonic time only moves forward. */
function fakeClock() {
  let mono = 1_000;
  let wall = Date.parse('2026-11-23T10:00:00Z');
  return {
    now: () => wall,
    monotonic: () => mono,
    advance(ms: number) {
      mono += ms;
      wall += ms;
    },
    stepWallBack(ms: number) {
      wall -= ms;
    },
  };
}

describe('IngestHealth', () => {
  it('turns unhealthy while a commit waits past the bound, naming store, epoch, seqs and what it waits for', () => {
    const clock = fakeClock();
    const health = new IngestHealth(clock, { stuckAfterMs: 5_000, failureHoldMs: 60_000 });
    const attempt = health.begin('S1', 'aaaabbbbccccdddd', 'seqs 1–20');
    attempt.phase('the store epoch lock');
    clock.advance(4_000);
    expect(health.problems()).toEqual([]);
    clock.advance(2_000);
    expect(health.problems()).toEqual([
      'store S1 epoch aaaabbbbccccdddd: storing seqs 1–20 has waited 6.0 s for the store epoch lock (bound 5.0 s)',
    ]);
    attempt.succeeded();
    expect(health.problems()).toEqual([]);
  });

  it('stays unhealthy after a failure until a commit of that store epoch succeeds, or the hold runs out', () => {
    const clock = fakeClock();
    const health = new IngestHealth(clock, { stuckAfterMs: 5_000, failureHoldMs: 60_000 });
    health
      .begin('S1', 'aaaabbbbccccdddd', 'seqs 1–20')
      .failed('waited longer than db.lockTimeoutMs for a lock');
    clock.advance(1_000);
    expect(health.problems()).toEqual([
      'store S1 epoch aaaabbbbccccdddd: storing seqs 1–20 failed 1.0 s ago (waited longer than db.lockTimeoutMs for a lock); the store will publish it again',
    ]);
    // Another store's success changes nothing; the same store epoch's does.
    health.begin('S2', 'aaaabbbbccccdddd', 'seq 1').succeeded();
    expect(health.problems()).toHaveLength(1);
    health.begin('S1', 'aaaabbbbccccdddd', 'seqs 1–20').succeeded();
    expect(health.problems()).toEqual([]);

    health.begin('S1', 'aaaabbbbccccdddd', 'seq 21').failed('boom');
    clock.advance(61_000);
    expect(health.problems()).toEqual([]);
  });

  it('measures waits on the monotonic clock: a wall clock stepped back an hour changes nothing', () => {
    const clock = fakeClock();
    const health = new IngestHealth(clock, { stuckAfterMs: 5_000, failureHoldMs: 60_000 });
    health.begin('S1', 'aaaabbbbccccdddd', 'seq 1');
    clock.stepWallBack(3_600_000);
    clock.advance(6_000);
    expect(health.problems()).toHaveLength(1);
  });
});
