import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server integration tests use: trust auth, a `test` database to connect to for
 * administration. OUTPOST_TEST_POSTGRES_URL overrides it for a CI with another server.
 */
export const POSTGRES_ADMIN_URL =
  process.env.OUTPOST_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TempPostgresDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  /** Drops the database, closing whatever connections a test left open. Safe to call twice. */
  drop(): Promise<void>;
}

async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    // A test that needs PostgreSQL fails loudly rather than skipping: a green run must mean it ran.
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL} (set OUTPOST_TEST_POSTGRES_URL to another server): ` +
        (error instanceof Error ? error.message : String(error)),
      { cause: error },
    );
  }
  return client;
}

/**
 * A uniquely named database (`outpost_test_<random>`) per caller, so test files running in parallel
 * (and tests within one file) never see each other's tables, migrations or advisory locks' effects.
 * A database rather than a schema because the code under test may rely on being alone in it (e.g. a
 * migrations table without a schema prefix). Cloned from template0, which nobody connects to, so
 * concurrent CREATE DATABASE calls never fail on a busy template1.
 */
export async function createTempPostgresDatabase(): Promise<TempPostgresDatabase> {
  const name = `outpost_test_${randomBytes(6).toString('hex')}`;
  const admin = await adminClient();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const client = await adminClient();
      try {
        // FORCE (PostgreSQL 13+) ends sessions of a pool a failed test did not close.
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
