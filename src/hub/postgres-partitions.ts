import type pg from 'pg';
import {
  monthOfPartition,
  monthsAhead,
  monthsPastRetention,
  nextMonth,
  partitionName,
} from './event-filing.js';
import type { StorageMaintenance } from './hub-store.js';

/**
 * Keeps hub_events' month partitions (hub-migrations.ts, migration 6): makes the coming months before
 * rows arrive for them, and under `db.retentionMonths` drops old months whole, never one still needed.
 *
 * A month is dropped only when, checked while the month is locked against new rows:
 * - every till-day of its business days is `confirmed` (a day not closed, or whose close disagrees, may
 *   still be argued over: its sales stay);
 * - no row of it lies above its epoch's contiguous-through (such a row is still needed to advance it
 *   once the gap below fills; at or below it, what the rows proved is kept in hub_streams).
 * Everything outside hub_events stays: epochs and their counters, day verdicts and tallies, quarantine.
 * A seq that head office held and dropped is told apart from a new one by contiguous-through, and never
 * stored again under the epoch (classify-events.ts).
 */

/** Key of the session advisory lock one hub holds while it maintains partitions; the others skip. */
const MAINTENANCE_LOCK_KEY = 7_266_452_013;
/** Months made ahead of the current one. */
const MONTHS_AHEAD = 2;
/** DDL waits this long for a lock, then gives up until the next run: ingest never queues behind it long. */
const DDL_LOCK_TIMEOUT_MS = 2_000;
/** Examples named in the report of a month kept past retention. */
const EXAMPLES = 5;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function inTransaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${DDL_LOCK_TIMEOUT_MS}`);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function existingMonths(client: pg.PoolClient): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'hub_events'::regclass`,
  );
  return rows.flatMap((r) => monthOfPartition(r.name) ?? []).sort();
}

/**
 * Makes a month's partition without stopping ingest: a table of its own, filled with whatever rows of
 * the month the default partition caught (a till whose clock ran ahead), then attached, which takes
 * only a lock that inserts do not wait for (a CHECK of the range spares the scan of the new table).
 */
async function createMonth(client: pg.PoolClient, month: string): Promise<number> {
  const table = partitionName(month);
  const to = nextMonth(month);
  return inTransaction(client, async () => {
    await client.query(
      `CREATE TABLE ${quoteIdent(table)} (LIKE hub_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
    );
    await client.query(
      `ALTER TABLE ${quoteIdent(table)} ADD CONSTRAINT ${quoteIdent(`${table}_month`)}
         CHECK (filed_on >= DATE '${month}' AND filed_on < DATE '${to}')`,
    );
    const moved = await client.query(
      `WITH moved AS (DELETE FROM hub_events_default WHERE filed_on >= $1::date AND filed_on < $2::date RETURNING *)
       INSERT INTO ${quoteIdent(table)} SELECT * FROM moved`,
      [month, to],
    );
    await client.query(
      `ALTER TABLE hub_events ATTACH PARTITION ${quoteIdent(table)} FOR VALUES FROM ('${month}') TO ('${to}')`,
    );
    await client.query(`ALTER TABLE ${quoteIdent(table)} DROP CONSTRAINT ${quoteIdent(`${table}_month`)}`);
    return moved.rowCount ?? 0;
  });
}

/**
 * Drops a month past retention if nothing needs it, else says why it stays. The month is locked first,
 * so no late row can slip in between the checks and the drop.
 */
async function dropMonth(
  client: pg.PoolClient,
  month: string,
): Promise<{ dropped: true } | { dropped: false; reason: string }> {
  const table = quoteIdent(partitionName(month));
  const to = nextMonth(month);
  return inTransaction(client, async () => {
    await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    const open = await client.query<{
      store_id: string;
      business_day: string;
      terminal_id: string;
      state: string;
    }>(
      `SELECT store_id, business_day, terminal_id, state FROM hub_days
       WHERE business_day >= $1 AND business_day < $2 AND state <> 'confirmed'
       ORDER BY business_day, store_id, terminal_id LIMIT ${EXAMPLES}`,
      [month, to],
    );
    if (open.rows.length > 0) {
      const named = open.rows.map((d) => `${d.store_id} ${d.business_day} ${d.terminal_id} ${d.state}`);
      return { dropped: false, reason: `till-days not confirmed: ${named.join(', ')}` };
    }
    const inFlight = await client.query<{ store_id: string; epoch: string; contiguous_through: string }>(
      `SELECT s.store_id, s.epoch, s.contiguous_through FROM hub_streams s
       WHERE EXISTS (SELECT 1 FROM ${table} e
                     WHERE e.store_id = s.store_id AND e.epoch = s.epoch AND e.seq > s.contiguous_through)
       LIMIT ${EXAMPLES}`,
    );
    if (inFlight.rows.length > 0) {
      const named = inFlight.rows.map(
        (s) => `${s.store_id} epoch ${s.epoch} (contiguous through ${s.contiguous_through})`,
      );
      return { dropped: false, reason: `rows above a gap still open: ${named.join(', ')}` };
    }
    await client.query(`ALTER TABLE hub_events DETACH PARTITION ${table}`);
    await client.query(`DROP TABLE ${table}`);
    return { dropped: true };
  });
}

/**
 * One maintenance pass, by whichever hub holds the maintenance lock (the others return at once). Each
 * month is its own transaction: one that cannot get its locks in time is tried again on the next pass.
 */
export async function maintainPartitions(
  pool: pg.Pool,
  options: { now: number; retentionMonths: number | null },
): Promise<StorageMaintenance> {
  const report: StorageMaintenance = { created: [], movedFromDefault: 0, dropped: [], kept: [], failed: [] };
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      MAINTENANCE_LOCK_KEY,
    ]);
    if (!rows[0]?.locked) return report;
    try {
      const existing = new Set(await existingMonths(client));
      for (const month of monthsAhead(options.now, MONTHS_AHEAD)) {
        if (existing.has(month)) continue;
        try {
          report.movedFromDefault += await createMonth(client, month);
          report.created.push(month);
        } catch (error) {
          report.failed.push({ month, error: error instanceof Error ? error.message : String(error) });
        }
      }
      if (options.retentionMonths !== null) {
        for (const month of monthsPastRetention([...existing], options.now, options.retentionMonths)) {
          try {
            const outcome = await dropMonth(client, month);
            if (outcome.dropped) report.dropped.push(month);
            else report.kept.push({ month, reason: outcome.reason });
          } catch (error) {
            report.failed.push({ month, error: error instanceof Error ? error.message : String(error) });
          }
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK_KEY]);
    }
    return report;
  } finally {
    client.release();
  }
}
