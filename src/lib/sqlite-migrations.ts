import type Database from 'better-sqlite3';

export class DatabaseTooNewError extends Error {
  override readonly name = 'DatabaseTooNewError';
}

/**
 * Brings a SQLite database to the latest of its numbered migrations. Each runs in its own IMMEDIATE
 * transaction together with the bump of `PRAGMA user_version`, so a crash leaves the database at one
 * version or the next; the version is read again under the write lock, so two processes starting on the
 * same file at once do not both apply it. A database newer than the code is refused with `tooNew`'s message.
 */
export function migrateSqlite(
  db: Database.Database,
  migrations: readonly string[],
  tooNew: (current: number, known: number) => string,
): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const current = version();
  if (current > migrations.length) throw new DatabaseTooNewError(tooNew(current, migrations.length));
  for (let next = current + 1; next <= migrations.length; next++) {
    const sql = migrations[next - 1]!;
    db.transaction(() => {
      if (version() >= next) return;
      db.exec(sql);
      db.pragma(`user_version = ${next}`);
    }).immediate();
  }
}
