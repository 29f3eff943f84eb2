import { describe, expect, it } from 'vitest';
import type { BatchAck, CloseAck } from '../../src/contracts/sync-messages.js';
import {
  decideBatchAck,
  decideCloseAck,
  ackTimedOut,
  MAX_ACK_BACKOFFS,
  overdue,
  retireBatch,
  retireClose,
  type InFlight,
  type InFlightBatch,
} from '../../src/sync/ack-rules.js';
import { decideSizeRefusal } from '../../src/sync/message-size-policy.js';

const E = 'aaaabbbbccccdddd';
const F = '1111222233334444';

const inFlight = (firstSeq: number, lastSeq: number, extra: Partial<InFlightBatch> = {}): InFlightBatch => ({
  kind: 'batch',
  epoch: E,
  firstSeq,
  lastSeq,
  lastEventId: `event-${lastSeq}`,
  count: lastSeq - firstSeq + 1,
  bytes: 1000 * (lastSeq - firstSeq + 1),
  sentAt: 0,
  brokerAccepted: false,
  ...extra,
});

const ack = (over: Partial<BatchAck> & Pick<BatchAck, 'batch'>): BatchAck => ({
  v: 1,
  kind: 'batch',
  epoch: E,
  ackedThrough: over.batch.lastSeq,
  highestSeq: over.batch.lastSeq,
  rejected: [],
  conflicts: [],
  ...over,
});

describe('the in-flight window', () => {
  it('retires exactly the batch an acknowledgement names: a late answer to an old batch never retires a newer one', () => {
    // Seq 1 went alone, then 2..3; after a timeout, 1..3 went again as one batch.
    const window: InFlight[] = [inFlight(1, 3)];
    // The late answer to the old 2..3 ends at the same seq as the batch in flight.
    expect(retireBatch(window, { epoch: E, firstSeq: 2, lastSeq: 3 })).toEqual(window);
    expect(retireBatch(window, { epoch: F, firstSeq: 1, lastSeq: 3 })).toEqual(window);
    expect(retireBatch(window, { epoch: E, firstSeq: 1, lastSeq: 3 })).toEqual([]);
  });

  it('keeps close parts apart from batches, and tells one close from another writer’s', () => {
    const close: InFlight = {
      kind: 'close',
      epoch: E,
      nextEpoch: F,
      part: 1,
      sentAt: 0,
      bytes: 10,
      brokerAccepted: false,
    };
    const window: InFlight[] = [inFlight(1, 2), close];
    expect(retireBatch(window, { epoch: E, firstSeq: 1, lastSeq: 1 })).toEqual(window);
    expect(retireClose(window, { epoch: E, nextEpoch: 'ffffffffffffffff', part: 1 })).toEqual(window);
    expect(retireClose(window, { epoch: E, nextEpoch: F, part: 1 })).toEqual([window[0]]);
  });

  it('finds the oldest message past the timeout, on monotonic time', () => {
    const window: InFlight[] = [inFlight(3, 4, { sentAt: 500 }), inFlight(1, 2, { sentAt: 100 })];
    const patience = { timeoutMs: 1000, timeoutsInARow: 0, lastProgressAt: -Infinity };
    expect(overdue(window, 1099, patience)).toBeUndefined();
    expect(overdue(window, 1100, patience)).toMatchObject({ firstSeq: 1 });
    expect(overdue([], 1_000_000, patience)).toBeUndefined();
  });

  it('waits longer for a hub that answers, and doubles the wait for each timeout in a row', () => {
    const window: InFlight[] = [inFlight(1, 2, { sentAt: 0 })];
    // An acknowledgement retired something at 900: the hub is slow, not gone.
    const answering = { timeoutMs: 1000, timeoutsInARow: 0, lastProgressAt: 900 };
    expect(overdue(window, 1899, answering)).toBeUndefined();
    expect(overdue(window, 1900, answering)).toMatchObject({ firstSeq: 1 });
    // Silent after two timeouts in a row: 4 × the timeout since the batch went out.
    const silent = { timeoutMs: 1000, timeoutsInARow: 2, lastProgressAt: -Infinity };
    expect(overdue(window, 3999, silent)).toBeUndefined();
    expect(overdue(window, 4000, silent)).toMatchObject({ firstSeq: 1 });
    expect(overdue(window, 1_000_000, { ...silent, timeoutsInARow: 50 })).toBeDefined();
    expect(ackTimedOut(0, 7999, { ...silent, timeoutsInARow: 50 })).toBe(false);
    expect(ackTimedOut(0, 8000, { ...silent, timeoutsInARow: 50 })).toBe(true);
  });

  it('sends a message lost on the way again, however many other acknowledgements arrive', () => {
    // Progress every moment (other batches retired), yet this one never answered: 2^MAX × the timeout.
    const busy = (now: number) => ({ timeoutMs: 1000, timeoutsInARow: 0, lastProgressAt: now - 1 });
    expect(ackTimedOut(0, 2 ** MAX_ACK_BACKOFFS * 1000 - 1, busy(2 ** MAX_ACK_BACKOFFS * 1000 - 1))).toBe(
      false,
    );
    expect(ackTimedOut(0, 2 ** MAX_ACK_BACKOFFS * 1000, busy(2 ** MAX_ACK_BACKOFFS * 1000))).toBe(true);
  });
});

