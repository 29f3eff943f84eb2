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

  // 4: events beyond the POS's transactions. The store's own records travel the same exactly-once path
  // (its proof of promotion rollout; a till's close of its day): they have no terminal, POS transaction or
  // currency, so those columns become nullable, still required of sales, returns and voids. SQLite cannot
  // change a column's constraints in place: the table is rebuilt, every row with its id (event_bodies
  // refers to it), every index, the event_log view. This migration must run with foreign keys OFF
  // (migrateOutbox does so): with them ON, dropping the old table would first delete every row of it,
  // and ON DELETE CASCADE would take every body along.
  // The counts gain the event type, so a status shows sales and their amounts apart from the store's own
  // records; a record's currency is '' (no money) in the counts.
  `
  DROP VIEW event_log;

  CREATE TABLE events_rebuilt (
    id             INTEGER PRIMARY KEY,     -- local capture order
    epoch          TEXT NOT NULL REFERENCES epochs(epoch),
    seq            INTEGER NOT NULL,
    event_id       TEXT NOT NULL UNIQUE,
    terminal_id    TEXT,                    -- sales, returns, voids (and a till's day close)
    transaction_id TEXT,                    -- sales, returns, voids
    type           TEXT NOT NULL CHECK (type IN ('sale', 'return', 'void', 'promotion-applied', 'promotion-refused', 'day-close')),
    captured_at    INTEGER NOT NULL,        -- ms since the Unix epoch
    currency       TEXT,                    -- sales, returns, voids
    signed_total   INTEGER NOT NULL,        -- minor units: + sale, - return, 0 void and records
    body_hash      TEXT NOT NULL,           -- digest of the exact body text, for idempotent re-submission
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'dead', 'discarded')),
    acked_at       INTEGER,
    dead_reason    TEXT,
    UNIQUE (epoch, seq),
    UNIQUE (terminal_id, transaction_id),
    CHECK (type NOT IN ('sale', 'return', 'void')
           OR (terminal_id IS NOT NULL AND transaction_id IS NOT NULL AND currency IS NOT NULL))
  ) STRICT;

  INSERT INTO events_rebuilt (id, epoch, seq, event_id, terminal_id, transaction_id, type, captured_at,
                              currency, signed_total, body_hash, state, acked_at, dead_reason)
    SELECT id, epoch, seq, event_id, terminal_id, transaction_id, type, captured_at,
           currency, signed_total, body_hash, state, acked_at, dead_reason
    FROM events;

  DROP TABLE events;
  ALTER TABLE events_rebuilt RENAME TO events;

  CREATE INDEX events_unsent ON events (epoch, seq) WHERE state = 'pending';
  CREATE INDEX events_acked_at ON events (acked_at) WHERE state = 'acked';
  CREATE INDEX events_unsent_age ON events (captured_at) WHERE state = 'pending';
  CREATE INDEX events_dead ON events (state) WHERE state IN ('dead', 'discarded');

  CREATE VIEW event_log AS SELECT e.*, b.body FROM events e JOIN event_bodies b ON b.id = e.id;

  DROP TABLE event_counts;
  CREATE TABLE event_counts (
    state    TEXT NOT NULL,
    type     TEXT NOT NULL,
    currency TEXT NOT NULL,                -- '' for records, which carry no money
    events   INTEGER NOT NULL,
    amount   INTEGER NOT NULL,             -- sum of signed_total, minor units
    PRIMARY KEY (state, type, currency)
  ) STRICT, WITHOUT ROWID;

  INSERT INTO event_counts (state, type, currency, events, amount)
    SELECT state, type, coalesce(currency, ''), count(*), sum(signed_total) FROM events
    GROUP BY state, type, coalesce(currency, '');

  CREATE TRIGGER event_counts_insert AFTER INSERT ON events BEGIN
    INSERT INTO event_counts (state, type, currency, events, amount)
    VALUES (NEW.state, NEW.type, coalesce(NEW.currency, ''), 1, NEW.signed_total)
    ON CONFLICT (state, type, currency) DO UPDATE SET events = events + 1, amount = amount + excluded.amount;
  END;

  CREATE TRIGGER event_counts_delete AFTER DELETE ON events BEGIN
    UPDATE event_counts SET events = events - 1, amount = amount - OLD.signed_total
    WHERE state = OLD.state AND type = OLD.type AND currency = coalesce(OLD.currency, '');
  END;

  CREATE TRIGGER event_counts_update AFTER UPDATE OF state, type, currency, signed_total ON events BEGIN
    UPDATE event_counts SET events = events - 1, amount = amount - OLD.signed_total
    WHERE state = OLD.state AND type = OLD.type AND currency = coalesce(OLD.currency, '');
    INSERT INTO event_counts (state, type, currency, events, amount)
    VALUES (NEW.state, NEW.type, coalesce(NEW.currency, ''), 1, NEW.signed_total)
    ON CONFLICT (state, type, currency) DO UPDATE SET events = events + 1, amount = amount + excluded.amount;
  END;
  `,

  // 5: promotions. The catalogue holds, per promotion, the latest version this store took (in any state:
  // a withdrawn or no-longer-targeted version is what keeps an older one from coming back) with its signed
  // envelope exactly as received. The history holds every version applied and every refusal, each with the
  // outbox event that reports it to head office, written in the same transaction as the change.
  // event_id is not a foreign key: acknowledged events are pruned, the history stays.
  `
  CREATE TABLE promotion_history (
    id               INTEGER PRIMARY KEY,
    outcome          TEXT NOT NULL CHECK (outcome IN ('applied', 'refused')),
    promotion_id     TEXT,               -- refused: NULL when the message was too broken to name one
    version          INTEGER,
    digest           TEXT,               -- SHA-256 of the document's canonical JSON
    key_id           TEXT,
    change           TEXT CHECK (change IN ('new', 'update', 'withdrawal', 'no-longer-targeted')),
    previous_version INTEGER,
    reason           TEXT,               -- refused: unsigned, malformed, unknown-key, bad-signature, …
    message          TEXT,               -- refused: plain words, with what to do
    topic            TEXT NOT NULL,
    received_text    TEXT NOT NULL,      -- applied: the signed envelope as received; refused: what came (cut short)
    -- refused: what makes two refusals the same one (this store's keys and region, and the version and
    -- digest, or the exact text), so a retained message refused again on every reconnect is recorded once
    refusal_key      TEXT,
    config_key       TEXT,               -- refused: the trusted keys and region it was judged under
    event_id         TEXT NOT NULL,      -- the outbox event (promotion-applied / promotion-refused)
    at               INTEGER NOT NULL,   -- ms since the Unix epoch
    CHECK ((outcome = 'applied') = (change IS NOT NULL)),
    CHECK ((outcome = 'refused') = (reason IS NOT NULL AND refusal_key IS NOT NULL))
  ) STRICT;

  CREATE UNIQUE INDEX promotion_refusals_once ON promotion_history (refusal_key) WHERE outcome = 'refused';
  CREATE INDEX promotion_history_versions ON promotion_history (promotion_id, version);

  CREATE TABLE promotion_catalogue (
    promotion_id TEXT PRIMARY KEY,
    version      INTEGER NOT NULL CHECK (version > 0),
    state        TEXT NOT NULL CHECK (state IN ('staged', 'active', 'withdrawn')),
    change       TEXT NOT NULL CHECK (change IN ('new', 'update', 'withdrawal', 'no-longer-targeted')),
    digest       TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    signed_text  TEXT NOT NULL,          -- the signed envelope exactly as received
    applied_at   INTEGER NOT NULL,
    history_id   INTEGER NOT NULL REFERENCES promotion_history(id)
  ) STRICT;
  `,

  // 6: business days. Every sale, return, void and day close knows its business day, so the store can say
  // per day what it has not sent yet (its status's unsentByDay, which head office's export reads to know
  // whether a day may still grow): backfilled from the bodies, then counted per day by triggers, so the
  // status never counts a week's backlog. A till's close of its day is one event per (till, day,
  // closedAt): a retry is that same close, a corrected Z-report closes again later and is a new one.
  // till_days keeps, per till and day, the close in force here and head office's latest verdict on it;
  // command_answers what the store did with head office's commands, so a repeated one is answered alike.
  `
  ALTER TABLE events ADD COLUMN business_day TEXT;    -- sales, returns, voids and day closes
  ALTER TABLE events ADD COLUMN closed_at INTEGER;    -- day closes: the close's closedAt, ms since the Unix epoch
  UPDATE events SET business_day = (
    SELECT CASE WHEN json_valid(b.body) THEN json_extract(b.body, '$.businessDay') END
    FROM event_bodies b WHERE b.id = events.id)
  WHERE type IN ('sale', 'return', 'void', 'day-close');
  CREATE UNIQUE INDEX events_day_close_once ON events (terminal_id, business_day, closed_at)
    WHERE type = 'day-close';

  -- Sales, returns and voids not yet delivered, per business day (events without a day count under '').
  CREATE TABLE unsent_days (
    business_day TEXT PRIMARY KEY,
    events       INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  INSERT INTO unsent_days (business_day, events)
    SELECT coalesce(business_day, ''), count(*) FROM events
    WHERE state = 'pending' AND type IN ('sale', 'return', 'void')
    GROUP BY coalesce(business_day, '');

  CREATE TRIGGER unsent_days_insert AFTER INSERT ON events
  WHEN NEW.state = 'pending' AND NEW.type IN ('sale', 'return', 'void') BEGIN
    INSERT INTO unsent_days (business_day, events) VALUES (coalesce(NEW.business_day, ''), 1)
    ON CONFLICT (business_day) DO UPDATE SET events = events + 1;
  END;

  CREATE TRIGGER unsent_days_delete AFTER DELETE ON events
  WHEN OLD.state = 'pending' AND OLD.type IN ('sale', 'return', 'void') BEGIN
    UPDATE unsent_days SET events = events - 1 WHERE business_day = coalesce(OLD.business_day, '');
  END;

  CREATE TRIGGER unsent_days_update AFTER UPDATE OF state ON events
  WHEN (OLD.state = 'pending') <> (NEW.state = 'pending') AND NEW.type IN ('sale', 'return', 'void') BEGIN
    UPDATE unsent_days SET events = events - 1
    WHERE OLD.state = 'pending' AND business_day = coalesce(OLD.business_day, '');
    INSERT INTO unsent_days (business_day, events)
      SELECT coalesce(NEW.business_day, ''), 1 WHERE NEW.state = 'pending'
    ON CONFLICT (business_day) DO UPDATE SET events = events + 1;
  END;

  CREATE TABLE till_days (
    terminal_id    TEXT NOT NULL,
    business_day   TEXT NOT NULL,
    -- The close in force here: the latest closedAt captured (a corrected Z-report replaces an earlier one).
    -- NULL when head office judged a close this database does not hold (captured before it was restored).
    closed_at      INTEGER,
    z_number       TEXT,
    totals         TEXT,                  -- the Z-report's totals[] as JSON
    close_event_id TEXT,
    -- Head office's latest verdict (the latest 'at' wins: a verdict sent again never overrides a newer one).
    state          TEXT CHECK (state IN ('confirmed', 'mismatch')),
    judged_at      INTEGER,               -- the verdict's 'at', ms; never decreases
    differences    TEXT,                  -- JSON (dayDifferencesSchema)
    received_at    INTEGER,
    -- 1 once a close captured here is newer than the verdict: head office has yet to judge it.
    verdict_stale  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal_id, business_day)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE command_answers (
    request_id TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('retry-dead-letter', 'discard-dead-letter')),
    event_id   TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('done', 'refused')),
    message    TEXT NOT NULL,
    note       TEXT,                      -- who asked and why, as the command said
    at         INTEGER NOT NULL           -- ms since the Unix epoch
  ) STRICT;
  CREATE INDEX command_answers_latest ON command_answers (at);
  `,
];
