import type Database from 'better-sqlite3';
import { SYNC_LIMITS, type BatchAck, type CloseAck, type EpochMove } from '../contracts/sync-messages.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { CloseKey } from './ack-rules.js';
import {
  buildEpochClose,
  buildEventBatch,
  type BuiltBatch,
  type MessageLimits,
  type TooLargeEvent,
  type UnsentEvent,
} from './batch-builder.js';
import { prepareDeadLetters } from './dead-letters.js';
import { prepareAckRecorder, type BatchAckOutcome, type CloseAckOutcome } from './outbox-acks.js';
import { currentEpochOf, openOutboxDatabase } from './outbox-database.js';
import { asStorageUnavailable } from './storage-errors.js';
import { WriteTurns } from './write-turns.js';

/** Where publishing goes on from: the last seq published, in the epoch it was published in. */
export interface DeliveryCursor {
  epoch: string;
  seq: number;
}

/** The next batch to publish: from the first unsent event after the cursor, in the current epoch. */
export interface NextBatch {
  epoch: string;
  message: (Omit<BuiltBatch, 'payload'> & { payload: string | Buffer }) | TooLargeEvent | undefined;
}

export interface OutgoingClose extends CloseKey {
  parts: number;
  payload: string;
  bytes: number;
}

/**
 * The outbox as the sync engine uses it: reading what to publish next and recording what head office
 * answered. Asynchronous, so that it can run on a thread of its own (delivery-thread.ts) and keep its
 * reads, batch building and acknowledgement writes off the thread that answers the tills.
 */
export interface DeliveryStore {
  nextBatch(after: DeliveryCursor | null, limits: MessageLimits): Promise<NextBatch>;
  /** Parts of epoch closes head office has not acknowledged yet, ready to publish. */
  pendingCloses(): Promise<OutgoingClose[]>;
  recordBatchAck(ack: BatchAck): Promise<BatchAckOutcome>;
  recordCloseAck(ack: CloseAck): Promise<CloseAckOutcome>;
  markUndeliverable(event: { epoch: string; seq: number; eventId: string }, reason: string): Promise<boolean>;
  close(): Promise<void>;
}

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
    pendingParts: Database.Statement<
      [],
      { epoch: string; part: number; parts: number; next_epoch: string; last_seq: number; reason: string }
    >;
    moves: Database.Statement<[string, number, number], EpochMove>;
  };
  private readonly acks: ReturnType<typeof prepareAckRecorder>;
  private readonly deadLetters: ReturnType<typeof prepareDeadLetters>;
  private readonly turns: WriteTurns | undefined;

  constructor(
    file: string,
    private readonly storeId: string,
    options: {
      clock?: Clock;
      busyTimeoutMs?: number;
      epochFactory?: () => string;
      /** The outbox's write turns (Outbox.writeTurns), so captures go first at the write lock. */
      writeTurns?: SharedArrayBuffer | undefined;
    } = {},
  ) {
    this.turns = options.writeTurns ? new WriteTurns(options.writeTurns) : undefined;
    this.db = openOutboxDatabase(file, {
      synchronous: 'NORMAL',
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    });
    try {
      this.stmt = {
        unsentAfter: this.db.prepare(
          `SELECT e.seq, e.event_id AS eventId, e.type, e.captured_at AS capturedAt, b.body
           FROM events e JOIN event_bodies b ON b.id = e.id
           WHERE e.epoch = ? AND e.state = 'pending' AND e.seq > ? ORDER BY e.seq LIMIT ?`,
        ),
        pendingParts: this.db.prepare(
          `SELECT p.epoch, p.part, c.parts, c.next_epoch, c.last_seq, c.reason
           FROM epoch_close_parts p JOIN epoch_closes c ON c.epoch = p.epoch
           WHERE p.acked_at IS NULL ORDER BY c.closed_at, p.epoch, p.part`,
        ),
        moves: this.db.prepare(
          'SELECT seq, event_id AS eventId, to_seq AS toSeq FROM epoch_moves WHERE epoch = ? ORDER BY seq LIMIT ? OFFSET ?',
        ),
      };
      this.acks = prepareAckRecorder(this.db, options.clock ?? systemClock, options.epochFactory);
      this.deadLetters = prepareDeadLetters(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  nextBatch(after: DeliveryCursor | null, limits: MessageLimits): NextBatch {
    return this.guard(() => {
      const epoch = currentEpochOf(this.db);
      const afterSeq = after && after.epoch === epoch ? after.seq : 0;
      const events = this.stmt.unsentAfter.all(epoch, afterSeq, limits.maxEvents);
      return { epoch, message: buildEventBatch(this.storeId, epoch, events, limits) };
    });
  }

  pendingCloses(): OutgoingClose[] {
    return this.guard(() =>
      this.stmt.pendingParts.all().map((row) => {
        // The same figure counted the parts when the epoch was closed (outbox-acks.ts).
        const size = SYNC_LIMITS.maxMovesPerClose;
        const payload = buildEpochClose(this.storeId, {
          epoch: row.epoch,
          lastSeq: row.last_seq,
          nextEpoch: row.next_epoch,
          reason: row.reason,
          part: row.part,
          parts: row.parts,
          moved: this.stmt.moves.all(row.epoch, size, (row.part - 1) * size),
        });
        return {
          epoch: row.epoch,
          nextEpoch: row.next_epoch,
          part: row.part,
          parts: row.parts,
          payload,
          bytes: Buffer.byteLength(payload),
        };
      }),
    );
  }

  recordBatchAck(ack: BatchAck): BatchAckOutcome {
    return this.write(() => this.acks.recordBatchAck(ack));
  }

  recordCloseAck(ack: CloseAck): CloseAckOutcome {
    return this.write(() => this.acks.recordCloseAck(ack));
  }

  markUndeliverable(event: { epoch: string; seq: number; eventId: string }, reason: string): boolean {
    return this.write(() => this.deadLetters.markUndeliverable(event, reason));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private write<T>(fn: () => T): T {
    return this.guard(() => (this.turns ? this.turns.run('delivery', fn) : fn()));
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw asStorageUnavailable(error) ?? error;
    }
  }
}

/** A DeliveryStore on the calling thread: for tests, and wherever a thread of its own is not worth it. */
export function inThreadDeliveryStore(
  file: string,
  storeId: string,
  options: { clock?: Clock; epochFactory?: () => string } = {},
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
    pendingCloses: () => run(() => core.pendingCloses()),
    recordBatchAck: (ack) => run(() => core.recordBatchAck(ack)),
    recordCloseAck: (ack) => run(() => core.recordCloseAck(ack)),
    markUndeliverable: (event, reason) => run(() => core.markUndeliverable(event, reason)),
    close: () => run(() => core.close()),
  };
}
