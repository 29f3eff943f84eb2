import type { BatchAck, CloseAck } from '../contracts/sync-messages.js';

/**
 * The agent's acknowledgement rules, over plain data: which published messages are still in flight,
 * and what an acknowledgement does to the outbox. Pure, so the rules are unit-tested without SQLite or
 * MQTT; the outbox reads the facts and applies the decision in one transaction (outbox-acks.ts), and the
 * sync engine keeps the window.
 */

export interface SeqReason {
  seq: number;
  reason: string;
}

/** A batch is known by its epoch and seq range: a late answer to another range can never retire it. */
export interface BatchKey {
  epoch: string;
  firstSeq: number;
  lastSeq: number;
}

/** A close part is known by the epoch it closes, the epoch it moved to, and its number. */
export interface CloseKey {
  epoch: string;
  nextEpoch: string;
  part: number;
}

export interface InFlightBatch extends BatchKey {
  kind: 'batch';
  /** Monotonic milliseconds (Clock.monotonic) when it was published. */
  sentAt: number;
  /** The eventId at lastSeq: a batch of one event is that event. */
  lastEventId: string;
  count: number;
  /** Size of the MQTT payload. */
  bytes: number;
  /** The broker confirmed it (PUBACK): it cannot be the message a broker refuses for its size. */
  brokerAccepted: boolean;
  /** Set for a batch published again at head office's request (the resend's requestId). */
  resendOf?: string;
}

export interface InFlightClose extends CloseKey {
  kind: 'close';
  sentAt: number;
  bytes: number;
  brokerAccepted: boolean;
}

export type InFlight = InFlightBatch | InFlightClose;

const sameBatch = (a: BatchKey, b: BatchKey) =>
  a.epoch === b.epoch && a.firstSeq === b.firstSeq && a.lastSeq === b.lastSeq;
const sameClose = (a: CloseKey, b: CloseKey) =>
  a.epoch === b.epoch && a.nextEpoch === b.nextEpoch && a.part === b.part;

/** The window without the batch an acknowledgement names (and only that one). */
export function retireBatch(window: readonly InFlight[], key: BatchKey): InFlight[] {
  return window.filter((f) => f.kind !== 'batch' || !sameBatch(f, key));
}

export function retireClose(window: readonly InFlight[], key: CloseKey): InFlight[] {
  return window.filter((f) => f.kind !== 'close' || !sameClose(f, key));
}

/** Doublings of the ack timeout at most: the default 10 s grows to 80 s while head office stays silent. */
export const MAX_ACK_BACKOFFS = 3;

/** What the ack-timeout decision needs besides the window, kept by the sender (monotonic times). */
export interface AckPatience {
  /** The configured ack timeout (`sync.ackTimeoutMs`). */
  timeoutMs: number;
  /** Timeouts since an acknowledgement last retired a message. */
  timeoutsInARow: number;
  /** When an acknowledgement last retired a message; -Infinity before the first. */
  lastProgressAt: number;
}

/**
 * Whether the oldest message in flight, sent at `sentAt`, has waited too long: everything unacknowledged
 * is then published again. A hub that answers is slow, not gone (hundreds of stores replaying at once
 * after a regional outage queue behind each other for longer than the timeout): the wait counts from the
 * last acknowledgement that retired something, and doubles with each timeout in a row, so such a storm
 * gets a store's backlog a few times at most rather than once per timeout. A message lost on the way
 * (a hub that stopped with it) is still published again after at most 2^MAX_ACK_BACKOFFS timeouts,
 * however many acknowledgements of other messages arrive meanwhile. `now` is monotonic time, so
 * stepping the PC's clock changes nothing.
 */
export function ackTimedOut(sentAt: number, now: number, patience: AckPatience): boolean {
  const quietFor = now - Math.max(sentAt, patience.lastProgressAt);
  const allowed = patience.timeoutMs * 2 ** Math.min(patience.timeoutsInARow, MAX_ACK_BACKOFFS);
  return quietFor >= allowed || now - sentAt >= patience.timeoutMs * 2 ** MAX_ACK_BACKOFFS;
}

/** The oldest message in flight, when it has waited too long (ackTimedOut). */
export function overdue(
  window: readonly InFlight[],
  now: number,
  patience: AckPatience,
): InFlight | undefined {
  const oldest = window.reduce<InFlight | undefined>(
    (o, f) => (!o || f.sentAt < o.sentAt ? f : o),
    undefined,
  );
  return oldest && ackTimedOut(oldest.sentAt, now, patience) ? oldest : undefined;
}

/** What this database holds that bears on one batch acknowledgement, read inside the transaction that records it. */
export interface BatchAckFacts {
  /** The epoch new captures go into. */
  currentEpoch: string;
  /** Highest seq this database ever handed out in the acknowledged epoch (0 for an epoch it never had). */
  lastSeqOfEpoch: number;
  /** The eventId this database holds at (epoch, batch.lastSeq), in any state; undefined when none. */
  eventIdAtBatchEnd: string | undefined;
}

