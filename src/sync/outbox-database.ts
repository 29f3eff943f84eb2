import { statfsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../lib/clock.js';
import { ConfigError, StorageUnavailableError } from '../lib/errors.js';
import { migrateSqlite } from '../lib/sqlite-migrations.js';
import { outboxMigrations } from './outbox-migrations.js';
import { asStorageUnavailable } from './storage-errors.js';

/**
 * When the write-ahead log starts again from the top after a checkpoint, SQLite cuts the file back to
 * this size. Without a limit the WAL keeps the size of the largest burst it ever held (or of the time a
 * reader kept checkpoints from finishing). Above the automatic-checkpoint backstop (10,000 pages, about
 * 40 MiB), so steady trading never cuts and regrows the file: that made every capture's fsync also
 * commit the file's new size, and cost durable capture a third of its rate. On a small disk the space
 * comes back sooner: the checkpointer empties the WAL whenever the outbox is idle (wal-checkpointer.ts).
 */
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Below this much free space, on the disk or under the size cap, the probe still counts the outbox as full. */
const PROBE_MIN_FREE_BYTES = 64 * 1024;

export interface OpenOptions {
  /** FULL for capture (a 201 means stored); NORMAL where a lost commit only repeats work (acks, pruning). */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * better-sqlite3 waits for a lock synchronously, freezing its thread meanwhile. On the agent's main
   * thread: long enough to ride out a backup tool's brief lock, short enough that tills get their 503
   * and retry promptly.
   */
  busyTimeoutMs?: number;
  /**
   * SQLite's page cache for this connection, in KiB (better-sqlite3's default is 16 MiB). Connections that
   * read each event once, in order (delivery, acknowledgements), gain nothing from a large one: it only
   * holds bodies already sent, and it counts in the agent's resident memory.
   */
  cacheKib?: number;
}

/**
 * The one place an outbox connection is opened and its pragmas set. synchronous = FULL makes every
 * commit durable in WAL mode (NORMAL would trade the last commits for speed on power loss, which our
 * "201 means stored" promise cannot).
 */
export function openOutboxDatabase(file: string, options: OpenOptions = {}): Database.Database {
  const db = new Database(file, { timeout: options.busyTimeoutMs ?? 1000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    // A backstop only: checkpoints normally run on a worker thread (wal-checkpointer.ts), off the tills' path.
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('foreign_keys = ON');
    // A statement that fires triggers (the event counts) keeps a statement journal so it can be undone
    // alone; in a temp file that doubles the CPU cost of a capture's insert, in memory it is a few µs.
    db.pragma('temp_store = MEMORY');
    if (options.cacheKib !== undefined) db.pragma(`cache_size = -${options.cacheKib}`);
    return db;
  } catch (error) {
    db.close();
    throw asStorageUnavailable(error) ?? error;
  }
}

/** Brings the schema up to date; a database written by a newer Outpost is refused and left as it was. */
export function migrateOutbox(db: Database.Database): void {
  // SQLite's procedure for rebuilding a table (migration 4): foreign keys off while the migrations run
  // (a pragma that does nothing inside a transaction, hence here), then every reference checked before
  // they are on again. With them on, dropping the old events table would cascade to every body.
  const before = db.pragma('user_version', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    migrateSqlite(
      db,
      outboxMigrations,
      (current, known) =>
        `the outbox database is at schema version ${current}, but this Outpost knows only up to ${known}: ` +
        'it was written by a newer version. Install that version (or newer) rather than downgrading.',
    );
    // Only after a migration ran: on a month of a busy store's events the check takes a while.
    const migrated = (db.pragma('user_version', { simple: true }) as number) !== before;
    const broken = migrated ? (db.pragma('foreign_key_check') as { table: string; parent: string }[]) : [];
    if (broken.length > 0) {
      const first = broken[0]!;
      throw new Error(
        `the outbox database has ${broken.length} broken reference(s) after its migration (${first.table} → ${first.parent}); ` +
          'keep the file for support and restore it from a backup',
      );
    }
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

/**
 * An outbox belongs to one store. Its first opening records the storeId (databases older than this
 * record get it on their next opening); opening it under another storeId would send this store's events
 * to head office under the other's name, where they would look like a permanent gap.
 */
export function claimStoreIdentity(db: Database.Database, storeId: string, file: string): void {
  db.transaction(() => {
    const recorded = db.prepare("SELECT value FROM meta WHERE key = 'store_id'").pluck().get() as
      string | undefined;
    if (recorded === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('store_id', ?)").run(storeId);
      return;
    }
    if (recorded !== storeId) {
      const dataDir = path.dirname(file);
      throw new ConfigError(
        `storeId is "${storeId}", but the outbox in dataDir ${dataDir} belongs to store "${recorded}". ` +
          `If this PC is store "${recorded}", set storeId back to "${recorded}"; ` +
          `if it is now another store, give it a new, empty dataDir (keep ${dataDir} until head office holds all of its sales).`,
      );
    }
  }).immediate();
}

/** The epoch of a new database, created with it; an existing database keeps its own. */
export function ensureEpoch(db: Database.Database, clock: Clock, epochFactory: () => string): void {
  db.transaction(() => {
    if (db.prepare("SELECT 1 FROM meta WHERE key = 'epoch'").get()) return;
    const epoch = epochFactory();
    db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?)").run(epoch);
    db.prepare('INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES (?, ?, 0, ?)').run(
      epoch,
      clock.now(),
      'new database',
    );
  }).immediate();
}

/** Caps the database size: writes beyond it fail as "disk full" instead of filling the disk. */
export function capOutboxSize(db: Database.Database, maxSizeMb: number): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`max_page_count = ${Math.floor((maxSizeMb * 1024 * 1024) / pageSize)}`);
}

/** What every writer of the outbox asks about epochs, on each capture and acknowledgement. */
export interface EpochQueries {
  /** The epoch new captures go into. Read inside each writing transaction: another connection may have moved on. */
  current(): string;
  /** The highest seq handed out in an epoch (kept apart from the events: pruning never lowers it); undefined for an unknown epoch. */
  lastSeq(epoch: string): number | undefined;
  setLastSeq(epoch: string, seq: number): void;
}

const epochQueriesByConnection = new WeakMap<Database.Database, EpochQueries>();

/** The epoch queries of one connection, prepared once for it (captures and acknowledgements run them on every call). */
export function epochQueries(db: Database.Database): EpochQueries {
  let queries = epochQueriesByConnection.get(db);
  if (!queries) {
    const current = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'epoch'").pluck();
    const lastSeq = db.prepare<[string], number>('SELECT last_seq FROM epochs WHERE epoch = ?').pluck();
    const setLastSeq = db.prepare<[number, string]>('UPDATE epochs SET last_seq = ? WHERE epoch = ?');
    queries = {
      current: () => current.get()!,
      lastSeq: (epoch) => lastSeq.get(epoch),
      setLastSeq: (epoch, seq) => void setLastSeq.run(seq, epoch),
    };
    epochQueriesByConnection.set(db, queries);
  }
  return queries;
}

/**
 * Tells whether the disk takes writes again after a failure: room for more than a tiny row, then one
 * tiny durable write. The tiny write alone is not enough: on a disk that is still full it fits into
 * the WAL space the failed batch had already allocated (or, at the size cap, into an existing page),
 * and the agent would report itself healthy while every capture still fails.
 */
export function probeWritable(
  db: Database.Database,
  file: string,
  now: number,
  minFreeBytes = PROBE_MIN_FREE_BYTES,
): void {
  const { bavail, bsize } = statfsSync(path.dirname(file));
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pagesLeft =
    (db.pragma('max_page_count', { simple: true }) as number) -
    (db.pragma('page_count', { simple: true }) as number) +
    (db.pragma('freelist_count', { simple: true }) as number);
  if (Math.min(bavail * bsize, pagesLeft * pageSize) < minFreeBytes) {
    throw new StorageUnavailableError(
      'the disk holding the outbox is full; free some space on it',
      'disk-full',
    );
  }
  db.prepare(
    "INSERT INTO meta (key, value) VALUES ('probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(String(now));
}
