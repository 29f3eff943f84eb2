import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the outbox's write-ahead log into the database file from a worker thread. Left to SQLite, the
 * checkpoint runs inside whichever commit crosses the threshold, on the agent's only thread, and that
 * commit (and every till waiting behind it) pays for writing and syncing the database file. PASSIVE
 * checkpoints never block writers, so captures go on while it runs. The connections keep a high
 * automatic-checkpoint threshold as a backstop should this worker ever stop.
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
      const timer = setInterval(() => {
        try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage(String(error)); }
      }, workerData.everyMs);
      parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
    `;
    this.worker = new Worker(source, { eval: true, workerData: { driver, file, everyMs } });
    this.worker.on('message', (message: string) => onError(message));
    this.worker.on('error', (error) => onError(error.message));
    this.worker.unref();
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('stop');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.worker.terminate();
  }
}