export type BatchAckDecision =
  | { action: 'ignore'; why: string }
  | {
      action: 'apply';
      epoch: string;
      /** Seqs of the batch to mark acknowledged, except `keepPending` and `deadLetters`. */
      firstSeq: number;
      lastSeq: number;
      /** Head office holds a different event there: left pending, to move to a new epoch. */
      keepPending: number[];
      /** Refused by head office: dead letters, so they stop blocking the queue. */
      deadLetters: SeqReason[];
      /** The highest seq of the batch that ends up acknowledged (the epoch's last acknowledged seq), if any. */
      lastSettledSeq: number | null;
      /** Set when this database must leave its epoch (it was restored from a backup, or cloned). */
      newEpoch: { reason: string } | null;
    };

/**
 * Decides what a batch acknowledgement does:
 * - ignore it unless this database sent that batch (same eventId at its last seq): another writer under
 *   the same epoch (a cloned PC, or this store's database before a restore) reads the same acks topic,
 *   and an answer about its events says nothing about ours;
 * - otherwise only the batch's own seqs are settled: `ackedThrough` may cover seqs the hub holds from
 *   another writer, so it is never taken for "ours are through";
 * - conflicts, a hub holding seqs of the current epoch beyond the last one this database handed out, or
 *   a hub that has a close of the current epoch (this database never closed it, so another writer did)
 *   mean the database was restored or copied: it must start a new epoch.
 */
export function decideBatchAck(ack: BatchAck, facts: BatchAckFacts): BatchAckDecision {
  const { firstSeq, lastSeq, lastEventId } = ack.batch;
  if (facts.eventIdAtBatchEnd !== lastEventId) {
    return {
      action: 'ignore',
      why:
        facts.eventIdAtBatchEnd === undefined
          ? `this database holds no event at seq ${lastSeq} of epoch ${ack.epoch} (moved, pruned, or never its own)`
          : `seq ${lastSeq} of epoch ${ack.epoch} holds another event here: the batch was sent by another writer`,
    };
  }
  const inBatch = (s: SeqReason) => s.seq >= firstSeq && s.seq <= lastSeq;
  const conflicts = ack.conflicts.filter(inBatch);
  const current = ack.epoch === facts.currentEpoch;
  const restored = current && ack.highestSeq > facts.lastSeqOfEpoch;
  let newEpoch: { reason: string } | null = null;
  if (restored) {
    newEpoch = {
      reason:
        `head office holds seq ${ack.highestSeq} of epoch ${ack.epoch}, beyond this database's last seq ` +
        `${facts.lastSeqOfEpoch}: it was restored from an old backup or copied`,
    };
  } else if (current && conflicts.length > 0) {
    newEpoch = {
      reason: `head office holds different events under ${conflicts.length} seq(s) of epoch ${ack.epoch}: this database was copied or restored`,
    };
  } else if (current && ack.closedTowards !== undefined) {
    newEpoch = {
      reason:
        `another writer closed epoch ${ack.epoch} (towards ${ack.closedTowards}) while this database still ` +
        'writes in it: this database was copied or restored',
    };
  }
  const keepPending = conflicts.map((c) => c.seq);
  const deadLetters = ack.rejected.filter(inBatch);
  const unsettled = new Set([...keepPending, ...deadLetters.map((d) => d.seq)]);
  let lastSettledSeq: number | null = null;
  for (let s = lastSeq; s >= firstSeq && lastSettledSeq === null; s--)
    if (!unsettled.has(s)) lastSettledSeq = s;
  return {
    action: 'apply',
    epoch: ack.epoch,
    firstSeq,
    lastSeq,
    keepPending,
    deadLetters,
    lastSettledSeq,
    newEpoch,
  };
}

/** This database's record of an epoch it closed, as far as a close acknowledgement is concerned. */
export interface CloseAckFacts {
  nextEpoch: string;
  parts: number;
}

export type CloseAckDecision =
  { action: 'ignore'; why: string } | { action: 'apply'; epoch: string; part: number };

/**
 * A close acknowledgement settles a part only if this database sent that close: another writer closing
 * the same epoch (the other PC of a clone) moved to another next epoch.
 */
export function decideCloseAck(ack: CloseAck, facts: CloseAckFacts | undefined): CloseAckDecision {
  if (!facts) return { action: 'ignore', why: `this database did not close epoch ${ack.epoch}` };
  const { nextEpoch, part, parts } = ack.close;
  if (facts.nextEpoch !== nextEpoch)
    return {
      action: 'ignore',
      why: `epoch ${ack.epoch} was closed here towards ${facts.nextEpoch}, not ${nextEpoch}`,
    };
  if (facts.parts !== parts || part > parts)
    return {
      action: 'ignore',
      why: `the close of epoch ${ack.epoch} has ${facts.parts} part(s) here, not part ${part} of ${parts}`,
    };
  return { action: 'apply', epoch: ack.epoch, part };
}
