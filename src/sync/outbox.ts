import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../lib/clock.js';
import type { DayResult } from '../contracts/day-close.js';
import type { CommandAnswer } from '../contracts/sync-messages.js';
import type { ConflictError } from '../lib/errors.js';
import { createEventIdFactory, newEpoch, type IdFactory } from '../lib/ids.js';
import {
  prepareAppendBatch,
  type AppendBatch,
  type CaptureInput,
  type CaptureResult,
} from './capture-append.js';
import {
  prepareCommandAnswers,
  type CommandAnswers,
  type DeadLetterCommand,
  type HandledCommand,
} from './command-answers.js';
import { prepareDayCloseAppend, type AppendDayClose, type DayCloseInput } from './day-close-append.js';
import { prepareDayResults, type DayResults, type TillDay } from './day-results.js';
import { prepareDeadLetters, type DeadLetterRow, type DeadLetters } from './dead-letters.js';
import {
  capOutboxSize,
  claimStoreIdentity,
  ensureEpoch,
  epochQueries,
  migrateOutbox,
  openOutboxDatabase,
  probeWritable,
} from './outbox-database.js';
import {
  prepareOutboxCounts,
  PRUNE_CHUNK,
  type DeliveryFacts,
  type OutboxCounts,
  type OutboxStats,
} from './outbox-stats.js';
import { prepareRecordAppend, type RecordAppender } from './record-append.js';
import { asStorageUnavailable, withStorageErrors } from './storage-errors.js';
import { terminalsSince, type TerminalActivity } from './terminal-activity.js';
import { WriteTurns } from './write-turns.js';

/** The capture connection's page cache, KiB (see the constructor). */
const CAPTURE_CACHE_KIB = 2048;

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
 * acknowledged. This is its one face for capture, status and support; the work lives in one module per
 * job (outbox-database: opening, pragmas, migrations, identity; capture-append; dead-letters;
 * outbox-stats), each with its SQL as prepared statements inside explicit transactions. Every method is
 * synchronous (better-sqlite3) and maps disk conditions to StorageUnavailableError. Delivery (what to
 * publish, acknowledgements, epochs: outbox-acks) goes only through a connection of its own
 * (delivery-store.ts), usually on another thread.
 */
export class Outbox {
  readonly file: string;
  readonly storeId: string;
  /** Shared with the sync engine's delivery thread, so a capture never polls for the lock behind an ack (write-turns.ts). */
  readonly writeTurns: SharedArrayBuffer = WriteTurns.shared();
  private readonly db: Database.Database;
  /**
   * A second connection for pruning. It has no size cap, so pruning still works when the capped outbox is
   * full (otherwise a full outbox could never free itself), and it commits with synchronous = NORMAL: a
   * deletion lost to a power cut is only done again.
   */
  private readonly bookkeeping: Database.Database;
  private readonly clock: Clock;
  private readonly append: AppendBatch;
  private readonly appendRecord: RecordAppender;
  private readonly turns: WriteTurns;
  private readonly counts: OutboxCounts;
  private readonly dead: DeadLetters;
  private readonly appendClose: AppendDayClose;
  private readonly days: DayResults;
  private readonly answers: CommandAnswers;

  constructor(options: OutboxOptions) {
    this.file = options.file;
    this.storeId = options.storeId;
    this.clock = options.clock ?? systemClock;
    mkdirSync(path.dirname(options.file), { recursive: true });
    // A small page cache: a capture touches few pages (mostly the right-hand edge of each index), and in
    // WAL mode every commit of another connection (each acknowledgement on the delivery thread) empties
    // this cache anyway. With
    // SQLite's default of 16 MiB, reading a day's events once (the window's tills seen today) held about
    // 15 MB of pages for the agent's lifetime.
    this.db = openOutboxDatabase(options.file, { cacheKib: CAPTURE_CACHE_KIB });
    let bookkeeping: Database.Database | undefined;
    try {
      migrateOutbox(this.db);
      claimStoreIdentity(this.db, options.storeId, options.file);
      if (options.maxSizeMb !== undefined) capOutboxSize(this.db, options.maxSizeMb);
      ensureEpoch(this.db, this.clock, options.epochFactory ?? newEpoch);
      bookkeeping = openOutboxDatabase(options.file, { synchronous: 'NORMAL', cacheKib: 2048 });
      this.bookkeeping = bookkeeping;
      const eventIds = options.eventIds ?? createEventIdFactory();
      this.turns = new WriteTurns(this.writeTurns);
      this.append = prepareAppendBatch(this.db, this.clock, eventIds, this.turns);
      this.appendRecord = prepareRecordAppend(this.db, this.clock, eventIds);
      this.counts = prepareOutboxCounts(this.db, bookkeeping);
      this.dead = prepareDeadLetters(this.db);
      this.appendClose = prepareDayCloseAppend(this.db, this.clock, eventIds, this.turns);
      this.days = prepareDayResults(this.db);
      this.answers = prepareCommandAnswers(this.db, this.dead);
    } catch (error) {
      bookkeeping?.close();
      this.db.close();
      throw asStorageUnavailable(error) ?? error;
    }
  }

