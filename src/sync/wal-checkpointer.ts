import type Database from 'better-sqlite3';

/** What `PRAGMA wal_checkpoint` reports. */
export interface CheckpointResult {
  /** 1 when a reader or writer kept the checkpoint from finishing. */
  busy: number;
  /** Frames in the write-ahead log. */
  log: number;
  /** Frames of it copied into the database file. */
  checkpointed: number;
}

/**
 * Whether the outbox was idle for a whole tick with everything checkpointed: the same log, all of it in
 * the database file, nobody in the way. Only then is emptying the file worth blocking writers for.
 */
export const walIdle = (result: CheckpointResult, previousLog: number): boolean =>
  result.busy === 0 && result.log > 0 && result.checkpointed === result.log && result.log === previousLog;

/**
 * Copies the outbox's write-ahead log into the database file, every `everyMs`, on the connection it is
 * given: the delivery thread's (delivery-worker.ts). Left to SQLite, the checkpoint runs inside whichever
 * commit crosses the threshold, on the agent's main thread, and that commit (and every till waiting
 * behind it) pays for writing and syncing the database file. PASSIVE checkpoints never block writers, so
 * captures go on while they run.
 *
 * A PASSIVE checkpoint leaves the WAL file at its size, and a burst (or a reader holding an old snapshot
 * during one) can grow it to megabytes. So when the outbox has been idle for a tick with everything
 * checkpointed, a TRUNCATE checkpoint empties the file: on a small disk that space is back for captures
 * instead of staying with the WAL. It gives up at once rather than wait on a reader or writer (busy
 * timeout 0), since it blocks writers while it runs; the next idle tick tries again. The connections keep
 * a high automatic-checkpoint threshold as a backstop should checkpoints stop.
 */
export class WalCheckpointer {
  private timer: NodeJS.Timeout | undefined;
  private previousLog = -1;

  constructor(
    private readonly db: Database.Database,
    private readonly everyMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.everyMs);
    // Never what keeps a thread alive: the thread ends when its owner says so.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One checkpoint; exposed for tests. Busy is normal (another checkpoint, a writer): the next tick tries again. */
  tick(): void {
    try {
      const [result] = this.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
      if (!result) return;
      const idle = walIdle(result, this.previousLog);
      this.previousLog = result.log;
      if (idle) {
        this.truncate();
        this.previousLog = -1;
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return;
      this.onError(error instanceof Error ? error.message : String(error));
    }
  }

  private truncate(): void {
    const busyTimeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.pragma(`busy_timeout = ${busyTimeout}`);
    }
  }
}
