import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { summarize, type Distribution } from './stats.js';

/**
 * The durable-write ceiling of this disk, with no HTTP and no validation: better-sqlite3 inserting rows
 * shaped like the outbox's events (schema mirrored from migration 1 of src/sync/outbox-migrations.ts:
 * same columns, unique keys and partial indexes) with the outbox's pragmas, WAL + synchronous = FULL.
 */
const SCHEMA = `
  CREATE TABLE epochs (epoch TEXT PRIMARY KEY, started_at INTEGER NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL) STRICT;
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    epoch TEXT NOT NULL REFERENCES epochs(epoch),
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    terminal_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('sale', 'return', 'void')),
    captured_at INTEGER NOT NULL,
    currency TEXT NOT NULL,
    signed_total INTEGER NOT NULL,
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'dead', 'discarded')),
    acked_at INTEGER,
    dead_reason TEXT,
    UNIQUE (epoch, seq),
    UNIQUE (terminal_id, transaction_id)
  ) STRICT;
  CREATE INDEX events_unsent ON events (epoch, seq) WHERE state = 'pending';
  CREATE INDEX events_acked_at ON events (acked_at) WHERE state = 'acked';
  INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES ('bench', 0, 0, 'bench');
`;

export interface RawRate {
  rowsPerCommit: number;
  rows: number;
  commits: number;
  elapsedS: number;
  rowsPerSecond: number;
  commitsPerSecond: number;
  /** Wall time of one durable commit (BEGIN IMMEDIATE … COMMIT, including its fsync), milliseconds. */
  commitMs: Distribution;
}

export interface RawSqliteResult {
  sqliteVersion: string;
  journalMode: string;
  synchronous: number;
  rate: RawRate;
}

/** Opens a fresh database in `dir` and inserts `rowsPerCommit` rows per durable commit for `seconds`. */
export function measureRawSqlite(
  dir: string,
  options: { body: (n: number) => string; seconds: number; rowsPerCommit: number },
): RawSqliteResult {
  const db = new Database(path.join(dir, `raw-${options.rowsPerCommit}.sqlite`), { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    const insert = db.prepare(
      `INSERT INTO events (event_id, epoch, seq, terminal_id, transaction_id, type, currency, signed_total, body, captured_at, body_hash, state)
       VALUES (?, 'bench', ?, 'T01', ?, 'sale', 'EUR', 609, ?, ?, ?, 'pending')`,
    );
    let seq = 0;
    const insertRows = db.transaction((count: number) => {
      for (let i = 0; i < count; i++) {
        seq += 1;
        // The event id and hash have the lengths of a ULID and a base64url SHA-256, like the outbox's.
        const eventId = `01RAW${String(seq).padStart(21, '0')}`;
        insert.run(
          eventId,
          seq,
          `T01-${seq}`,
          options.body(seq),
          Date.now(),
          `h${String(seq).padStart(42, '0')}`,
        );
      }
    });
    // A short warm-up so the first measured commits do not pay for creating the WAL file.
    const warmUpUntil = performance.now() + 500;
    while (performance.now() < warmUpUntil) insertRows.immediate(1);

    const rate = measureCommits(options.rowsPerCommit, options.seconds, () =>
      insertRows.immediate(options.rowsPerCommit),
    );
    return {
      sqliteVersion: db.prepare('SELECT sqlite_version() AS v').pluck().get() as string,
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      synchronous: db.pragma('synchronous', { simple: true }) as number,
      rate,
    };
  } finally {
    db.close();
  }
}

/** Calls `commit` back to back for `seconds`, timing each call (one durable commit of `rowsPerCommit` rows). */
export function measureCommits(rowsPerCommit: number, seconds: number, commit: () => void): RawRate {
  const durations: number[] = [];
  const startedAt = performance.now();
  const deadline = startedAt + seconds * 1000;
  while (performance.now() < deadline) {
    const t = performance.now();
    commit();
    durations.push(performance.now() - t);
  }
  const elapsedS = (performance.now() - startedAt) / 1000;
  const rows = durations.length * rowsPerCommit;
  return {
    rowsPerCommit,
    rows,
    commits: durations.length,
    elapsedS,
    rowsPerSecond: rows / elapsedS,
    commitsPerSecond: durations.length / elapsedS,
    commitMs: summarize(durations),
  };
}