describe('a refusal for size', () => {
  it('splits a batch of several events and dead-letters a single one', () => {
    expect(decideSizeRefusal([], inFlight(1, 4, { bytes: 8000 }))).toEqual({
      action: 'split',
      maxBytes: 4000,
    });
    const single = inFlight(5, 5, { bytes: 9000 });
    expect(decideSizeRefusal([], single)).toEqual({ action: 'undeliverable', message: single });
  });

  it('blames the largest message the broker has not confirmed when it does not say which', () => {
    const accepted = inFlight(1, 1, { bytes: 50_000, brokerAccepted: true });
    const big = inFlight(2, 2, { bytes: 40_000 });
    const small = inFlight(3, 6, { bytes: 4000 });
    expect(decideSizeRefusal([accepted, big, small])).toEqual({ action: 'undeliverable', message: big });
    expect(decideSizeRefusal([accepted])).toEqual({ action: 'unknown' });
  });
});

describe('decideBatchAck', () => {
  const facts = { currentEpoch: E, lastSeqOfEpoch: 10, eventIdAtBatchEnd: 'event-6' };

  it('settles only the batch’s own seqs, whatever ackedThrough says', () => {
    const decision = decideBatchAck(
      ack({
        ackedThrough: 10,
        highestSeq: 10,
        batch: { firstSeq: 4, lastSeq: 6, lastEventId: 'event-6' },
        rejected: [{ seq: 5, reason: 'invalid' }],
      }),
      facts,
    );
    expect(decision).toEqual({
      action: 'apply',
      epoch: E,
      firstSeq: 4,
      lastSeq: 6,
      keepPending: [],
      deadLetters: [{ seq: 5, reason: 'invalid' }],
      lastSettledSeq: 6,
      newEpoch: null,
    });
  });

  it('ignores a batch another writer sent under the same epoch, or whose events have moved on', () => {
    const theirs = ack({ batch: { firstSeq: 4, lastSeq: 6, lastEventId: 'someone-else' } });
    expect(decideBatchAck(theirs, facts)).toMatchObject({ action: 'ignore', why: /another writer/ });
    expect(decideBatchAck(theirs, { ...facts, eventIdAtBatchEnd: undefined })).toMatchObject({
      action: 'ignore',
      why: /holds no event/,
    });
  });

  it('starts a new epoch on conflicts, leaving them pending to move', () => {
    const decision = decideBatchAck(
      ack({
        batch: { firstSeq: 4, lastSeq: 6, lastEventId: 'event-6' },
        conflicts: [{ seq: 6, reason: 'different event' }],
      }),
      facts,
    );
    expect(decision).toMatchObject({
      action: 'apply',
      keepPending: [6],
      lastSettledSeq: 5,
      newEpoch: { reason: /different events/ },
    });
  });

  it('starts a new epoch when head office holds seqs beyond the last this database handed out', () => {
    const decision = decideBatchAck(
      ack({ highestSeq: 100, batch: { firstSeq: 4, lastSeq: 6, lastEventId: 'event-6' } }),
      facts,
    );
    expect(decision).toMatchObject({ action: 'apply', newEpoch: { reason: /seq 100.*last seq 10/ } });
  });

  it('starts a new epoch when head office says another writer closed the epoch this database still writes in', () => {
    // A clone closed the epoch and moved on; this PC never got a conflict (none of its seqs collided).
    const decision = decideBatchAck(
      ack({ batch: { firstSeq: 4, lastSeq: 6, lastEventId: 'event-6' }, closedTowards: F }),
      facts,
    );
    expect(decision).toMatchObject({
      action: 'apply',
      keepPending: [],
      lastSettledSeq: 6,
      newEpoch: { reason: /another writer closed epoch aaaabbbbccccdddd \(towards 1111222233334444\)/ },
    });
    // Without the close, nothing changes.
    expect(
      decideBatchAck(ack({ batch: { firstSeq: 4, lastSeq: 6, lastEventId: 'event-6' } }), facts),
    ).toMatchObject({
      newEpoch: null,
    });
  });

  it('never leaves an epoch it has already left because of a late answer about it', () => {
    const decision = decideBatchAck(
      ack({
        highestSeq: 100,
        batch: { firstSeq: 4, lastSeq: 6, lastEventId: 'event-6' },
        conflicts: [{ seq: 6, reason: 'different event' }],
        closedTowards: F,
      }),
      { ...facts, currentEpoch: F },
    );
    expect(decision).toMatchObject({ action: 'apply', newEpoch: null });
  });
});

describe('decideCloseAck', () => {
  const closeAck = (nextEpoch: string, part = 1, parts = 1): CloseAck => ({
    v: 1,
    kind: 'close',
    epoch: E,
    ackedThrough: 90,
    highestSeq: 90,
    close: { nextEpoch, part, parts },
  });

  it('applies only to a close this database sent', () => {
    expect(decideCloseAck(closeAck(F), { nextEpoch: F, parts: 1 })).toEqual({
      action: 'apply',
      epoch: E,
      part: 1,
    });
    expect(decideCloseAck(closeAck(F), undefined)).toMatchObject({ action: 'ignore' });
    expect(decideCloseAck(closeAck('ffffffffffffffff'), { nextEpoch: F, parts: 1 })).toMatchObject({
      action: 'ignore',
    });
    expect(decideCloseAck(closeAck(F, 2, 2), { nextEpoch: F, parts: 1 })).toMatchObject({ action: 'ignore' });
  });
});
