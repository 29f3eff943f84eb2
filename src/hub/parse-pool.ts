import { Worker } from 'node:worker_threads';
import type { Logger } from '../lib/logger.js';
import { parseStoreMessage, type ParsedMessage } from './parse-event-batch.js';

export type MessageParser = (storeId: string, payload: Buffer) => Promise<ParsedMessage>;

/** Parses on the calling thread: for tests, and for a hub configured with no parse worker. */
export const parseInThread: MessageParser = (storeId, payload) =>
  Promise.resolve(parseStoreMessage(storeId, payload));

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

  readonly parse: MessageParser = (storeId, payload) =>
    new Promise<ParsedMessage>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, storeId, payload });
    });

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
    this.failAll(new Error('the hub is stopping'));
  }

  private spawn(): Worker {
    // From source the worker is a .ts file: it registers the same TypeScript loader (tsx) as bin/outpost.js
    // before importing it, since loader hooks of the main thread do not reach workers on Node 20.
    const fromSource = import.meta.url.endsWith('.ts');
    const worker = fromSource
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
            `.then(({ register }) => { register(); return import(${JSON.stringify(new URL('./parse-worker.ts', import.meta.url).href)}); })`,
          { eval: true },
        )
      : new Worker(new URL('./parse-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (message: { id: number; result: ParsedMessage }) => {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      pending?.resolve(message.result);
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
