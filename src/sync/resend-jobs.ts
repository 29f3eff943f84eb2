import type { BatchKey } from './ack-rules.js';

/**
 * The store's side of a resync (docs/protocol.md, "Resync"), as pure bookkeeping: head office lost events
 * it had acknowledged and asks for an epoch again from a seq. The store publishes, as ordinary batches,
 * every event of that epoch from there that it still holds (nothing changes here: the events keep their
 * state), then answers with what it had. The sync engine does the reading and publishing; these rules say
 * which job goes next, when one is done, and what a repeated or an extra command does.
 */

/** Resends handled at once; a command beyond that is dropped (head office asks again after its bound). */
export const MAX_RESEND_JOBS = 4;

export interface ResendJob {
  requestId: string;
  epoch: string;
  fromSeq: number;
  /** What is still held (read when the job starts): from `availableFrom` through `through`. */
  availableFrom: number;
  through: number;
  /** The last seq published so far (availableFrom − 1 before the first batch). */
  cursor: number;
  /** Every held event after the cursor has been read: nothing left to publish. */
  readAll: boolean;
  /** Batches published and not yet acknowledged. */
  outstanding: BatchKey[];
}

export type ResendAdmission =
  | { action: 'start' }
  /** The same request is being handled: its answer follows when it is done. */
  | { action: 'running' }
  | { action: 'busy' };

/** What to do with a `resend` command, given the jobs under way. */
export function admitResend(jobs: readonly ResendJob[], requestId: string): ResendAdmission {
  if (jobs.some((j) => j.requestId === requestId)) return { action: 'running' };
  if (jobs.length >= MAX_RESEND_JOBS) return { action: 'busy' };
  return { action: 'start' };
}

/** A job about to publish what is held from `availableFrom` (above `through`: nothing, answered at once). */
export function newResendJob(
  command: { requestId: string; epoch: string; fromSeq: number },
  bounds: { availableFrom: number; through: number },
): ResendJob {
  return {
    requestId: command.requestId,
    epoch: command.epoch,
    fromSeq: command.fromSeq,
    availableFrom: bounds.availableFrom,
    through: bounds.through,
    cursor: bounds.availableFrom - 1,
    readAll: bounds.availableFrom > bounds.through,
    outstanding: [],
  };
}

/**
 * Publishing starts again from the outbox (a reconnection, an acknowledgement too late): whatever was in
 * flight may be lost, so every job starts again from its first held seq. Re-sending is harmless: head
 * office takes a seq it holds with the same body as a redelivery.
 */
export function restartResends(jobs: readonly ResendJob[]): ResendJob[] {
  return jobs.map((j) => ({
    ...j,
    cursor: j.availableFrom - 1,
    readAll: j.availableFrom > j.through,
    outstanding: [],
  }));
}

/** The job whose next batch goes out, if resend batches may take another place in the window. */
export function nextResendJob(
  jobs: readonly ResendJob[],
  inFlight: number,
  cap: number,
): ResendJob | undefined {
  if (inFlight >= cap) return undefined;
  return jobs.find((j) => !j.readAll);
}

/** How many of the in-flight window's places resends may hold: live delivery keeps the rest. */
export const resendCap = (maxInFlight: number) => Math.max(1, Math.floor(maxInFlight / 2));

/** Acknowledged: the batch no longer holds any job back. */
export function resendBatchAcked(jobs: readonly ResendJob[], key: BatchKey): ResendJob[] {
  return jobs.map((j) =>
    j.epoch !== key.epoch
      ? j
      : {
          ...j,
          outstanding: j.outstanding.filter((b) => b.firstSeq !== key.firstSeq || b.lastSeq !== key.lastSeq),
        },
  );
}

/** Everything held was published and acknowledged: time for the answer. */
export const resendDone = (job: ResendJob) => job.readAll && job.outstanding.length === 0;
