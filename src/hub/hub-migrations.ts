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
  /**
   * 4: business days and resync. Each stored sale, return and void adds to its till's day tally
   * (hub_day_tallies, kept in the ingest transaction, backfilled here from the stored bodies), so judging
   * a till's close never re-reads bodies; the ids come from hub_events through an index on (store, day,
   * till), which replaces the (store, day) one. hub_days holds one row per till and day that sold or
   * closed: the close in force (its history is the day-close events themselves) and the verdict, with
   * `sent_at` set once the broker took the verdict. hub_resend_requests: one row per (store, epoch,
   * fromSeq) a hub asked a store to send again, so hubs sharing the database ask once, and the store's
   * answer (what it no longer had is unrecoverable). hub_stores keeps what the store's status last said
   * about its unsent events and acknowledgements.
   */
  {
    sqlite: `
      DROP INDEX hub_events_day;
      CREATE INDEX hub_events_till_day ON hub_events (store_id, business_day, terminal_id);
      CREATE TABLE hub_day_tallies (
        store_id     TEXT NOT NULL,
        business_day TEXT NOT NULL,
        terminal_id  TEXT NOT NULL,
        type         TEXT NOT NULL CHECK (type IN ('sale', 'return', 'void')),
        currency     TEXT NOT NULL,
        count        INTEGER NOT NULL,
        amount       INTEGER NOT NULL,
        PRIMARY KEY (store_id, business_day, terminal_id, type, currency)
      ) STRICT;
      INSERT INTO hub_day_tallies (store_id, business_day, terminal_id, type, currency, count, amount)
        SELECT store_id, business_day, terminal_id, type, json_extract(body, '$.currency'), count(*),
          sum(coalesce(json_extract(body, '$.totals.total'), 0))
        FROM hub_events
        WHERE status = 'stored' AND type IN ('sale', 'return', 'void') AND terminal_id IS NOT NULL
          AND business_day IS NOT NULL AND json_valid(body)
        GROUP BY store_id, business_day, terminal_id, type, json_extract(body, '$.currency');
      CREATE TABLE hub_days (
        store_id       TEXT NOT NULL,
        business_day   TEXT NOT NULL,
        terminal_id    TEXT NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ('not-closed', 'confirmed', 'mismatch')),
        close_epoch    TEXT,
        close_seq      INTEGER,
        close_event_id TEXT,
        closed_at      TEXT,
        differences    TEXT,
        judged_at      INTEGER,
        sent_at        INTEGER,
        PRIMARY KEY (store_id, business_day, terminal_id),
        CHECK ((state = 'not-closed') = (close_event_id IS NULL))
      ) STRICT;
      INSERT INTO hub_days (store_id, business_day, terminal_id, state)
        SELECT DISTINCT store_id, business_day, terminal_id, 'not-closed' FROM hub_day_tallies;
      CREATE INDEX hub_days_day ON hub_days (business_day);
      CREATE INDEX hub_days_unsent ON hub_days (judged_at) WHERE sent_at IS NULL AND state != 'not-closed';
      CREATE TABLE hub_resend_requests (
        store_id       TEXT NOT NULL,
        epoch          TEXT NOT NULL,
        from_seq       INTEGER NOT NULL,
        request_id     TEXT NOT NULL,
        acked_through  INTEGER NOT NULL,
        hub_id         TEXT NOT NULL,
        first_asked_at INTEGER NOT NULL,
        last_asked_at  INTEGER NOT NULL,
        asks           INTEGER NOT NULL,
        reported_at    INTEGER,
        available_from INTEGER,
        store_through  INTEGER,
        settled_at     INTEGER,
        PRIMARY KEY (store_id, epoch, from_seq)
      ) STRICT;
      CREATE INDEX hub_resend_due ON hub_resend_requests (last_asked_at) WHERE reported_at IS NULL AND settled_at IS NULL;
      ALTER TABLE hub_stores ADD COLUMN oldest_unsent_at TEXT;
      ALTER TABLE hub_stores ADD COLUMN unsent_by_day TEXT;
      ALTER TABLE hub_stores ADD COLUMN acked TEXT;
    `,
    postgres: `
      DROP INDEX hub_events_day;
      CREATE INDEX hub_events_till_day ON hub_events (store_id, business_day, terminal_id);
      CREATE TABLE hub_day_tallies (
        store_id     TEXT NOT NULL,
        business_day TEXT NOT NULL,
        terminal_id  TEXT NOT NULL,
        type         TEXT NOT NULL CHECK (type IN ('sale', 'return', 'void')),
        currency     TEXT NOT NULL,
        count        BIGINT NOT NULL,
        amount       BIGINT NOT NULL,
        PRIMARY KEY (store_id, business_day, terminal_id, type, currency)
      );
      INSERT INTO hub_day_tallies (store_id, business_day, terminal_id, type, currency, count, amount)
        SELECT store_id, business_day, terminal_id, type, body::json ->> 'currency', count(*),
          sum(coalesce((body::json -> 'totals' ->> 'total')::bigint, 0))
        FROM hub_events
        WHERE status = 'stored' AND type IN ('sale', 'return', 'void') AND terminal_id IS NOT NULL
          AND business_day IS NOT NULL
        GROUP BY store_id, business_day, terminal_id, type, body::json ->> 'currency';
      CREATE TABLE hub_days (
        store_id       TEXT NOT NULL,
        business_day   TEXT NOT NULL,
        terminal_id    TEXT NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ('not-closed', 'confirmed', 'mismatch')),
        close_epoch    TEXT,
        close_seq      BIGINT,
        close_event_id TEXT,
        closed_at      TEXT,
        differences    TEXT,
        judged_at      BIGINT,
        sent_at        BIGINT,
        PRIMARY KEY (store_id, business_day, terminal_id),
        CHECK ((state = 'not-closed') = (close_event_id IS NULL))
      );
      INSERT INTO hub_days (store_id, business_day, terminal_id, state)
        SELECT DISTINCT store_id, business_day, terminal_id, 'not-closed' FROM hub_day_tallies;
      CREATE INDEX hub_days_day ON hub_days (business_day);
      CREATE INDEX hub_days_unsent ON hub_days (judged_at) WHERE sent_at IS NULL AND state != 'not-closed';
      CREATE TABLE hub_resend_requests (
        store_id       TEXT NOT NULL,
        epoch          TEXT NOT NULL,
        from_seq       BIGINT NOT NULL,
        request_id     TEXT NOT NULL,
        acked_through  BIGINT NOT NULL,
        hub_id         TEXT NOT NULL,
        first_asked_at BIGINT NOT NULL,
        last_asked_at  BIGINT NOT NULL,
        asks           INTEGER NOT NULL,
        reported_at    BIGINT,
        available_from BIGINT,
        store_through  BIGINT,
        settled_at     BIGINT,
        PRIMARY KEY (store_id, epoch, from_seq)
      );
      CREATE INDEX hub_resend_due ON hub_resend_requests (last_asked_at) WHERE reported_at IS NULL AND settled_at IS NULL;
      ALTER TABLE hub_stores ADD COLUMN oldest_unsent_at TEXT, ADD COLUMN unsent_by_day TEXT, ADD COLUMN acked TEXT;
    `,
  },
  /**
   * 5: operator commands to stores (resync, retry or discard a dead letter; command-store.ts), so every
   * hub on the database shows them pending until the store answers, and any hub can send one again.
   * The partial index on refused events serves the console's dead-letter lists and counts, which would
   * otherwise scan a store's every event.
   */
  {
    sqlite: `
      CREATE TABLE hub_store_commands (
        request_id   TEXT PRIMARY KEY,
        store_id     TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('resend', 'retry-dead-letter', 'discard-dead-letter')),
        command      TEXT NOT NULL,
        event_id     TEXT,
        epoch        TEXT,
        from_seq     INTEGER,
        note         TEXT,
        requested_by TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        last_sent_at INTEGER,
        sends        INTEGER NOT NULL DEFAULT 0,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'done', 'refused', 'expired')),
        answered_at  INTEGER,
        answer       TEXT
      ) STRICT;
      CREATE INDEX hub_store_commands_store ON hub_store_commands (store_id, requested_at);
      CREATE INDEX hub_store_commands_pending ON hub_store_commands (requested_at) WHERE state = 'pending';
      CREATE INDEX hub_store_commands_event ON hub_store_commands (store_id, event_id) WHERE event_id IS NOT NULL;
      CREATE INDEX hub_events_rejected ON hub_events (store_id, event_id) WHERE status = 'rejected';
    `,
    postgres: `
      CREATE TABLE hub_store_commands (
        request_id   TEXT PRIMARY KEY,
        store_id     TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('resend', 'retry-dead-letter', 'discard-dead-letter')),
        command      TEXT NOT NULL,
        event_id     TEXT,
        epoch        TEXT,
        from_seq     BIGINT,
        note         TEXT,
        requested_by TEXT NOT NULL,
        requested_at BIGINT NOT NULL,
        last_sent_at BIGINT,
        sends        INTEGER NOT NULL DEFAULT 0,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'done', 'refused', 'expired')),
        answered_at  BIGINT,
        answer       TEXT
      );
      CREATE INDEX hub_store_commands_store ON hub_store_commands (store_id, requested_at);
      CREATE INDEX hub_store_commands_pending ON hub_store_commands (requested_at) WHERE state = 'pending';
      CREATE INDEX hub_store_commands_event ON hub_store_commands (store_id, event_id) WHERE event_id IS NOT NULL;
      CREATE INDEX hub_events_rejected ON hub_events (store_id, event_id) WHERE status = 'rejected';
    `,
  },
  /**
   * 6: head office at chain scale (docs/scale.md). PostgreSQL: hub_events becomes a table partitioned by
   * month of `filed_on` (event-filing.ts: the business day of a valid sale, return, void or close, else
   * the UTC capture day, else for a `moved` row the day of its close), with a default partition for days
   * outside every month made so far; existing rows are copied in. Queries by business day read one
   * month; lookups of an earlier copy of an event read the one month it is filed under; old months are
   * dropped whole under `db.retentionMonths`, never row by row. Unique indexes of a partitioned table
   * must hold the partition key: they are unique per month, and what keeps an eventId or a POS
   * transaction from being stored twice across months is the store lock every write takes first
   * (postgres-event-writes.ts). SQLite stays one table.
   *
   * Each index serves named queries (both databases unless said):
   * - primary key (store_id, epoch, seq[, filed_on]): ingest's lookup of a batch's seqs, contiguity
   *   (`seq > contiguous-through ORDER BY seq`), the gap scan of /v1/stores, the transactions page of the
   *   API and console, a close's body by (epoch, seq);
   * - hub_events_stored_event (event_id[, filed_on]) WHERE stored: ingest's "is this eventId stored
   *   already" per event, and the console's dead letters settled by a retry under another seq;
   * - hub_events_stored_transaction (store_id, terminal_id, transaction_id[, filed_on]) WHERE stored:
   *   ingest's "is this POS transaction stored already" per event;
   * - hub_events_till_day (business_day, store_id, terminal_id) WHERE stored: the end-of-day comparison
   *   reads every transaction id of a till's day on every close and late sale, the day board reads a
   *   day's closes, the export reads a day's transactions; all of them only stored rows. The day leads:
   *   every one of these queries names it, and an index led by the store was taken by PostgreSQL's
   *   planner, on a month partition not yet analysed, for ingest's transaction lookup (a scan of the
   *   store's month per event, 130 ms per 500-event batch). PostgreSQL's also carries type and
   *   transaction_id (INCLUDE), so a close is judged from the index alone, without reading hundreds of
   *   rows of a month long past from disk; SQLite's stays narrow (every insert pays for its width, and
   *   the embedded hub's days are small);
   * - hub_events_rejected (store_id, event_id) WHERE rejected (migration 5): the console's dead letters.
   */
  {
    sqlite: `
      DROP INDEX hub_events_till_day;
      CREATE INDEX hub_events_till_day ON hub_events (business_day, store_id, terminal_id) WHERE status = 'stored';
    `,
    postgres: `
      ALTER TABLE hub_events RENAME TO hub_events_v5;
      ALTER TABLE hub_events_v5 RENAME CONSTRAINT hub_events_pkey TO hub_events_v5_pkey;
      CREATE TABLE hub_events (
        store_id       TEXT NOT NULL,
        epoch          TEXT NOT NULL,
        seq            BIGINT NOT NULL,
        event_id       TEXT NOT NULL,
        type           TEXT,
        status         TEXT NOT NULL CHECK (status IN ('stored', 'rejected', 'duplicate', 'quarantined', 'moved')),
        reason         TEXT,
        terminal_id    TEXT,
        transaction_id TEXT,
        business_day   TEXT,
        captured_at    TEXT,
        received_at    BIGINT NOT NULL,
        body_hash      TEXT,
        body           TEXT,
        moved_to_epoch TEXT,
        moved_to_seq   BIGINT,
        filed_on       DATE NOT NULL,
        CHECK ((status = 'moved') = (moved_to_epoch IS NOT NULL AND moved_to_seq IS NOT NULL)),
        CHECK (status = 'moved' OR (type IS NOT NULL AND captured_at IS NOT NULL AND body_hash IS NOT NULL AND body IS NOT NULL))
      ) PARTITION BY RANGE (filed_on);
      CREATE TABLE hub_events_default PARTITION OF hub_events DEFAULT;
      DO $$
      DECLARE month date;
      BEGIN
        FOR month IN
          SELECT DISTINCT date_trunc('month', d)::date FROM (
            SELECT CASE
                WHEN status <> 'rejected' AND business_day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN business_day::date
                WHEN captured_at IS NOT NULL THEN (captured_at::timestamptz AT TIME ZONE 'UTC')::date
                ELSE (to_timestamp(received_at / 1000.0) AT TIME ZONE 'UTC')::date
              END AS d FROM hub_events_v5
            UNION ALL SELECT (now() AT TIME ZONE 'UTC')::date
            UNION ALL SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')::date
          ) days
        LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF hub_events FOR VALUES FROM (%L) TO (%L)',
            'hub_events_' || to_char(month, 'YYYY_MM'), month, (month + interval '1 month')::date);
        END LOOP;
      END $$;
      INSERT INTO hub_events (store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
          business_day, captured_at, received_at, body_hash, body, moved_to_epoch, moved_to_seq, filed_on)
        SELECT store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
          business_day, captured_at, received_at, body_hash, body, moved_to_epoch, moved_to_seq,
          CASE
            WHEN status <> 'rejected' AND business_day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN business_day::date
            WHEN captured_at IS NOT NULL THEN (captured_at::timestamptz AT TIME ZONE 'UTC')::date
            ELSE (to_timestamp(received_at / 1000.0) AT TIME ZONE 'UTC')::date
          END
        FROM hub_events_v5;
      DROP TABLE hub_events_v5;
      ALTER TABLE hub_events ADD PRIMARY KEY (store_id, epoch, seq, filed_on);
      CREATE UNIQUE INDEX hub_events_stored_event ON hub_events (event_id, filed_on) WHERE status = 'stored';
      CREATE UNIQUE INDEX hub_events_stored_transaction ON hub_events (store_id, terminal_id, transaction_id, filed_on)
        WHERE status = 'stored';
      CREATE INDEX hub_events_till_day ON hub_events (business_day, store_id, terminal_id) INCLUDE (type, transaction_id)
        WHERE status = 'stored';
      CREATE INDEX hub_events_rejected ON hub_events (store_id, event_id) WHERE status = 'rejected';
      ANALYZE hub_events;
    `,
  },
];
