/**
 * Numbered hub schema migrations, one statement list per dialect. Released entries are never edited.
 * Every seq of every store epoch gets exactly one row in hub_events (stored, rejected, duplicate or
 * quarantined), so "contiguous through N" proves that nothing up to N is missing.
 */
export const hubMigrations: readonly { sqlite: string; postgres: string }[] = [
  {
    sqlite: `
      CREATE TABLE hub_stores (
        store_id         TEXT PRIMARY KEY,
        current_epoch    TEXT,
        last_seen        INTEGER,
        online           INTEGER NOT NULL DEFAULT 0,
        status_at        INTEGER,
        reported_backlog INTEGER,
        agent_version    TEXT,
        quarantined      INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE TABLE hub_streams (
        store_id           TEXT NOT NULL,
        epoch              TEXT NOT NULL,
        first_seen         INTEGER NOT NULL,
        last_seen          INTEGER NOT NULL,
        contiguous_through INTEGER NOT NULL,
        highest_seq        INTEGER NOT NULL,
        PRIMARY KEY (store_id, epoch)
      ) STRICT;
      CREATE TABLE hub_events (
        store_id       TEXT NOT NULL,
        epoch          TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        event_id       TEXT NOT NULL,
        type           TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('stored', 'rejected', 'duplicate', 'quarantined')),
        reason         TEXT,
        terminal_id    TEXT,
        transaction_id TEXT,
        business_day   TEXT,
        captured_at    TEXT NOT NULL,
        received_at    INTEGER NOT NULL,
        body_hash      TEXT NOT NULL,
        body           TEXT NOT NULL,
        PRIMARY KEY (store_id, epoch, seq)
      ) STRICT;
      CREATE UNIQUE INDEX hub_events_stored_event ON hub_events (event_id) WHERE status = 'stored';
      CREATE UNIQUE INDEX hub_events_stored_transaction ON hub_events (store_id, terminal_id, transaction_id) WHERE status = 'stored';
      CREATE INDEX hub_events_day ON hub_events (store_id, business_day);
      CREATE TABLE hub_quarantine (
        id          INTEGER PRIMARY KEY,
        store_id    TEXT NOT NULL,
        epoch       TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        event_id    TEXT NOT NULL,
        reason      TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        body_hash   TEXT NOT NULL,
        body        TEXT NOT NULL
      ) STRICT;
      CREATE INDEX hub_quarantine_store ON hub_quarantine (store_id);
    `,
    postgres: `
      CREATE TABLE hub_stores (
        store_id         TEXT PRIMARY KEY,
        current_epoch    TEXT,
        last_seen        BIGINT,
        online           BOOLEAN NOT NULL DEFAULT false,
        status_at        BIGINT,
        reported_backlog INTEGER,
        agent_version    TEXT,
        quarantined      INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE hub_streams (
        store_id           TEXT NOT NULL,
        epoch              TEXT NOT NULL,
        first_seen         BIGINT NOT NULL,
        last_seen          BIGINT NOT NULL,
        contiguous_through BIGINT NOT NULL,
        highest_seq        BIGINT NOT NULL,
        PRIMARY KEY (store_id, epoch)
      );
      CREATE TABLE hub_events (
        store_id       TEXT NOT NULL,
        epoch          TEXT NOT NULL,
        seq            BIGINT NOT NULL,
        event_id       TEXT NOT NULL,
        type           TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('stored', 'rejected', 'duplicate', 'quarantined')),
        reason         TEXT,
        terminal_id    TEXT,
        transaction_id TEXT,
        business_day   TEXT,
        captured_at    TEXT NOT NULL,
        received_at    BIGINT NOT NULL,
        body_hash      TEXT NOT NULL,
        body           TEXT NOT NULL,
        PRIMARY KEY (store_id, epoch, seq)
      );
      CREATE UNIQUE INDEX hub_events_stored_event ON hub_events (event_id) WHERE status = 'stored';
      CREATE UNIQUE INDEX hub_events_stored_transaction ON hub_events (store_id, terminal_id, transaction_id) WHERE status = 'stored';
      CREATE INDEX hub_events_day ON hub_events (store_id, business_day);
      CREATE TABLE hub_quarantine (
        id          BIGSERIAL PRIMARY KEY,
        store_id    TEXT NOT NULL,
        epoch       TEXT NOT NULL,
        seq         BIGINT NOT NULL,
        event_id    TEXT NOT NULL,
        reason      TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        body_hash   TEXT NOT NULL,
        body        TEXT NOT NULL
      );
      CREATE INDEX hub_quarantine_store ON hub_quarantine (store_id);
    `,
  },
];
