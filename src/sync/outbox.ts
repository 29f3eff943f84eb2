import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { BatchAck, CloseAck } from '../contracts/sync-messages.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { ConflictError } from '../lib/errors.js';
import { createEventIdFactory, newEpoch, type IdFactory } from '../lib/ids.js';
import {
  prepareAppendBatch,
  type AppendBatch,
  type CaptureInput,
  type CaptureResult,
} from './capture-append.js';
import { prepareDeadLetters, type DeadLetterRow, type DeadLetters } from './dead-letters.js';
import {
  prepareAckRecorder,
  startNewEpochIn,
  type AckRecorder,
  type BatchAckOutcome,
  type CloseAckOutcome,
  type NewEpoch,
} from './outbox-acks.js';
import {
  capOutboxSize,
  claimStoreIdentity,
  ensureEpoch,
  migrateOutbox,
  openOutboxDatabase,
  probeWritable,
} from './outbox-database.js';
import { prepareOutboxCounts, PRUNE_CHUNK, type OutboxCounts, type OutboxStats } from './outbox-stats.js';
import type { UnsentEvent } from './batch-builder.js';
import { asStorageUnavailable } from './storage-errors.js';
import { WriteTurns } from './write-turns.js';

export interface OutboxOptions {
  /** The outbox database file; its directory is created if missing. */
  file: string;
  /** The store this outbox belongs to: recorded on first opening, and opening it as another store is refused. */
  storeId: string;
  /** Cap on the database size; writes beyond it fail as "disk full" instead of filling the disk. */
  maxSizeMb?: number | undefined;
  clock?: Clock;
  eventIds?: IdFactory;
  epochFactory?: () => string;
}

/**
 * The store's outbox: the only source of truth for what the POS captured and what head office has
 * acknowledged. This is its one face; the work lives in one module per job (outbox-database: opening,
 * pragmas, migrations, identity; capture-append; outbox-acks: acknowledgements and epochs; dead-letters;
 * outbox-stats), each with its SQL as prepared statements inside explicit transactions. Every method is
 * synchronous (better-sqlite3) and maps disk conditions to StorageUnavailableError. The sync engine reads
 * and acknowledges through a connection of its own (delivery-store.ts), usually on another thread.
 */
export class Outbox {
  readonly file: string;
  readonly storeId: string;
  /** Shared with the sync engine's delivery thread, so a capture never polls for the lock behind an ack (write-turns.ts). */
  readonly writeTurns: SharedArrayBuffer = WriteTurns.shared();
  private readonly db: Database.Database;
  /**
   * A second connection for acknowledgement bookkeeping and pruning. It has no size cap, so acks and
   * pruning still work when the capped outbox is full (otherwise a full outbox could never free itself),
   * and it commits with synchronous = NORMAL: a mark lost to a power cut only costs a retransmission,
   * which the hub recognises.
   */
  private readonly bookkeeping: Database.Database;
  private readonly clock: Clock;
  private readonly epochFactory: () => string;
  private readonly append: AppendBatch;
  private readonly counts: OutboxCounts;
  private readonly dead: DeadLetters;
  private readonly acks: AckRecorder;
  private readonly stmt: {
    epoch: Database.Statement<[], string>;
    lastSeq: Database.Statement<[string], number>;
    unsentAfter: Database.Statement<[string, number, number], UnsentEvent>;
    eventIdAt: Database.Statement<[string, number], string>;
  };

  constructor(options: OutboxOptions) {
    this.file = options.file;
    this.storeId = options.storeId;
    this.clock = options.clock ?? systemClock;
    this.epochFactory = options.epochFactory ?? newEpoch;
    mkdirSync(path.dirname(options.file), { recursive: true });
    this.db = openOutboxDatabase(options.file);
    let bookkeeping: Database.Database | undefined;
    try {
      migrateOutbox(this.db);
      claimStoreIdentity(this.db, options.storeId, options.file);
      if (options.maxSizeMb !== undefined) capOutboxSize(this.db, options.maxSizeMb);
      ensureEpoch(this.db, this.clock, this.epochFactory);
      bookkeeping = openOutboxDatabase(options.file, { synchronous: 'NORMAL' });
      this.bookkeeping = bookkeeping;
      this.append = prepareAppendBatch(
        this.db,
        this.clock,
        options.eventIds ?? createEventIdFactory(),
        new WriteTurns(this.writeTurns),
      );
      this.counts = prepareOutboxCounts(this.db, bookkeeping);
      this.dead = prepareDeadLetters(this.db);
      this.acks = prepareAckRecorder(bookkeeping, this.clock, this.epochFactory);
      this.stmt = {
        epoch: this.db.prepare<[], string>("SELECT value FROM meta WHERE key = 'epoch'").pluck(),
        lastSeq: this.db.prepare<[string], number>('SELECT last_seq FROM epochs WHERE epoch = ?').pluck(),
        unsentAfter: this.db.prepare(
          `SELECT e.seq, e.event_id AS eventId, e.type, e.captured_at AS capturedAt, b.body
           FROM events e JOIN event_bodies b ON b.id = e.id
           WHERE e.epoch = ? AND e.state = 'pending' AND e.seq > ? ORDER BY e.seq LIMIT ?`,
        ),
        eventIdAt: this.db
          .prepare<[string, number], string>('SELECT event_id FROM events WHERE epoch = ? AND seq = ?')
          .pluck(),
      };
    } catch (error) {
      bookkeeping?.close();
      this.db.close();
      throw asStorageUnavailable(error) ?? error;
    }
  }

