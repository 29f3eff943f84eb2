import type Database from 'better-sqlite3';
import type { BatchAck, CloseAck, EpochMove } from '../contracts/sync-messages.js';
import type { CloseKey } from './ack-rules.js';
import {
  buildEpochClose,
  buildEventBatch,
  closePartMoves,
  PayloadMemory,
  type BuiltBatch,
  type MessageLimits,
  type TooLargeEvent,
  type UnsentEvent,
} from './batch-builder.js';
import { prepareDeadLetters } from './dead-letters.js';
import { prepareAckRecorder, type BatchAckOutcome, type CloseAckOutcome } from './outbox-acks.js';
import { epochQueries, openOutboxDatabase } from './outbox-database.js';
import { withStorageErrors } from './storage-errors.js';
import { WriteTurns } from './write-turns.js';

/** Where publishing goes on from: the last seq published, in the epoch it was published in. */
export interface DeliveryCursor {
  epoch: string;
  seq: number;
}

/** The next batch to publish: from the first unsent event after the cursor, in the current epoch. */
export interface NextBatch {
  epoch: string;
  message: BuiltBatch | TooLargeEvent | undefined;
}

/** Where publishing close parts goes on from: closes in the order they were made, parts in order. */
export interface ClosePartCursor {
  closedAt: number;
  epoch: string;
  part: number;
}

export interface OutgoingClose extends CloseKey, ClosePartCursor {
  parts: number;
  payload: string;
  bytes: number;
}

/** What this database still has of an epoch head office asks to have again (docs/protocol.md, "Resync"). */
export interface ResendBounds {
  /** The first seq at or after the one asked for still held here (above `through`: none). */
  availableFrom: number;
  /** The last seq this database handed out in the epoch (0 for an epoch it never had). */
  through: number;
}

/** The next message of a resend, after `afterSeq`; undefined when everything retained was read. */
export interface NextResendBatch {
  message: BuiltBatch | undefined;
}

/** An event as the sync engine names it when it withholds it. */
export interface EventAt {
  epoch: string;
  seq: number;
  eventId: string;
}

/**
 * The outbox as the sync engine uses it: reading what to publish next and recording what head office
 * answered. Asynchronous, so that it can run on a thread of its own (delivery-thread.ts) and keep its
 * reads, batch building and acknowledgement writes off the thread that answers the tills. Times (`at`)
 * come from the engine's clock, so every write follows the agent's one injected clock.
 */
export interface DeliveryStore {
  nextBatch(after: DeliveryCursor | null, limits: MessageLimits): Promise<NextBatch>;
  /**
   * The next part of an epoch close head office has not acknowledged, after `after` (null: the first),
   * ready to publish; undefined when none is left. One part per request: a close of many moves is never
   * built, held or copied between threads whole.
   */
  nextClosePart(after: ClosePartCursor | null): Promise<OutgoingClose | undefined>;
  recordBatchAck(ack: BatchAck, at: number): Promise<BatchAckOutcome>;
  recordCloseAck(ack: CloseAck, at: number): Promise<CloseAckOutcome>;
  /** See DeadLetters.withhold: false when the event was no longer pending there, or already withheld. */
  withhold(event: EventAt, reason: string): Promise<boolean>;
  /** What is still held of `epoch` from `fromSeq`. */
  resendBounds(epoch: string, fromSeq: number): Promise<ResendBounds>;
  /**
   * The next batch of a resend: every event of `epoch` after `afterSeq` still held here, whatever its
   * state (nothing is changed). Dead letters and withheld events travel as markers, as head office
   * recorded them before: refused.
   */
  nextResendBatch(epoch: string, afterSeq: number, limits: MessageLimits): Promise<NextResendBatch>;
  /**
   * The broker acknowledged a batch this store built (PUBACK): its payload's memory may carry a later
   * message. The caller holds no reference to it any more, and no longer reads it.
   */
  releasePayload(payload: Buffer): void;
  close(): Promise<void>;
}

type ClosePartRow = {
  epoch: string;
  part: number;
  parts: number;
  next_epoch: string;
  last_seq: number;
  reason: string;
  closed_at: number;
};

/**
 * The synchronous work behind a DeliveryStore, on a connection of its own. That connection has no size
 * cap (acknowledgements must still be recorded when the capped outbox is full, or it could never free
 * itself) and commits with synchronous = NORMAL: a mark lost to a power cut only costs a retransmission,
 * which the hub recognises (moves to a new epoch are the exception, see outbox-acks.ts).
 */
