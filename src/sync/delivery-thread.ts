import { Worker } from 'node:worker_threads';
import type { BatchAck, CloseAck } from '../contracts/sync-messages.js';
import { StorageUnavailableError } from '../lib/errors.js';
import type { MessageLimits } from './batch-builder.js';
import type { DeliveryCursor, DeliveryStore, NextBatch, OutgoingClose } from './delivery-store.js';
import type { DeliveryReply, DeliveryRequest, DeliveryWorkerData } from './delivery-worker.js';
import type { BatchAckOutcome, CloseAckOutcome } from './outbox-acks.js';

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  op: DeliveryRequest['op'];
}

/** Time the worker spent on each kind of request (for benchmarks and diagnostics). */
export type DeliveryTimings = Record<DeliveryRequest['op'], { calls: number; ms: number; maxMs: number }>;

type Op = DeliveryRequest['op'];
type ArgsOf<O extends Op> = Extract<DeliveryRequest, { op: O }>['args'];

/**
 * A DeliveryStore on a worker thread with its own outbox connection. Reading a 500-event batch, building
 * its payload and recording an acknowledgement take milliseconds of synchronous SQLite and allocate
 * megabytes; on the agent's main thread every till waiting for its 201 would wait behind them (and behind
 * the garbage collection they cause). SQLite in WAL mode lets this thread read while capture writes; the
 * outbox stays the only source of truth. A crashed worker fails the requests it held (the engine publishes
 * again from the outbox) and the next request starts another.
 */
export class DeliveryThread implements DeliveryStore {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  readonly timings: DeliveryTimings = {
    nextBatch: { calls: 0, ms: 0, maxMs: 0 },
    pendingCloses: { calls: 0, ms: 0, maxMs: 0 },
    recordBatchAck: { calls: 0, ms: 0, maxMs: 0 },
    recordCloseAck: { calls: 0, ms: 0, maxMs: 0 },
    markUndeliverable: { calls: 0, ms: 0, maxMs: 0 },
    close: { calls: 0, ms: 0, maxMs: 0 },
  };

  constructor(private readonly data: DeliveryWorkerData) {}

  async nextBatch(after: DeliveryCursor | null, limits: MessageLimits): Promise<NextBatch> {
    const next = (await this.request('nextBatch', [after, limits])) as NextBatch;
    const message = next.message;
    if (message?.kind === 'batch' && message.payload instanceof Uint8Array) {
      const bytes = message.payload;
      return {
        ...next,
        message: { ...message, payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      };
    }
    return next;
  }

  pendingCloses(): Promise<OutgoingClose[]> {
    return this.request('pendingCloses', []) as Promise<OutgoingClose[]>;
  }

  recordBatchAck(ack: BatchAck): Promise<BatchAckOutcome> {
    return this.request('recordBatchAck', [ack]) as Promise<BatchAckOutcome>;
  }

  recordCloseAck(ack: CloseAck): Promise<CloseAckOutcome> {
    return this.request('recordCloseAck', [ack]) as Promise<CloseAckOutcome>;
  }

  markUndeliverable(
    event: { epoch: string; seq: number; eventId: string },
    reason: string,
  ): Promise<boolean> {
    return this.request('markUndeliverable', [event, reason]) as Promise<boolean>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const worker = this.worker;
    if (worker) {
      // Held until the worker has closed its connection (see WalCheckpointer.stop).
      worker.ref();
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      // Closes the connection in order after whatever is queued, then the worker ends by itself.
      await this.request('close', []).catch(() => {});
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    }
    this.closed = true;
    this.failAll(new StorageUnavailableError('the outbox is closed (the agent is shutting down)', 'closed'));
  }

  private request<O extends Op>(op: O, args: ArgsOf<O>): Promise<unknown> {
    if (this.closed)
      return Promise.reject(
        new StorageUnavailableError('the outbox is closed (the agent is shutting down)', 'closed'),
      );
    const worker = (this.worker ??= this.spawn());
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject, op });
      worker.postMessage({ id, op, args } as DeliveryRequest);
    });
  }

  private spawn(): Worker {
    // From source the worker is a .ts file: it registers the same TypeScript loader (tsx) as bin/outpost.js
    // before importing it, since loader hooks of the main thread do not reach workers on Node 20.
    const fromSource = import.meta.url.endsWith('.ts');
    const worker = fromSource
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
            `.then(({ register }) => { register(); return import(${JSON.stringify(new URL('./delivery-worker.ts', import.meta.url).href)}); })`,
          { eval: true, workerData: this.data },
        )
      : new Worker(new URL('./delivery-worker.js', import.meta.url), { workerData: this.data });
    worker.unref();
    worker.on('message', (reply: DeliveryReply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (!pending) return;
      const timing = this.timings[pending.op];
      timing.calls += 1;
      timing.ms += reply.ms;
      timing.maxMs = Math.max(timing.maxMs, reply.ms);
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(revive(reply.error));
    });
    worker.on('error', (error) => {
      if (worker === this.worker) this.worker = undefined;
      this.failAll(error);
    });
    worker.on('exit', () => {
      if (worker === this.worker) this.worker = undefined;
      this.failAll(new Error('the outbox delivery worker exited'));
    });
    return worker;
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

function revive(error: { name: string; message: string; reason?: StorageUnavailableError['reason'] }): Error {
  if (error.reason) return new StorageUnavailableError(error.message, error.reason);
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}