  /** The epoch new captures go into (read from the database: the sync engine's connection may move it on). */
  get epoch(): string {
    return this.guard(() => this.stmt.epoch.get()!);
  }

  /** The raw connection, for tests and support tools that read the file. */
  get database(): Database.Database {
    return this.db;
  }

  /** See capture-append.ts: one durable transaction per batch, gapless seqs, idempotent re-submission. */
  appendBatch(items: CaptureInput[]): (CaptureResult | ConflictError)[] {
    return this.guard(() => this.append(items));
  }

  /** What the status page shows; its cost does not grow with the number of retained events. */
  stats(): OutboxStats {
    return this.guard(() => this.counts.stats());
  }

  /** Events not yet delivered (dead letters excluded). */
  unsentCount(): number {
    return this.guard(() => this.counts.unsentCount());
  }

  /**
   * Deletes at most `limit` acknowledged events older than the cut-off, oldest first (unacknowledged and
   * dead-lettered ones are never pruned). One short statement: callers with more to prune call again.
   */
  pruneAcknowledged(olderThanMs: number, limit = PRUNE_CHUNK): number {
    return this.guard(() => this.counts.pruneChunk(olderThanMs, limit));
  }

  /**
   * Deletes every acknowledged event older than the cut-off, a chunk at a time, with a turn of the event
   * loop between chunks so tills are answered meanwhile. Stops early when `stopped` says so.
   */
  async pruneAcknowledgedInChunks(
    olderThanMs: number,
    options: { chunk?: number; stopped?: () => boolean } = {},
  ): Promise<number> {
    const chunk = options.chunk ?? PRUNE_CHUNK;
    let total = 0;
    for (;;) {
      if (options.stopped?.() || !this.db.open) return total;
      const removed = this.pruneAcknowledged(olderThanMs, chunk);
      total += removed;
      if (removed < chunk) return total;
      await yieldToEventLoop();
    }
  }

  /** Unsent events of the current epoch after `afterSeq`, in seq order (what the sync engine publishes next). */
  unsentAfter(afterSeq: number, limit: number): UnsentEvent[] {
    return this.guard(() =>
      this.db.transaction(() => this.stmt.unsentAfter.all(this.stmt.epoch.get()!, afterSeq, limit))(),
    );
  }

  /** Highest seq handed out in an epoch (0 for an unknown one). */
  lastSeqOf(epoch: string): number {
    return this.guard(() => this.stmt.lastSeq.get(epoch) ?? 0);
  }

  /** The eventId this database holds at (epoch, seq), in any state; undefined when none (moved, pruned, never). */
  eventIdAt(epoch: string, seq: number): string | undefined {
    return this.guard(() => this.stmt.eventIdAt.get(epoch, seq));
  }

  /** Records a batch acknowledgement in one transaction (outbox-acks.ts, rules in ack-rules.ts). */
  applyAck(ack: BatchAck): BatchAckOutcome {
    return this.guard(() => this.acks.recordBatchAck(ack));
  }

  applyCloseAck(ack: CloseAck): CloseAckOutcome {
    return this.guard(() => this.acks.recordCloseAck(ack));
  }

  /** Leaves the current epoch, moving every unsent event and closing it (outbox-acks.ts). */
  startNewEpoch(reason: string, epochFactory: () => string = this.epochFactory): NewEpoch {
    return this.guard(() =>
      this.db.transaction(() => startNewEpochIn(this.db, this.clock, reason, epochFactory)).immediate(),
    );
  }

  deadLetters(limit = 100): DeadLetterRow[] {
    return this.guard(() => this.dead.list(limit));
  }

  /** See dead-letters.ts: the event goes again as the newest of the current epoch, read inside the transaction. */
  retryDeadLetter(eventId: string): { epoch: string; seq: number } {
    return this.guard(() => this.dead.retry(eventId));
  }

  discardDeadLetter(eventId: string, note: string): void {
    this.guard(() => this.dead.discard(eventId, note));
  }

  /** Tells whether the disk takes writes again after a failure (see outbox-database.ts). */
  probeWritable(minFreeBytes?: number): void {
    this.guard(() => probeWritable(this.db, this.file, this.clock.now(), minFreeBytes));
  }

  /** A cheap structural check, for start-up diagnostics and tests. */
  quickCheck(): string {
    return this.db.pragma('quick_check', { simple: true }) as string;
  }

  close(): void {
    if (this.bookkeeping.open) this.bookkeeping.close();
    if (this.db.open) this.db.close();
  }

  /** Runs fn, turning disk conditions into StorageUnavailableError. */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw asStorageUnavailable(error) ?? error;
    }
  }
}
