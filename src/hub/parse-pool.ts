import type { Worker } from 'node:worker_threads';
import type { Logger } from '../lib/logger.js';
import { spawnModuleWorker } from '../lib/spawn-module-worker.js';
import { parseStoreMessage, type HeldThrough, type ParsedMessage } from './parse-event-batch.js';
import { fromTransfer, type TransferredMessage } from './parse-transfer.js';

export type MessageParser = (storeId: string, payload: Buffer, held?: HeldThrough) => Promise<ParsedMessage>;

/** Parses on the calling thread: for tests, and for a hub configured with no parse worker. */
export const parseInThread: MessageParser = (storeId, payload, held) =>
  Promise.resolve(parseStoreMessage(storeId, payload, held));

/**
 * The worker's young generation (V8's nursery: three semi-spaces' worth). A 500-event batch makes a few
 * MB of short-lived strings and objects; V8's default nursery fills several times per batch and copies
 * the batch still being parsed each time. 64 MB semi-spaces measured a quarter less CPU per event for
 * parsing (bench:sync, "parseStoreMessage"); it is memory the hub reserves once, not per batch.
 */
const YOUNG_GENERATION_MB = 3 * 64;

interface Pending {
  resolve: (result: ParsedMessage) => void;
  reject: (error: Error) => void;
}

/**
 * Parsing and validating a message (JSON, zod per event, digests) costs the hub more CPU than storing it.
 * A worker thread does it, so the main thread commits one batch while the next is being parsed: two
 * cores instead of one. The worker runs the same parseStoreMessage; a crashed worker is replaced and the
 * batches it held fail, to be published again by their stores.
 */
export class ParseWorker {
  private worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly logger: Logger) {
    this.worker = this.spawn();
  }

  readonly parse: MessageParser = (storeId, payload, held) =>
    new Promise<ParsedMessage>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, storeId, payload, held });
    });

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
    this.failAll(new Error('the hub is stopping'));
  }

  private spawn(): Worker {
    const worker = spawnModuleWorker(new URL('./parse-worker.js', import.meta.url), undefined, {
      maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
    });
    worker.unref();
    worker.on('message', (message: { id: number; result: TransferredMessage }) => {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      pending?.resolve(fromTransfer(message.result));
    });
    worker.on('error', (error) => {
      this.logger.error('parse worker failed; starting another', { error: error.message });
      this.failAll(error);
    });
    worker.on('exit', () => {
      if (this.closed) return;
      this.failAll(new Error('parse worker exited'));
      this.worker = this.spawn();
    });
    return worker;
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
