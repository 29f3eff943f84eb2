import { mkdirSync, statfsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { TransactionType } from '../contracts/transaction.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { sameJsonValue } from '../lib/canonical-hash.js';
import { ConflictError, NotFoundError, StorageUnavailableError } from '../lib/errors.js';
import { createEventIdFactory, newEpoch, type IdFactory } from '../lib/ids.js';
import { migrateSqlite } from '../lib/sqlite-migrations.js';
import { outboxMigrations } from './outbox-migrations.js';
import { asStorageUnavailable } from './storage-errors.js';

/** What capture hands to the outbox: the body exactly as submitted plus the fields the outbox indexes. */
export interface CaptureInput {
  terminalId: string;
  transactionId: string;
  type: TransactionType;
  currency: string;
  signedTotal: number;
  body: string;
  /** Digest of the exact body text (textDigest): equal digests mean a byte-identical re-submission. */
  bodyHash: string;
}

export interface CaptureResult {
  eventId: string;
  epoch: string;
  seq: number;
  duplicate: boolean;
}

export interface AmountAtRisk {
  currency: string;
  amount: number;
}

export interface OutboxStats {
  epoch: string;
  lastSeq: number;
  unsent: { count: number; oldestCapturedAt: number | null; atRisk: AmountAtRisk[] };
  lastAck: { seq: number; at: number } | null;
  deadLetters: number;
  total: number;
}

/** An event as the sync engine publishes it. */
export interface UnsentEvent {
  seq: number;
  eventId: string;
  type: TransactionType;
  capturedAt: number;
  body: string;
}

export interface AckApplication {
  epoch: string;
  ackedThrough: number;
  rejected: { seq: number; reason: string }[];
  conflicts: { seq: number; reason: string }[];
  /** The batch the hub answered; when given, only its seqs are acknowledged (see ackSchema.batch). */
  batch?: { firstSeq: number; lastSeq: number } | undefined;
}

export interface DeadLetterRow {
  epoch: string;
  seq: number;
  eventId: string;
  terminalId: string;
  transactionId: string;
  reason: string;
  capturedAt: number;
  state: 'dead' | 'discarded';
}

export interface OutboxOptions {
  /** The outbox database file; its directory is created if missing. */
  file: string;
  /** Cap on the database size; writes beyond it fail as "disk full" instead of filling the disk. */
  maxSizeMb?: number | undefined;
  clock?: Clock;
  eventIds?: IdFactory;
  epochFactory?: () => string;
}

interface EventKeyRow {
  event_id: string;
  epoch: string;
  seq: number;
  body_hash: string;
  body: string;
}

/**
 * The store's outbox: the only source of truth for what the POS captured and what head office has
 * acknowledged. All SQL of the agent's database lives here, as prepared statements inside explicit
 * transactions. Every method is synchronous (better-sqlite3) and maps disk conditions to
 * StorageUnavailableError.
 */
export class Outbox {
  readonly file: string;
  private readonly db: Database.Database;
  /**
   * A second connection for acknowledgement bookkeeping and pruning. It has no size cap, so acks and
   * pruning still work when the capped outbox is full (otherwise a full outbox could never free itself),
   * and it commits with synchronous = NORMAL: a mark lost to a power cut only costs a retransmission,
   * which the hub recognises.
   */
  private readonly bookkeeping: Database.Database;
  private readonly clock: Clock;
  private readonly eventIds: IdFactory;
  private currentEpoch: string;

  private readonly stmt: {
    findByKey: Database.Statement<[string, string], EventKeyRow>;
    lastSeq: Database.Statement<[string], { last_seq: number }>;
    setLastSeq: Database.Statement<[number, string]>;
    insert: Database.Statement<
      [string, string, number, string, string, string, string, number, number, string, string]
    >;
    insertBody: Database.Statement<[number | bigint, string]>;
    unsentStats: Database.Statement<[], { count: number; oldest: number | null }>;
    unsentCount: Database.Statement<[], { count: number }>;
    atRisk: Database.Statement<[], { currency: string; amount: number }>;
    lastAck: Database.Statement<[], { seq: number; acked_at: number }>;
    deadCount: Database.Statement<[], { count: number }>;
    totalCount: Database.Statement<[], { count: number }>;
    pruneAcked: Database.Statement<[number]>;
  };

  constructor(options: OutboxOptions) {
    this.file = options.file;
    this.clock = options.clock ?? systemClock;
    this.eventIds = options.eventIds ?? createEventIdFactory();
    mkdirSync(path.dirname(options.file), { recursive: true });
    this.db = openDatabase(options.file);
    try {
      migrateSqlite(
        this.db,
        outboxMigrations,
        (current, known) =>
          `the outbox database is at schema version ${current}, but this Outpost knows only up to ${known}: ` +
          'it was written by a newer version. Install that version (or newer) rather than downgrading.',
      );
      if (options.maxSizeMb !== undefined) {
        const pageSize = this.db.pragma('page_size', { simple: true }) as number;
        this.db.pragma(`max_page_count = ${Math.floor((options.maxSizeMb * 1024 * 1024) / pageSize)}`);
      }
      this.currentEpoch = this.ensureEpoch(options.epochFactory ?? newEpoch);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.bookkeeping = openDatabase(options.file, 'NORMAL');
    const db = this.db;
    this.stmt = {
      findByKey: db.prepare(
        `SELECT e.event_id, e.epoch, e.seq, e.body_hash, b.body FROM events e JOIN event_bodies b ON b.id = e.id
         WHERE e.terminal_id = ? AND e.transaction_id = ?`,
      ),
      lastSeq: db.prepare('SELECT last_seq FROM epochs WHERE epoch = ?'),
      setLastSeq: db.prepare('UPDATE epochs SET last_seq = ? WHERE epoch = ?'),
      insert: db.prepare(
        `INSERT INTO events (event_id, epoch, seq, terminal_id, transaction_id, type, currency, signed_total, captured_at, body_hash, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertBody: db.prepare('INSERT INTO event_bodies (id, body) VALUES (?, ?)'),
      unsentStats: db.prepare(
        "SELECT count(*) AS count, min(captured_at) AS oldest FROM events WHERE state = 'pending'",
      ),
      // Index-only (events_unsent): unlike unsentStats it never reads the event rows.
      unsentCount: db.prepare("SELECT count(*) AS count FROM events WHERE state = 'pending'"),
      atRisk: db.prepare(
        "SELECT currency, sum(signed_total) AS amount FROM events WHERE state IN ('pending', 'dead') GROUP BY currency ORDER BY currency",
      ),
      lastAck: db.prepare(
        "SELECT seq, acked_at FROM events WHERE state = 'acked' AND epoch = (SELECT value FROM meta WHERE key = 'epoch') ORDER BY seq DESC LIMIT 1",
      ),
      deadCount: db.prepare("SELECT count(*) AS count FROM events WHERE state = 'dead'"),
      totalCount: db.prepare('SELECT count(*) AS count FROM events'),
      pruneAcked: this.bookkeeping.prepare("DELETE FROM events WHERE state = 'acked' AND acked_at < ?"),
    };
  }

  get epoch(): string {
    return this.currentEpoch;
  }

  /** The raw connection, for the sync engine's repository functions that live beside this one. */
  get database(): Database.Database {
    return this.db;
  }

  /**
   * Appends a batch of captures in one durable transaction (one fsync). Per item: a new event with the
   * next gapless seq, the existing event for an exact re-submission, or a ConflictError when the same
   * (terminalId, transactionId) already holds a different body. A storage failure fails the whole batch
   * and, by rolling back, leaves nothing half-written and no seq consumed.
   */
  appendBatch(items: CaptureInput[]): (CaptureResult | ConflictError)[] {
    return this.guard(() =>
      this.db
        .transaction((batch: CaptureInput[]) => {
          const epoch = this.currentEpoch;
          let seq = this.stmt.lastSeq.get(epoch)!.last_seq;
          const now = this.clock.now();
          const results = batch.map((item): CaptureResult | ConflictError => {
            const existing = this.stmt.findByKey.get(item.terminalId, item.transactionId);
            if (existing) {
              // Byte-identical retries match on the digest; only a re-serialised one pays for canonical JSON.
              if (existing.body_hash !== item.bodyHash && !sameJsonValue(existing.body, item.body)) {
                return new ConflictError(
                  `transaction ${item.transactionId} of terminal ${item.terminalId} was already captured with a different body ` +
                    `(event ${existing.event_id}); a correction must be a new transaction (a void or a return)`,
                  { eventId: existing.event_id, seq: existing.seq },
                );
              }
              return {
                eventId: existing.event_id,
                epoch: existing.epoch,
                seq: existing.seq,
                duplicate: true,
              };
            }
            seq += 1;
            const eventId = this.eventIds();
            const { lastInsertRowid } = this.stmt.insert.run(
              eventId,
              epoch,
              seq,
              item.terminalId,
              item.transactionId,
              item.type,
              item.currency,
              item.signedTotal,
              now,
              item.bodyHash,
              'pending',
            );
            this.stmt.insertBody.run(lastInsertRowid, item.body);
            return { eventId, epoch, seq, duplicate: false };
          });
          this.stmt.setLastSeq.run(seq, epoch);
          return results;
        })
        .immediate(items),
    );
  }

  stats(): OutboxStats {
    return this.guard(() =>
      this.db.transaction(() => {
        const unsent = this.stmt.unsentStats.get()!;
        const lastAck = this.stmt.lastAck.get();
        return {
          epoch: this.currentEpoch,
          lastSeq: this.stmt.lastSeq.get(this.currentEpoch)!.last_seq,
          unsent: {
            count: unsent.count,
            oldestCapturedAt: unsent.oldest,
            atRisk: this.stmt.atRisk.all().filter((r) => r.amount !== 0),
          },
          lastAck: lastAck ? { seq: lastAck.seq, at: lastAck.acked_at } : null,
          deadLetters: this.stmt.deadCount.get()!.count,
          total: this.stmt.totalCount.get()!.count,
        };
      })(),
    );
  }

  /** Deletes acknowledged events older than the cut-off; unacknowledged and dead-lettered ones are never pruned. */
  pruneAcknowledged(olderThanMs: number): number {
    return this.guard(() => this.stmt.pruneAcked.run(olderThanMs).changes);
  }

  /** Unsent events of the current epoch after `afterSeq`, in seq order: what the sync engine publishes next. */
  unsentAfter(afterSeq: number, limit: number): UnsentEvent[] {
    return this.guard(
      () =>
        this.db
          .prepare(
            `SELECT e.seq, e.event_id AS eventId, e.type, e.captured_at AS capturedAt, b.body
             FROM events e JOIN event_bodies b ON b.id = e.id
             WHERE e.epoch = ? AND e.state = 'pending' AND e.seq > ? ORDER BY e.seq LIMIT ?`,
          )
          .all(this.currentEpoch, afterSeq, limit) as UnsentEvent[],
    );
  }

  /** Events not yet delivered (dead letters excluded): cheap, from the partial index. */
  unsentCount(): number {
    return this.guard(() => this.stmt.unsentCount.get()!.count);
  }

  /** Highest seq handed out in an epoch (0 for an unknown one). */
  lastSeqOf(epoch: string): number {
    return this.guard(() => this.stmt.lastSeq.get(epoch)?.last_seq ?? 0);
  }

  /** The eventId this database holds at (epoch, seq), in any state; undefined when none (moved, pruned, never). */
  eventIdAt(epoch: string, seq: number): string | undefined {
    return this.guard(
      () =>
        this.db.prepare('SELECT event_id FROM events WHERE epoch = ? AND seq = ?').pluck().get(epoch, seq) as
          string | undefined,
    );
  }

  /**
   * Records what the hub acknowledged: the seqs of the answered batch (or, from an older hub that does
   * not name it, everything through ackedThrough) are acknowledged, except those it refused (dead
   * letters, which stop blocking the queue) and those where it holds a different event (conflicts, left
   * pending for the caller to move to a new epoch). Seqs outside the batch were not compared with this
   * database's events: after a restore or a clone the hub may hold another writer's there.
   */
  applyAck(ack: AckApplication): { acked: number; dead: number } {
    const now = this.clock.now();
    return this.guard(() =>
      this.bookkeeping
        .transaction(() => {
          const dead = this.bookkeeping.prepare(
            "UPDATE events SET state = 'dead', dead_reason = ? WHERE epoch = ? AND seq = ? AND state = 'pending'",
          );
          let deadCount = 0;
          for (const r of ack.rejected) deadCount += dead.run(r.reason, ack.epoch, r.seq).changes;
          const excluded = ack.conflicts.map((c) => c.seq);
          const [from, through] = ack.batch ? [ack.batch.firstSeq, ack.batch.lastSeq] : [1, ack.ackedThrough];
          const acked = this.bookkeeping
            .prepare(
              `UPDATE events SET state = 'acked', acked_at = ?
               WHERE epoch = ? AND seq BETWEEN ? AND ? AND state = 'pending'
               AND seq NOT IN (SELECT value FROM json_each(?))`,
            )
            .run(now, ack.epoch, from, through, JSON.stringify(excluded)).changes;
          return { acked, dead: deadCount };
        })
        .immediate(),
    );
  }

  /**
   * Starts a new epoch and moves every unsent event of earlier epochs into it, in capture order, with
   * fresh gapless seqs. Used when the hub holds seqs this database never handed out (it was restored
   * from an old backup, or cloned): reusing those seqs would collide, and dropping the events would
   * lose sales. The hub recognises an event it already stored by its eventId, so a move never doubles one.
   */
  startNewEpoch(reason: string, epochFactory: () => string = newEpoch): { epoch: string; moved: number } {
    const epoch = epochFactory();
    const now = this.clock.now();
    const moved = this.guard(() =>
      this.db
        .transaction(() => {
          this.db
            .prepare('INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES (?, ?, 0, ?)')
            .run(epoch, now, reason);
          const pending = this.db
            .prepare("SELECT id FROM events WHERE state = 'pending' ORDER BY id")
            .all() as { id: number }[];
          const move = this.db.prepare('UPDATE events SET epoch = ?, seq = ? WHERE id = ?');
          pending.forEach((row, i) => move.run(epoch, i + 1, row.id));
          this.stmt.setLastSeq.run(pending.length, epoch);
          this.db.prepare("UPDATE meta SET value = ? WHERE key = 'epoch'").run(epoch);
          return pending.length;
        })
        .immediate(),
    );
    this.currentEpoch = epoch;
    return { epoch, moved };
  }

  deadLetters(limit = 100): DeadLetterRow[] {
    return this.guard(
      () =>
        this.db
          .prepare(
            `SELECT epoch, seq, event_id AS eventId, terminal_id AS terminalId, transaction_id AS transactionId,
                    dead_reason AS reason, captured_at AS capturedAt, state
             FROM events WHERE state IN ('dead', 'discarded') ORDER BY state, id LIMIT ?`,
          )
          .all(limit) as DeadLetterRow[],
    );
  }

  /**
   * Sends a dead-lettered event again, as the newest event of the current epoch: the hub keeps its
   * earlier refusal on record and judges the event afresh under its new seq.
   */
  retryDeadLetter(eventId: string): { epoch: string; seq: number } {
    return this.guard(() =>
      this.db
        .transaction(() => {
          const row = this.db
            .prepare("SELECT id FROM events WHERE event_id = ? AND state = 'dead'")
            .get(eventId) as { id: number } | undefined;
          if (!row) throw new NotFoundError(`no dead-lettered event ${eventId}`);
          const seq = this.stmt.lastSeq.get(this.currentEpoch)!.last_seq + 1;
          this.db
            .prepare(
              "UPDATE events SET state = 'pending', epoch = ?, seq = ?, dead_reason = NULL WHERE id = ?",
            )
            .run(this.currentEpoch, seq, row.id);
          this.stmt.setLastSeq.run(seq, this.currentEpoch);
          return { epoch: this.currentEpoch, seq };
        })
        .immediate(),
    );
  }

  /** Gives up on a dead-lettered event: it stays on record as discarded, with who said so and why. */
  discardDeadLetter(eventId: string, note: string): void {
    this.guard(() => {
      const changes = this.db
        .prepare(
          "UPDATE events SET state = 'discarded', dead_reason = coalesce(dead_reason, '') || ' | discarded: ' || ? WHERE event_id = ? AND state = 'dead'",
        )
        .run(note, eventId).changes;
      if (changes === 0) throw new NotFoundError(`no dead-lettered event ${eventId}`);
    });
  }

  /**
   * Tells whether the disk takes writes again after a failure: room for more than a tiny row, then one
   * tiny durable write. The tiny write alone is not enough: on a disk that is still full it fits into
   * the WAL space the failed batch had already allocated (or, at the size cap, into an existing page),
   * and the agent would report itself healthy while every capture still fails.
   */
  probeWritable(minFreeBytes = PROBE_MIN_FREE_BYTES): void {
    this.guard(() => {
      const { bavail, bsize } = statfsSync(path.dirname(this.file));
      const pageSize = this.db.pragma('page_size', { simple: true }) as number;
      const pagesLeft =
        (this.db.pragma('max_page_count', { simple: true }) as number) -
        (this.db.pragma('page_count', { simple: true }) as number) +
        (this.db.pragma('freelist_count', { simple: true }) as number);
      if (Math.min(bavail * bsize, pagesLeft * pageSize) < minFreeBytes) {
        throw new StorageUnavailableError(
          'the disk holding the outbox is full; free some space on it',
          'disk-full',
        );
      }
      this.db
        .prepare(
          "INSERT INTO meta (key, value) VALUES ('probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .run(String(this.clock.now()));
    });
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

  private ensureEpoch(epochFactory: () => string): string {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as
      { value: string } | undefined;
    if (row) return row.value;
    const epoch = epochFactory();
    this.db
      .transaction(() => {
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?)").run(epoch);
        this.db
          .prepare('INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES (?, ?, 0, ?)')
          .run(epoch, this.clock.now(), 'new database');
      })
      .immediate();
    return epoch;
  }
}

/** Below this much free space, on the disk or under the size cap, the probe still counts the outbox as full. */
const PROBE_MIN_FREE_BYTES = 64 * 1024;

/**
 * The one place the outbox database is opened and its pragmas set. synchronous = FULL makes every
 * commit durable in WAL mode (NORMAL would trade the last commits for speed on power loss, which our
 * "201 means stored" promise cannot).
 */
function openDatabase(file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): Database.Database {
  // better-sqlite3 waits for a lock synchronously, freezing the whole agent meanwhile: wait long enough to
  // ride out a backup tool's brief lock, short enough that tills get their 503 and retry promptly.
  const db = new Database(file, { timeout: 1000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    // A backstop only: checkpoints normally run on a worker thread (wal-checkpointer.ts), off the tills' path.
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw asStorageUnavailable(error) ?? error;
  }
}
