import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { JOURNAL_SIZE_LIMIT_BYTES } from './outbox-database.js';

/**
 * Copies the outbox's write-ahead log into the database file from a worker thread. Left to SQLite, the
 * checkpoint runs inside whichever commit crosses the threshold, on the agent's only thread, and that
 * commit (and every till waiting behind it) pays for writing and syncing the database file. PASSIVE
 * checkpoints never block writers, so captures go on while they run.
 *
 * A PASSIVE checkpoint leaves the WAL file at its size, and a burst (or a reader holding an old snapshot
 * during one) can grow it to megabytes. So when the outbox has been idle for a tick with everything
 * checkpointed, a TRUNCATE checkpoint empties the file: on a small disk that space is back for captures
 * instead of staying with the WAL. It gives up at once rather than wait on a reader or writer (busy
 * timeout 0), since it blocks writers while it runs; the next idle tick tries again. The connections keep
 * a high automatic-checkpoint threshold as a backstop should this worker ever stop.
 */
export class WalCheckpointer {
  private readonly worker: Worker;

  constructor(file: string, everyMs: number, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // Plain CommonJS, so the worker needs no TypeScript loader.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const Database = require(workerData.driver);
      const db = new Database(workerData.file, { timeout: 1000 });
      db.pragma('journal_size_limit = ' + workerData.journalSizeLimit);
      let previousLog = -1;
      const truncate = () => {
        db.pragma('busy_timeout = 0');
        try { db.pragma('wal_checkpoint(TRUNCATE)'); } finally { db.pragma('busy_timeout = 1000'); }
      };
      const timer = setInterval(() => {
        try {
          const [{ busy, log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
          const idle = busy === 0 && log > 0 && checkpointed === log && log === previousLog;
          previousLog = log;
          if (idle) { truncate(); previousLog = -1; }
        } catch (error) {
          if (error && error.code === 'SQLITE_BUSY') return;
          parentPort.postMessage(String(error));
        }
      }, workerData.everyMs);
      parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
    `;
    this.worker = new Worker(source, {
      eval: true,
      workerData: { driver, file, everyMs, journalSizeLimit: JOURNAL_SIZE_LIMIT_BYTES },
    });
    this.worker.on('message', (message: string) => onError(message));
    this.worker.on('error', (error) => onError(error.message));
    this.worker.unref();
  }

  async stop(): Promise<void> {
    // Held by the worker until it has closed its connection: with nothing else left (the agent stopping
    // last), an unreferenced worker would let the process end before this promise settles.
    this.worker.ref();
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('stop');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.worker.terminate();
  }
}
