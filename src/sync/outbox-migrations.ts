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

  // 2: epoch closes. When this database leaves an epoch (it was restored or cloned), it records there, in
  // the same transaction that moves the unsent events, where the epoch ends and where each moved event
  // went, so head office can account for every seq of the old epoch. Parts are delivered like events:
  // published on every connection until head office acknowledges them.
  `
  CREATE TABLE epoch_closes (
    epoch      TEXT PRIMARY KEY REFERENCES epochs(epoch),
    last_seq   INTEGER NOT NULL,           -- highest seq this database handed out in the epoch
    next_epoch TEXT NOT NULL REFERENCES epochs(epoch),
    reason     TEXT NOT NULL,
    closed_at  INTEGER NOT NULL,           -- ms since the Unix epoch
    parts      INTEGER NOT NULL CHECK (parts >= 1)
  ) STRICT;

  -- Every event of a closed epoch that was not yet acknowledged: its seq there, and its seq in next_epoch.
  CREATE TABLE epoch_moves (
    epoch    TEXT NOT NULL REFERENCES epoch_closes(epoch),
    seq      INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    to_seq   INTEGER NOT NULL,
    PRIMARY KEY (epoch, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE epoch_close_parts (
    epoch    TEXT NOT NULL REFERENCES epoch_closes(epoch),
    part     INTEGER NOT NULL,
    acked_at INTEGER,                      -- when head office acknowledged this part; NULL until then
    PRIMARY KEY (epoch, part)
  ) STRICT, WITHOUT ROWID;
  `,

  // 3: what the status page needs, kept as it changes rather than counted over every retained event (after
  // a month a busy store retains millions): event counts kept by triggers (so a CLI process beside the
  // agent keeps them right too), and each epoch's last acknowledged seq. Two indexes that served only
  // those counts go: every acknowledgement rewrote them, and the next capture's fsync flushed the pages.
  `
  ALTER TABLE epochs ADD COLUMN acked_seq INTEGER;   -- highest acknowledged seq of the epoch; NULL before the first
  ALTER TABLE epochs ADD COLUMN acked_at INTEGER;    -- when it was acknowledged, ms since the Unix epoch
  UPDATE epochs SET
    acked_seq = (SELECT max(seq) FROM events WHERE events.epoch = epochs.epoch AND state = 'acked'),
    acked_at = (SELECT acked_at FROM events WHERE events.epoch = epochs.epoch AND state = 'acked' ORDER BY seq DESC LIMIT 1);
  DROP INDEX events_last_acked;
  DROP INDEX events_at_risk;

  CREATE TABLE event_counts (
    state    TEXT NOT NULL,
    currency TEXT NOT NULL,
    events   INTEGER NOT NULL,
    amount   INTEGER NOT NULL,             -- sum of signed_total, minor units
    PRIMARY KEY (state, currency)
  ) STRICT, WITHOUT ROWID;

  INSERT INTO event_counts (state, currency, events, amount)
    SELECT state, currency, count(*), sum(signed_total) FROM events GROUP BY state, currency;

  CREATE TRIGGER event_counts_insert AFTER INSERT ON events BEGIN
    INSERT INTO event_counts (state, currency, events, amount) VALUES (NEW.state, NEW.currency, 1, NEW.signed_total)
    ON CONFLICT (state, currency) DO UPDATE SET events = events + 1, amount = amount + excluded.amount;
  END;

  CREATE TRIGGER event_counts_delete AFTER DELETE ON events BEGIN
    UPDATE event_counts SET events = events - 1, amount = amount - OLD.signed_total
    WHERE state = OLD.state AND currency = OLD.currency;
  END;

  CREATE TRIGGER event_counts_update AFTER UPDATE OF state, currency, signed_total ON events BEGIN
    UPDATE event_counts SET events = events - 1, amount = amount - OLD.signed_total
    WHERE state = OLD.state AND currency = OLD.currency;
    INSERT INTO event_counts (state, currency, events, amount) VALUES (NEW.state, NEW.currency, 1, NEW.signed_total)
    ON CONFLICT (state, currency) DO UPDATE SET events = events + 1, amount = amount + excluded.amount;
  END;
  `,
];