  /** The epoch new captures go into (read from the database: the sync engine's connection may move it on). */
  get epoch(): string {
    return withStorageErrors(() => epochQueries(this.db).current());
  }

  /**
   * The capture connection: for tests and support tools that read the file, and for the store's other
   * repositories that keep their tables in the outbox (promotions), to prepare their statements on.
   */
  get database(): Database.Database {
    return this.db;
  }

  /** See capture-append.ts: one durable transaction per batch, gapless seqs, idempotent re-submission. */
  appendBatch(items: CaptureInput[]): (CaptureResult | ConflictError)[] {
    return withStorageErrors(() => this.append(items));
  }

  /** See day-close-append.ts: one durable transaction, idempotent per (terminal, business day, closedAt). */
  appendDayClose(input: DayCloseInput): CaptureResult | ConflictError {
    return withStorageErrors(() => this.appendClose(input));
  }

  /** Head office's verdict on a till's day; false when a verdict judged later is held already. */
  recordDayResult(result: DayResult): boolean {
    return withStorageErrors(() =>
      this.turns.run('capture', () => this.days.record(result, this.clock.now())),
    );
  }

  /** The tills' closes and verdicts of the most recent business days, newest first. */
  tillDays(days = 7): TillDay[] {
    return withStorageErrors(() => this.days.recent(days));
  }

  /** See command-answers.ts: head office's retry or discard of a dead letter, once per requestId. */
  handleDeadLetterCommand(command: DeadLetterCommand): HandledCommand {
    return withStorageErrors(() =>
      this.turns.run('capture', () => this.answers.handle(command, this.clock.now())),
    );
  }

  /** The latest answers to head office's commands, newest first. */
  commandAnswers(limit = 20): CommandAnswer[] {
    return withStorageErrors(() => this.answers.latest(limit));
  }

  /**
   * Runs `write` as one durable transaction on the capture connection (in the tills' turn at the write
   * lock); `append` adds the store's own records (record-append.ts) within it, so a change and the event
   * reporting it to head office commit together or not at all. `write` is synchronous and runs its own
   * statements on `database`.
   */
  transactWithRecords<T>(write: (append: RecordAppender) => T): T {
    return withStorageErrors(() =>
      this.turns.run('capture', () => this.db.transaction(() => write(this.appendRecord)).immediate()),
    );
  }

  /** What the status page shows; its cost does not grow with the number of retained events. */
  stats(): OutboxStats {
    return withStorageErrors(() => this.counts.stats());
  }

  /** What the retained status tells head office: backlog, its age, unsent per day, acknowledged per epoch. */
  deliveryFacts(): DeliveryFacts {
    return withStorageErrors(() => this.counts.deliveryFacts());
  }

  /** Events not yet delivered (dead letters excluded). */
  unsentCount(): number {
    return withStorageErrors(() => this.counts.unsentCount());
  }

  /**
   * Deletes at most `limit` acknowledged events older than the cut-off, oldest first (unacknowledged and
   * dead-lettered ones are never pruned). One short statement: callers with more to prune call again.
   */
  pruneAcknowledged(olderThanMs: number, limit = PRUNE_CHUNK): number {
    return withStorageErrors(() => this.counts.pruneChunk(olderThanMs, limit));
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

  /** The tills that captured since `sinceMs` (the status window's "tills seen today"); reads only those events. */
  terminalsSince(sinceMs: number): TerminalActivity[] {
    return withStorageErrors(() => terminalsSince(this.db, sinceMs));
  }

  deadLetters(limit = 100): DeadLetterRow[] {
    return withStorageErrors(() => this.dead.list(limit));
  }

  /** See dead-letters.ts: the event goes again as the newest of the current epoch, read inside the transaction. */
  retryDeadLetter(eventId: string): { epoch: string; seq: number } {
    return withStorageErrors(() => this.dead.retry(eventId));
  }

  discardDeadLetter(eventId: string, note: string): void {
    withStorageErrors(() => this.dead.discard(eventId, note));
  }

  /** Tells whether the disk takes writes again after a failure (see outbox-database.ts). */
  probeWritable(minFreeBytes?: number): void {
    withStorageErrors(() => probeWritable(this.db, this.file, this.clock.now(), minFreeBytes));
  }

  /** A cheap structural check, for start-up diagnostics and tests. */
  quickCheck(): string {
    return this.db.pragma('quick_check', { simple: true }) as string;
  }

  close(): void {
    if (this.bookkeeping.open) this.bookkeeping.close();
    if (this.db.open) this.db.close();
  }
}
