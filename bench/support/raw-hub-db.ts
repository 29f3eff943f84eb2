import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { hubMigrations } from '../../src/hub/hub-migrations.js';
import type { HubEventRow } from './backlog.js';
import { observe } from './disturbance.js';
import type { RawRate } from './raw-sqlite.js';
import { summarize } from './stats.js';
import { processCpuMs } from './process-cpu.js';

/**
 * The hub databases' batched-insert ceiling on this machine: the backlog's rows inserted into a fresh
 * hub_events table (the hub's own migrations, so the same columns, primary key and unique partial
 * indexes), `rowsPerCommit` rows per durable transaction, with nothing else: no lookups, no stream
 * bookkeeping, no parsing. What the hub's ingest adds on top is the difference to the drain.
 */
function rateOf(rowsPerCommit: number, rows: number, durations: number[], elapsedMs: number): RawRate {
  const elapsedS = elapsedMs / 1000;
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

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** better-sqlite3 with the hub's pragmas (WAL, synchronous = FULL), one IMMEDIATE transaction per chunk. */
export function rawSqliteHubInsert(
  file: string,
  rows: readonly HubEventRow[],
  rowsPerCommit: number,
): RawRate & { sqliteVersion: string; journalMode: string; synchronous: number } {
  const db = new Database(file, { timeout: 10_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    for (const migration of hubMigrations) db.exec(migration.sqlite);
    const insert = db.prepare(
      `INSERT INTO hub_events (store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
         business_day, captured_at, received_at, body_hash, body)
       VALUES ('BENCH-STORE', 'ab12cd34ef56ab78', ?, ?, ?, 'stored', NULL, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertChunk = db.transaction((chunk: HubEventRow[], receivedAt: number) => {
      for (const r of chunk)
        insert.run(
          r.seq,
          r.eventId,
          r.type,
          r.terminalId,
          r.transactionId,
          r.businessDay,
          r.capturedAt,
          receivedAt,
          r.bodyHash,
          r.body,
        );
    });
    const durations: number[] = [];
    const startedAt = performance.now();
    for (const chunk of chunks(rows, rowsPerCommit)) {
      const t = performance.now();
      insertChunk.immediate(chunk, Date.now());
      durations.push(performance.now() - t);
    }
    const rate = rateOf(rowsPerCommit, rows.length, durations, performance.now() - startedAt);
    return {
      ...rate,
      sqliteVersion: db.prepare('SELECT sqlite_version()').pluck().get() as string,
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      synchronous: db.pragma('synchronous', { simple: true }) as number,
    };
  } finally {
    db.close();
  }
}

/**
 * pg (one connection), one statement per transaction of `rowsPerCommit` rows, so each commit is one round
 * trip for the rows plus BEGIN/COMMIT. `unnest` is INSERT … SELECT FROM unnest of one array parameter per
 * column; `values` is a prepared multi-row INSERT … VALUES with one parameter per cell (the hub's own
 * form), which spares pg from escaping every JSON body into an array literal and PostgreSQL from parsing
 * it back, and PostgreSQL from planning it per chunk.
 */
export async function rawPostgresHubInsert(
  url: string,
  rows: readonly HubEventRow[],
  rowsPerCommit: number,
  form: 'unnest' | 'values',
): Promise<RawRate & { otherCpuPct: number; serverCpuUsPerRow: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const migration of hubMigrations) await client.query(migration.postgres);
    const { rows: backend } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const serverBefore = processCpuMs(backend[0]!.pid);
    const durations: number[] = [];
    const startedAt = performance.now();
    // Observed while the connection (and so its server process) is still there to be counted as ours.
    const { otherCpuPct } = await observe(async () => {
      for (const chunk of chunks(rows, rowsPerCommit)) {
        const t = performance.now();
        await client.query('BEGIN');
        if (form === 'values') await insertValues(client, chunk);
        else
          await client.query(
            `INSERT INTO hub_events (store_id, epoch, received_at, filed_on, seq, event_id, type, status, reason, terminal_id,
           transaction_id, business_day, captured_at, body_hash, body)
         SELECT 'BENCH-STORE', 'ab12cd34ef56ab78', $1::bigint, '2026-11-23', * FROM unnest($2::bigint[], $3::text[], $4::text[],
           $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])`,
            [
              Date.now(),
              chunk.map((r) => r.seq),
              chunk.map((r) => r.eventId),
              chunk.map((r) => r.type),
              chunk.map(() => 'stored'),
              chunk.map(() => null),
              chunk.map((r) => r.terminalId),
              chunk.map((r) => r.transactionId),
              chunk.map((r) => r.businessDay),
              chunk.map((r) => r.capturedAt),
              chunk.map((r) => r.bodyHash),
              chunk.map((r) => r.body),
            ],
          );
        await client.query('COMMIT');
        durations.push(performance.now() - t);
      }
    });
    const serverCpuUsPerRow = ((processCpuMs(backend[0]!.pid) - serverBefore) * 1000) / rows.length;
    return {
      ...rateOf(rowsPerCommit, rows.length, durations, performance.now() - startedAt),
      otherCpuPct,
      serverCpuUsPerRow,
    };
  } finally {
    await client.end();
  }
}

const COLUMNS = 11;

async function insertValues(client: pg.Client, chunk: readonly HubEventRow[]): Promise<void> {
  const params: unknown[] = [Date.now()];
  const tuples = chunk.map((r, i) => {
    params.push(
      r.seq,
      r.eventId,
      r.type,
      'stored',
      null,
      r.terminalId,
      r.transactionId,
      r.businessDay,
      r.capturedAt,
      r.bodyHash,
      r.body,
    );
    const at = 2 + i * COLUMNS;
    return `('BENCH-STORE', 'ab12cd34ef56ab78', $1, '2026-11-23', ${Array.from({ length: COLUMNS }, (_, c) => `$${at + c}`).join(', ')})`;
  });
  // Named: PostgreSQL parses and plans it once per connection (every full chunk has the same shape), as
  // the hub's own insert does; each chunk then only binds its values.
  await client.query({
    name: `raw-insert-${chunk.length}`,
    text: `INSERT INTO hub_events (store_id, epoch, received_at, filed_on, seq, event_id, type, status, reason, terminal_id,
       transaction_id, business_day, captured_at, body_hash, body) VALUES ${tuples.join(', ')}`,
    values: params,
  });
}

/** The PostgreSQL settings that decide what a commit costs, for the report. */
export async function postgresSettings(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN
         ('server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', 'commit_delay')`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} × ${r.unit}` : r.setting]));
  } finally {
    await client.end();
  }
}
