/**
 * Numbered schema migrations of the store outbox. Each runs in its own transaction together with
 * the bump of `PRAGMA user_version`, so a crash leaves the database at one version or the next.
 * Released migrations are never edited: a change is a new entry.
 */
export const outboxMigrations: readonly string[] = [
  // 1: events, epochs, metadata.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  -- One row per outbox epoch. last_seq is kept here, not derived from events, so pruning
  -- acknowledged events can never make a sequence number be handed out twice.
  CREATE TABLE epochs (
    epoch      TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL
  ) STRICT;

  -- Event metadata and state. The body lives in event_bodies: acknowledging a batch rewrites only these
  -- small rows, not ~1 KB of body per event, so acks write (and the next capture's fsync flushes) little.
  CREATE TABLE events (
    id             INTEGER PRIMARY KEY,     -- local capture order
    epoch          TEXT NOT NULL REFERENCES epochs(epoch),
    seq            INTEGER NOT NULL,
    event_id       TEXT NOT NULL UNIQUE,
    terminal_id    TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    type           TEXT NOT NULL CHECK (type IN ('sale', 'return', 'void')),
    captured_at    INTEGER NOT NULL,        -- ms since the Unix epoch
    currency       TEXT NOT NULL,
    signed_total   INTEGER NOT NULL,        -- minor units: + sale, - return, 0 void
    body_hash      TEXT NOT NULL,           -- digest of the exact body text, for idempotent re-submission
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'dead', 'discarded')),
    acked_at       INTEGER,
    dead_reason    TEXT,
    UNIQUE (epoch, seq),
    UNIQUE (terminal_id, transaction_id)
  ) STRICT;

  CREATE TABLE event_bodies (
    id   INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    body TEXT NOT NULL                      -- exactly as the POS submitted it
  ) STRICT;

  -- Events with their bodies, for support engineers reading the file with sqlite3.
  CREATE VIEW event_log AS SELECT e.*, b.body FROM events e JOIN event_bodies b ON b.id = e.id;

  CREATE INDEX events_unsent ON events (epoch, seq) WHERE state = 'pending';
  CREATE INDEX events_acked_at ON events (acked_at) WHERE state = 'acked';
  -- What the status page asks about a large backlog, answered from indexes.
  CREATE INDEX events_unsent_age ON events (captured_at) WHERE state = 'pending';
  CREATE INDEX events_at_risk ON events (currency, signed_total) WHERE state IN ('pending', 'dead');
  CREATE INDEX events_last_acked ON events (epoch, seq) WHERE state = 'acked';
  CREATE INDEX events_dead ON events (state) WHERE state IN ('dead', 'discarded');
  `,
];
