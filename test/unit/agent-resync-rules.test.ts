import { describe, expect, it } from 'vitest';
import type { StoreStatusMessage } from '../../src/contracts/sync-messages.js';
import {
  admitResend,
  MAX_RESEND_JOBS,
  newResendJob,
  nextResendJob,
  resendBatchAcked,
  resendCap,
  resendDone,
  restartResends,
} from '../../src/sync/resend-jobs.js';
import { statusChangeKey } from '../../src/sync/status-changes.js';

/** The store's side of a resync and of its retained status, as pure rules. */

const EPOCH = 'aaaabbbbccccdddd';
const command = (requestId: string, fromSeq = 5) => ({ requestId, epoch: EPOCH, fromSeq });

describe('resends head office asks for', () => {
  it('starts one job per request, answers a repeat through the job under way, and bounds how many run', () => {
    const jobs = [newResendJob(command('a'), { availableFrom: 5, through: 12 })];
    expect(admitResend(jobs, 'a')).toEqual({ action: 'running' });
    expect(admitResend(jobs, 'b')).toEqual({ action: 'start' });
    const full = Array.from({ length: MAX_RESEND_JOBS }, (_, i) =>
      newResendJob(command(`r${i}`), { availableFrom: 1, through: 3 }),
    );
    expect(admitResend(full, 'another')).toEqual({ action: 'busy' });
  });

  it('publishes from the first seq still held, and answers at once when nothing is held', () => {
    expect(newResendJob(command('a', 3), { availableFrom: 7, through: 10 })).toMatchObject({
      cursor: 6,
      readAll: false,
      outstanding: [],
    });
    const nothing = newResendJob(command('b', 3), { availableFrom: 11, through: 10 });
    expect(nothing.readAll).toBe(true);
    expect(resendDone(nothing)).toBe(true);
  });

  it('is done only once everything was read and every batch acknowledged; a restart sends it all again', () => {
    let [job] = [newResendJob(command('a'), { availableFrom: 5, through: 12 })];
    job = {
      ...job!,
      cursor: 12,
      readAll: true,
      outstanding: [
        { epoch: EPOCH, firstSeq: 5, lastSeq: 8 },
        { epoch: EPOCH, firstSeq: 9, lastSeq: 12 },
      ],
    };
    expect(resendDone(job)).toBe(false);
    let jobs = resendBatchAcked([job], { epoch: EPOCH, firstSeq: 5, lastSeq: 8 });
    // An acknowledgement of another epoch's batch with the same seqs retires nothing.
    jobs = resendBatchAcked(jobs, { epoch: 'ffffeeeeddddcccc', firstSeq: 9, lastSeq: 12 });
    expect(resendDone(jobs[0]!)).toBe(false);
    jobs = resendBatchAcked(jobs, { epoch: EPOCH, firstSeq: 9, lastSeq: 12 });
    expect(resendDone(jobs[0]!)).toBe(true);

    const restarted = restartResends([job]);
    expect(restarted[0]).toMatchObject({ cursor: 4, readAll: false, outstanding: [] });
  });

  it('takes at most half the in-flight window, and serves the oldest job with something left to read', () => {
    expect([1, 2, 8, 16].map(resendCap)).toEqual([1, 1, 4, 8]);
    const done = { ...newResendJob(command('a'), { availableFrom: 5, through: 12 }), readAll: true };
    const next = newResendJob(command('b'), { availableFrom: 1, through: 3 });
    expect(nextResendJob([done, next], 3, 4)?.requestId).toBe('b');
    expect(nextResendJob([done, next], 4, 4)).toBeUndefined();
    expect(nextResendJob([done], 0, 4)).toBeUndefined();
  });
});

describe('what makes the retained status go out again at once', () => {
  const base: StoreStatusMessage = {
    v: 1,
    state: 'online',
    at: '2026-11-24T10:00:00.000Z',
    epoch: EPOCH,
    backlog: 3,
    oldestUnsentAt: '2026-11-24T09:59:00.000Z',
    acked: [{ epoch: EPOCH, through: 10 }],
    unsentByDay: [{ businessDay: '2026-11-24', count: 3 }],
  };
  const key = statusChangeKey(base);

  it('ignores counts, ages and how far an epoch is acknowledged: the periodic refresh carries them', () => {
    expect(
      statusChangeKey({
        ...base,
        at: '2026-11-24T10:00:05.000Z',
        backlog: 40,
        oldestUnsentAt: '2026-11-24T09:00:00.000Z',
        acked: [{ epoch: EPOCH, through: 90 }],
        unsentByDay: [{ businessDay: '2026-11-24', count: 40 }],
      }),
    ).toBe(key);
  });

  it('changes when a day appears or leaves, the backlog empties, an epoch changes, or a command is answered', () => {
    const changed: Partial<StoreStatusMessage>[] = [
      { unsentByDay: [...base.unsentByDay!, { businessDay: '2026-11-25', count: 1 }] },
      { backlog: 0, unsentByDay: [] },
      { epoch: 'ffffeeeeddddcccc' },
      { acked: [{ epoch: 'ffffeeeeddddcccc', through: 1 }, ...base.acked!] },
      {
        commands: [
          { requestId: 'r1', kind: 'retry-dead-letter', outcome: 'done', at: '2026-11-24T10:00:00.000Z' },
        ],
      },
    ];
    for (const change of changed) expect(statusChangeKey({ ...base, ...change })).not.toBe(key);
  });
});