export class DeliveryDatabase {
  private readonly db: Database.Database;
  private readonly stmt: {
    unsentAfter: Database.Statement<[string, number, number], UnsentEvent>;
    retainedAfter: Database.Statement<[string, number, number], UnsentEvent>;
    firstHeldFrom: Database.Statement<[string, number], number | null>;
    nextPart: Database.Statement<[number, string, number], ClosePartRow>;
    moves: Database.Statement<[string, number, number], EpochMove>;
  };
  private readonly acks: ReturnType<typeof prepareAckRecorder>;
  private readonly deadLetters: ReturnType<typeof prepareDeadLetters>;
  private readonly turns: WriteTurns | undefined;
  private readonly payloads = new PayloadMemory();

  constructor(
    file: string,
    private readonly storeId: string,
    options: {
      busyTimeoutMs?: number;
      epochFactory?: () => string;
      /** The outbox's write turns (Outbox.writeTurns), so captures go first at the write lock. */
      writeTurns?: SharedArrayBuffer | undefined;
    } = {},
  ) {
    this.turns = options.writeTurns ? new WriteTurns(options.writeTurns) : undefined;
    this.db = openOutboxDatabase(file, {
      synchronous: 'NORMAL',
      cacheKib: 2048,
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    });
    try {
      this.stmt = {
        // A withheld event (a pending one with a reason) goes without its body, as a marker.
        unsentAfter: this.db.prepare(
          `SELECT e.seq, e.event_id AS eventId, e.type, e.captured_at AS capturedAt,
                  CASE WHEN e.dead_reason IS NULL THEN b.body END AS body, e.dead_reason AS withheld,
                  e.terminal_id AS terminalId, e.transaction_id AS transactionId
           FROM events e JOIN event_bodies b ON b.id = e.id
           WHERE e.epoch = ? AND e.state = 'pending' AND e.seq > ? ORDER BY e.seq LIMIT ?`,
        ),
        // Everything held, in any state: a resend changes nothing here. Head office refused the dead and
        // discarded ones (it held them as rejected): they go as markers with the store's record of why.
        retainedAfter: this.db.prepare(
          `SELECT e.seq, e.event_id AS eventId, e.type, e.captured_at AS capturedAt,
                  CASE WHEN e.dead_reason IS NULL AND e.state IN ('pending', 'acked') THEN b.body END AS body,
                  CASE WHEN e.state IN ('dead', 'discarded') THEN coalesce(e.dead_reason, 'refused by head office')
                       ELSE e.dead_reason END AS withheld,
                  e.terminal_id AS terminalId, e.transaction_id AS transactionId
           FROM events e JOIN event_bodies b ON b.id = e.id
           WHERE e.epoch = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`,
        ),
        firstHeldFrom: this.db
          .prepare<[string, number], number | null>(
            'SELECT min(seq) FROM events WHERE epoch = ? AND seq >= ?',
          )
          .pluck(),
        nextPart: this.db.prepare(
          `SELECT p.epoch, p.part, c.parts, c.next_epoch, c.last_seq, c.reason, c.closed_at
           FROM epoch_close_parts p JOIN epoch_closes c ON c.epoch = p.epoch
           WHERE p.acked_at IS NULL AND (c.closed_at, p.epoch, p.part) > (?, ?, ?)
           ORDER BY c.closed_at, p.epoch, p.part LIMIT 1`,
        ),
        moves: this.db.prepare(
          'SELECT seq, event_id AS eventId, to_seq AS toSeq FROM epoch_moves WHERE epoch = ? ORDER BY seq LIMIT ? OFFSET ?',
        ),
      };
      this.acks = prepareAckRecorder(this.db, options.epochFactory);
      this.deadLetters = prepareDeadLetters(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  nextBatch(after: DeliveryCursor | null, limits: MessageLimits): NextBatch {
    return withStorageErrors(() => {
      const epoch = epochQueries(this.db).current();
      const afterSeq = after && after.epoch === epoch ? after.seq : 0;
      // Read row by row, and no further than the message fills: bodies may be a megabyte each.
      const events = this.stmt.unsentAfter.iterate(epoch, afterSeq, limits.maxEvents);
      return { epoch, message: buildEventBatch(this.storeId, epoch, events, limits, this.payloads) };
    });
  }

  nextClosePart(after: ClosePartCursor | null): OutgoingClose | undefined {
    return withStorageErrors(() => {
      const row = this.stmt.nextPart.get(after?.closedAt ?? -1, after?.epoch ?? '', after?.part ?? 0);
      if (!row) return undefined;
      const { limit, offset } = closePartMoves(row.part);
      const payload = buildEpochClose(this.storeId, {
        epoch: row.epoch,
        lastSeq: row.last_seq,
        nextEpoch: row.next_epoch,
        reason: row.reason,
        part: row.part,
        parts: row.parts,
        moved: this.stmt.moves.all(row.epoch, limit, offset),
      });
      return {
        epoch: row.epoch,
        nextEpoch: row.next_epoch,
        part: row.part,
        parts: row.parts,
        closedAt: row.closed_at,
        payload,
        bytes: Buffer.byteLength(payload),
      };
    });
  }

  recordBatchAck(ack: BatchAck, at: number): BatchAckOutcome {
    return this.write(() => this.acks.recordBatchAck(ack, at));
  }

  recordCloseAck(ack: CloseAck, at: number): CloseAckOutcome {
    return this.write(() => this.acks.recordCloseAck(ack, at));
  }

  withhold(event: EventAt, reason: string): boolean {
    return this.write(() => this.deadLetters.withhold(event, reason));
  }

  resendBounds(epoch: string, fromSeq: number): ResendBounds {
    return withStorageErrors(() => {
      const through = epochQueries(this.db).lastSeq(epoch) ?? 0;
      const first = this.stmt.firstHeldFrom.get(epoch, fromSeq) ?? null;
      return { availableFrom: first ?? Math.max(fromSeq, through + 1), through };
    });
  }

  nextResendBatch(epoch: string, afterSeq: number, limits: MessageLimits): NextResendBatch {
    return withStorageErrors(() => {
      const read = (after: number) => this.stmt.retainedAfter.iterate(epoch, after, limits.maxEvents);
      const built = buildEventBatch(this.storeId, epoch, read(afterSeq), limits, this.payloads);
      if (built?.kind !== 'too-large') return { message: built };
      // Delivered whole once, it no longer fits (the broker's limit went down since): it goes as a marker
      // rather than hold up the rest. Head office already holds it whole, or records it refused.
      const first = this.stmt.retainedAfter.get(epoch, afterSeq, 1)!;
      const marker = { ...first, body: null, withheld: `too large to send again (${built.bytes} bytes)` };
      const events = startingWith(marker, read(first.seq));
      const again = buildEventBatch(this.storeId, epoch, events, limits, this.payloads);
      return { message: again?.kind === 'batch' ? again : undefined };
    });
  }

  /** The memory of a message published and done with (DeliveryStore.releasePayload), for the next one. */
  reusePayloadMemory(memory: ArrayBuffer): void {
    this.payloads.giveBack(memory);
  }

  /** The connection itself, for the WAL checkpoints that run beside delivery on its thread (delivery-worker.ts). */
  get connection(): Database.Database {
    return this.db;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private write<T>(fn: () => T): T {
    return withStorageErrors(() => (this.turns ? this.turns.run('delivery', fn) : fn()));
  }
}

function* startingWith<T>(first: T, rest: Iterable<T>): Generator<T> {
  yield first;
  yield* rest;
}

/** A DeliveryStore on the calling thread: for tests, and wherever a thread of its own is not worth it. */
export function inThreadDeliveryStore(
  file: string,
  storeId: string,
  options: { epochFactory?: () => string } = {},
): DeliveryStore {
  const core = new DeliveryDatabase(file, storeId, options);
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return {
    nextBatch: (after, limits) => run(() => core.nextBatch(after, limits)),
    nextClosePart: (after) => run(() => core.nextClosePart(after)),
    recordBatchAck: (ack, at) => run(() => core.recordBatchAck(ack, at)),
    recordCloseAck: (ack, at) => run(() => core.recordCloseAck(ack, at)),
    withhold: (event, reason) => run(() => core.withhold(event, reason)),
    resendBounds: (epoch, fromSeq) => run(() => core.resendBounds(epoch, fromSeq)),
    nextResendBatch: (epoch, afterSeq, limits) => run(() => core.nextResendBatch(epoch, afterSeq, limits)),
    // Left to the garbage collector: on this thread nothing would detach the memory from a reference
    // the MQTT client might still hold, and a message written over it would go out in its place.
    releasePayload: () => {},
    close: () => run(() => core.close()),
  };
}
