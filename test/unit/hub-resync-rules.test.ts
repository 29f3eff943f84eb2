import { describe, expect, it } from 'vitest';
import {
  decideResend,
  rangeSize,
  reportedLoss,
  splitGaps,
  unrecoverableRange,
  type ResendRequestFacts,
} from '../../src/hub/resend-rules.js';

const NOW = 1_000_000;
const asked = (over: Partial<ResendRequestFacts> = {}): ResendRequestFacts => ({
  fromSeq: 101,
  requestId: 'r-1',
  lastAskedAt: NOW - 1_000,
  asks: 1,
  reportedAt: null,
  availableFrom: null,
  storeThrough: null,
  ...over,
});

describe('deciding whether to ask a store to send again', () => {
  it('asks nothing while the hub holds what the store says was acknowledged', () => {
    expect(
      decideResend({
        ackedThrough: 100,
        heldThrough: 100,
        request: undefined,
        now: NOW,
        reaskAfterMs: 60_000,
      }),
    ).toEqual({
      action: 'none',
    });
    expect(
      decideResend({ ackedThrough: 90, heldThrough: 100, request: undefined, now: NOW, reaskAfterMs: 60_000 })
        .action,
    ).toBe('none');
  });

  it('asks from what it holds contiguously + 1 when the store is ahead', () => {
    expect(
      decideResend({
        ackedThrough: 250,
        heldThrough: 100,
        request: undefined,
        now: NOW,
        reaskAfterMs: 60_000,
      }),
    ).toEqual({
      action: 'ask',
      fromSeq: 101,
    });
  });

  it('waits while an ask is recent or freshly answered, and asks again once nothing came past the bound', () => {
    const facts = { ackedThrough: 250, heldThrough: 100, now: NOW, reaskAfterMs: 60_000 };
    expect(decideResend({ ...facts, request: asked() }).action).toBe('wait');
    expect(decideResend({ ...facts, request: asked({ lastAskedAt: NOW - 60_000 }) })).toMatchObject({
      action: 'reask',
      fromSeq: 101,
    });
    expect(
      decideResend({
        ...facts,
        request: asked({ lastAskedAt: 0, reportedAt: NOW - 5, availableFrom: 150, storeThrough: 250 }),
      }).action,
    ).toBe('wait');
    // It said it had them all, yet they never came (a hub stopped while they arrived): asked again.
    expect(
      decideResend({
        ...facts,
        request: asked({ lastAskedAt: 0, reportedAt: NOW - 60_000, availableFrom: 101, storeThrough: 250 }),
      }),
    ).toMatchObject({ action: 'reask', fromSeq: 101 });
  });
});

describe('what a store no longer had', () => {
  it('is fromSeq up to the first seq it still had, bounded by its last seq', () => {
    const answer = { fromSeq: 101, reportedAt: NOW, storeThrough: 250 };
    expect(unrecoverableRange({ ...answer, availableFrom: 101 })).toBeNull();
    expect(unrecoverableRange({ ...answer, availableFrom: 150 })).toEqual({ from: 101, to: 149 });
    // It had none of them any more.
    expect(unrecoverableRange({ ...answer, availableFrom: 251 })).toEqual({ from: 101, to: 250 });
    expect(unrecoverableRange({ ...answer, availableFrom: null, reportedAt: null })).toBeNull();
  });

  it('is told apart from gaps still in flight, including lost seqs above the highest one held', () => {
    expect(
      splitGaps(
        [
          { from: 101, to: 160 },
          { from: 200, to: 210 },
        ],
        [{ from: 101, to: 149 }],
        300,
      ),
    ).toEqual({
      gaps: [
        { from: 150, to: 160 },
        { from: 200, to: 210 },
      ],
      unrecoverable: [{ from: 101, to: 149 }],
    });
    // Nothing held above 100, and the store had none of 101–250: no gap, but 150 seqs lost.
    const beyond = splitGaps([], [{ from: 101, to: 250 }], 100);
    expect(beyond).toEqual({ gaps: [], unrecoverable: [{ from: 101, to: 250 }] });
    expect(rangeSize(beyond.unrecoverable)).toBe(150);
  });
});

describe('what a store answer adds to the losses', () => {
  it('counts only the seqs the hub does not hold contiguously already', () => {
    // An operator asked from seq 1 while the hub held through 80; the store had pruned up to 59.
    expect(reportedLoss({ fromSeq: 1, availableFrom: 60, through: 120 }, 80, NOW)).toBeNull();
    expect(reportedLoss({ fromSeq: 1, availableFrom: 60, through: 120 }, 40, NOW)).toEqual({
      from: 41,
      to: 59,
    });
    expect(reportedLoss({ fromSeq: 41, availableFrom: 60, through: 120 }, 40, NOW)).toEqual({
      from: 41,
      to: 59,
    });
    expect(reportedLoss({ fromSeq: 41, availableFrom: 41, through: 120 }, 40, NOW)).toBeNull();
  });
});
