import type Database from 'better-sqlite3';

/**
 * Prepared statements of one SQLite connection, each prepared on first use and kept: preparing costs
 * more than running the small statements of an ingest batch, and better-sqlite3 statements are reusable
 * for the life of the connection. Every SQLite hub module takes its SQL from one of these.
 */
export class SqliteStatements {
  private readonly prepared = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  /** The same statement returning its first column's value (better-sqlite3 `pluck`), kept apart. */
  pluck(sql: string): Database.Statement {
    const key = `pluck\u0000${sql}`;
    let statement = this.prepared.get(key);
    if (!statement) {
      statement = this.db.prepare(sql).pluck();
      this.prepared.set(key, statement);
    }
    return statement;
  }
}
