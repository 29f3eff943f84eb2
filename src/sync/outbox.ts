import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { TransactionType } from '../contracts/transaction.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { ConflictError } from '../lib/errors.js';
import { createEventIdFactory, newEpoch, type IdFactory } from '../lib/ids.js';
import { migrate, outboxMigrations } from './outbox-migrations.js';
import { asStorageUnavailable } from './storage-errors.js';

/** What capture hands to the outbox: the body exactly as submitted plus the fields the outbox indexes. */
export interface CaptureInput {
  terminalId: string;
  transactionId: string;
  type: TransactionType;
  currency: string;
  signedTotal: number;
  body: string;
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
  private readonly clock: Clock;
  private readonly eventIds: IdFactory;
  private currentEpoch: string;

  private readonly stmt: {
    findByKey: Database.Statement<[string, string], EventKeyRow>;
    lastSeq: Database.Statement<[string], { last_seq: number }>;
    setLastSeq: Database.Statement<[number, string]>;
    insert: Database.Statement<
      [string, string, number, string, string, string, string, number, string, number, string, string]
    >;
    unsentStats: Database.Statement<[], { count: number; oldest: number | null }>;
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
      migrate(this.db, outboxMigrations, 'outbox');
      if (options.maxSizeMb !== undefined) {
        const pageSize = this.db.pragma('page_size', { simple: true }) as number;
        this.db.pragma(`max_page_count = ${Math.floor((options.maxSizeMb * 1024 * 1024) / pageSize)}`);
      }
      this.currentEpoch = this.ensureEpoch(options.epochFactory ?? newEpoch);
    } catch (error) {
      this.db.close();
      throw error;
    }
    const db = this.db;
    this.stmt = {
      findByKey: db.prepare(
        'SELECT event_id, epoch, seq, body_hash FROM events WHERE terminal_id = ? AND transaction_id = ?',
      ),
      lastSeq: db.prepare('SELECT last_seq FROM epochs WHERE epoch = ?'),
      setLastSeq: db.prepare('UPDATE epochs SET last_seq = ? WHERE epoch = ?'),
      insert: db.prepare(
        `INSERT INTO events (event_id, epoch, seq, terminal_id, transaction_id, type, currency, signed_total, body, captured_at, body_hash, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      unsentStats: db.prepare(
        "SELECT count(*) AS count, min(captured_at) AS oldest FROM events WHERE state = 'pending'",
      ),
      atRisk: db.prepare(
        "SELECT currency, sum(signed_total) AS amount FROM events WHERE state IN ('pending', 'dead') GROUP BY currency ORDER BY currency",
      ),
      lastAck: db.prepare(
        "SELECT seq, acked_at FROM events WHERE state = 'acked' AND epoch = (SELECT value FROM meta WHERE key = 'epoch') ORDER BY seq DESC LIMIT 1",
      ),
      deadCount: db.prepare("SELECT count(*) AS count FROM events WHERE state = 'dead'"),
      totalCount: db.prepare('SELECT count(*) AS count FROM events'),
      pruneAcked: db.prepare("DELETE FROM events WHERE state = 'acked' AND acked_at < ?"),
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
              if (existing.body_hash !== item.bodyHash) {
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
            this.stmt.insert.run(
              eventId,
              epoch,
              seq,
              item.terminalId,
              item.transactionId,
              item.type,
              item.currency,
              item.signedTotal,
              item.body,
              now,
              item.bodyHash,
              'pending',
            );
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

  /** Writes one tiny row durably: tells whether the disk takes writes again after a failure. */
  probeWritable(): void {
    this.guard(() =>
      this.db
        .prepare(
          "INSERT INTO meta (key, value) VALUES ('probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .run(String(this.clock.now())),
    );
  }

  /** A cheap structural check, for start-up diagnostics and tests. */
  quickCheck(): string {
    return this.db.pragma('quick_check', { simple: true }) as string;
  }

  close(): void {
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

/**
 * The one place the outbox database is opened and its pragmas set. synchronous = FULL makes every
 * commit durable in WAL mode (NORMAL would trade the last commits for speed on power loss, which our
 * "201 means stored" promise cannot). busy_timeout rides out brief locks from backup tools.
 */
function openDatabase(file: string): Database.Database {
  const db = new Database(file, { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw asStorageUnavailable(error) ?? error;
  }
}
