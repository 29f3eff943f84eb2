/**
 * Numbered hub schema migrations, one statement list per dialect. Released entries are never edited.
 * Every seq of every store epoch gets exactly one row in hub_events (stored, rejected, duplicate,
 * quarantined or, from migration 2, moved), so "contiguous through N" proves that nothing up to N is missing.
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
  /**
   * 2: epochs can be closed, and seqs moved out of them. A `moved` row has no body (the event now lives in
   * the next epoch, at moved_to_seq); quarantined copies can carry their move too. hub_streams gains the
   * close and the per-epoch counters that ingest keeps in its own transaction, so /v1/stores reads them
   * instead of counting every event. SQLite cannot widen a CHECK in place: hub_events is rebuilt.
   */
  {
    sqlite: `
      CREATE TABLE hub_events_v2 (
        store_id       TEXT NOT NULL,
        epoch          TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        event_id       TEXT NOT NULL,
        type           TEXT,
        status         TEXT NOT NULL CHECK (status IN ('stored', 'rejected', 'duplicate', 'quarantined', 'moved')),
        reason         TEXT,
        terminal_id    TEXT,
        transaction_id TEXT,
        business_day   TEXT,
        captured_at    TEXT,
        received_at    INTEGER NOT NULL,
        body_hash      TEXT,
        body           TEXT,
        moved_to_epoch TEXT,
        moved_to_seq   INTEGER,
        PRIMARY KEY (store_id, epoch, seq),
        CHECK ((status = 'moved') = (moved_to_epoch IS NOT NULL AND moved_to_seq IS NOT NULL)),
        CHECK (status = 'moved' OR (type IS NOT NULL AND captured_at IS NOT NULL AND body_hash IS NOT NULL AND body IS NOT NULL))
      ) STRICT;
      INSERT INTO hub_events_v2 (store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
          business_day, captured_at, received_at, body_hash, body)
        SELECT store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
          business_day, captured_at, received_at, body_hash, body FROM hub_events;
      DROP TABLE hub_events;
      ALTER TABLE hub_events_v2 RENAME TO hub_events;
      CREATE UNIQUE INDEX hub_events_stored_event ON hub_events (event_id) WHERE status = 'stored';
      CREATE UNIQUE INDEX hub_events_stored_transaction ON hub_events (store_id, terminal_id, transaction_id) WHERE status = 'stored';
      CREATE INDEX hub_events_day ON hub_events (store_id, business_day);

      ALTER TABLE hub_quarantine ADD COLUMN moved_to_epoch TEXT;
      ALTER TABLE hub_quarantine ADD COLUMN moved_to_seq INTEGER;
      CREATE INDEX hub_quarantine_seq ON hub_quarantine (store_id, epoch, seq);

      ALTER TABLE hub_streams ADD COLUMN closed_at_seq INTEGER;
      ALTER TABLE hub_streams ADD COLUMN next_epoch TEXT;
      ALTER TABLE hub_streams ADD COLUMN closed_at INTEGER;
      ALTER TABLE hub_streams ADD COLUMN stored INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE hub_streams ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE hub_streams ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE hub_streams ADD COLUMN moved INTEGER NOT NULL DEFAULT 0;
      UPDATE hub_streams SET
        stored = (SELECT count(*) FROM hub_events e WHERE e.store_id = hub_streams.store_id AND e.epoch = hub_streams.epoch AND e.status = 'stored'),
        rejected = (SELECT count(*) FROM hub_events e WHERE e.store_id = hub_streams.store_id AND e.epoch = hub_streams.epoch AND e.status = 'rejected'),
        duplicates = (SELECT count(*) FROM hub_events e WHERE e.store_id = hub_streams.store_id AND e.epoch = hub_streams.epoch AND e.status = 'duplicate');
    `,
    postgres: `
      ALTER TABLE hub_events
        DROP CONSTRAINT hub_events_status_check,
        ADD CONSTRAINT hub_events_status_check
          CHECK (status IN ('stored', 'rejected', 'duplicate', 'quarantined', 'moved')),
        ALTER COLUMN type DROP NOT NULL,
        ALTER COLUMN captured_at DROP NOT NULL,
        ALTER COLUMN body_hash DROP NOT NULL,
        ALTER COLUMN body DROP NOT NULL,
        ADD COLUMN moved_to_epoch TEXT,
        ADD COLUMN moved_to_seq BIGINT,
        ADD CONSTRAINT hub_events_moved_check
          CHECK ((status = 'moved') = (moved_to_epoch IS NOT NULL AND moved_to_seq IS NOT NULL)),
        ADD CONSTRAINT hub_events_body_check
          CHECK (status = 'moved' OR (type IS NOT NULL AND captured_at IS NOT NULL AND body_hash IS NOT NULL AND body IS NOT NULL));

      ALTER TABLE hub_quarantine ADD COLUMN moved_to_epoch TEXT, ADD COLUMN moved_to_seq BIGINT;
      CREATE INDEX hub_quarantine_seq ON hub_quarantine (store_id, epoch, seq);

      ALTER TABLE hub_streams
        ADD COLUMN closed_at_seq BIGINT,
        ADD COLUMN next_epoch TEXT,
        ADD COLUMN closed_at BIGINT,
        ADD COLUMN stored BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN rejected BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN duplicates BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN moved BIGINT NOT NULL DEFAULT 0;
      UPDATE hub_streams s SET stored = c.stored, rejected = c.rejected, duplicates = c.duplicates
        FROM (SELECT store_id, epoch, count(*) FILTER (WHERE status = 'stored') AS stored,
                count(*) FILTER (WHERE status = 'rejected') AS rejected,
                count(*) FILTER (WHERE status = 'duplicate') AS duplicates
              FROM hub_events GROUP BY store_id, epoch) c
        WHERE s.store_id = c.store_id AND s.epoch = c.epoch;
    `,
  },
  /**
   * 3: promotions. Each signed version as published (the envelope's very text, never rebuilt), unique
   * per (promotion_id, version) so hubs sharing the database can never sign two documents under one
   * version: the loser of a race inserts nothing and says so. Rollout rows come from the stores'
   * promotion-applied/refused events and are written in the transaction that stores those events; they
   * name versions as the stores claimed them, so no foreign key (a forged version is worth showing too).
   * hub_stores learns each store's region from its catalogue message, for region targets.
   */
  {
    sqlite: `
      CREATE TABLE hub_promotion_versions (
        promotion_id        TEXT NOT NULL,
        version             INTEGER NOT NULL,
        name                TEXT NOT NULL,
        state               TEXT NOT NULL CHECK (state IN ('staged', 'active', 'withdrawn')),
        target              TEXT NOT NULL,
        signed              TEXT NOT NULL,
        digest              TEXT NOT NULL,
        key_id              TEXT NOT NULL,
        origin              TEXT NOT NULL CHECK (origin IN ('push', 'activate', 'auto-activate', 'withdraw')),
        created_by          TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        activate_when_share REAL,
        published_at        INTEGER,
        PRIMARY KEY (promotion_id, version)
      ) STRICT;
      CREATE INDEX hub_promotion_versions_unpublished ON hub_promotion_versions (promotion_id) WHERE published_at IS NULL;
      CREATE TABLE hub_promotion_rollout (
        promotion_id     TEXT NOT NULL,
        version          INTEGER NOT NULL,
        store_id         TEXT NOT NULL,
        outcome          TEXT NOT NULL CHECK (outcome IN ('applied', 'refused')),
        change           TEXT,
        previous_version INTEGER,
        reason           TEXT,
        message          TEXT,
        digest           TEXT,
        key_id           TEXT,
        at               TEXT NOT NULL,
        event_id         TEXT NOT NULL,
        received_at      INTEGER NOT NULL,
        PRIMARY KEY (promotion_id, version, store_id)
      ) STRICT;
      ALTER TABLE hub_stores ADD COLUMN region TEXT;
      ALTER TABLE hub_stores ADD COLUMN catalogue_at INTEGER;
    `,
    postgres: `
      CREATE TABLE hub_promotion_versions (
        promotion_id        TEXT NOT NULL,
        version             BIGINT NOT NULL,
        name                TEXT NOT NULL,
        state               TEXT NOT NULL CHECK (state IN ('staged', 'active', 'withdrawn')),
        target              TEXT NOT NULL,
        signed              TEXT NOT NULL,
        digest              TEXT NOT NULL,
        key_id              TEXT NOT NULL,
        origin              TEXT NOT NULL CHECK (origin IN ('push', 'activate', 'auto-activate', 'withdraw')),
        created_by          TEXT NOT NULL,
        created_at          BIGINT NOT NULL,
        activate_when_share DOUBLE PRECISION,
        published_at        BIGINT,
        PRIMARY KEY (promotion_id, version)
      );
      CREATE INDEX hub_promotion_versions_unpublished ON hub_promotion_versions (promotion_id) WHERE published_at IS NULL;
      CREATE TABLE hub_promotion_rollout (
        promotion_id     TEXT NOT NULL,
        version          BIGINT NOT NULL,
        store_id         TEXT NOT NULL,
        outcome          TEXT NOT NULL CHECK (outcome IN ('applied', 'refused')),
        change           TEXT,
        previous_version BIGINT,
        reason           TEXT,
        message          TEXT,
        digest           TEXT,
        key_id           TEXT,
        at               TEXT NOT NULL,
        event_id         TEXT NOT NULL,
        received_at      BIGINT NOT NULL,
        PRIMARY KEY (promotion_id, version, store_id)
      );
      ALTER TABLE hub_stores ADD COLUMN region TEXT, ADD COLUMN catalogue_at BIGINT;
    `,
  },
];
