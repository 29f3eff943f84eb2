import type { Worker } from 'node:worker_threads';
import type { BatchAck, CloseAck } from '../contracts/sync-messages.js';
import { StorageUnavailableError } from '../lib/errors.js';
import { spawnModuleWorker } from '../lib/spawn-module-worker.js';
import type { MessageLimits } from './batch-builder.js';
import type {
  ClosePartCursor,
  DeliveryCursor,
  DeliveryStore,
  EventAt,
  NextBatch,
  NextResendBatch,
  OutgoingClose,
  ResendBounds,
} from './delivery-store.js';
import type {
  DeliveryReply,
  DeliveryRequest,
  DeliveryWorkerData,
  DeliveryWorkerMessage,
  PayloadReturn,
} from './delivery-worker.js';
import type { BatchAckOutcome, CloseAckOutcome } from './outbox-acks.js';
import { WriteTurns } from './write-turns.js';

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  op: DeliveryRequest['op'];
}

/** Time the worker spent on each kind of request (for benchmarks and diagnostics). */
export type DeliveryTimings = Record<DeliveryRequest['op'], { calls: number; ms: number; maxMs: number }>;

type Op = DeliveryRequest['op'];
type ArgsOf<O extends Op> = Extract<DeliveryRequest, { op: O }>['args'];

const shuttingDown = () =>
  new StorageUnavailableError('the outbox is closed (the agent is shutting down)', 'closed');

/**
 * The worker's young generation (V8's nursery), in MB: a third of it per semi-space. V8's default lets a
 * nursery grow to 48 MB per thread, which the agent would hold for good after its first backlog. A batch
 * leaves a megabyte or two of short-lived strings (the rows read, their JSON text) and its payload goes
 * out as one buffer outside the heap, so a small nursery collects it for a fraction of a millisecond
 * more per batch (`npm run bench:memory`, docs/desktop-app.md). The old generation is left uncapped: a
 * move to a new epoch lists every pending event, and a worker that ran out of memory there would fail
 * the same acknowledgement again each time it was restarted.
 */
const YOUNG_GENERATION_MB = 6;

/** A worker that ended by itself is started again after this long (it also checkpoints the WAL). */
const RESTART_AFTER_MS = 1000;

export interface DeliveryThreadOptions extends DeliveryWorkerData {
  /** A periodic WAL checkpoint failed (checkpointEveryMs); SQLite's own checkpoints remain as a backstop. */
  onCheckpointError?: (message: string) => void;
}

/**
 * A DeliveryStore on a worker thread with its own outbox connection. Reading a 500-event batch, building
 * its payload and recording an acknowledgement take milliseconds of synchronous SQLite and allocate
 * megabytes; on the agent's main thread every till waiting for its 201 would wait behind them (and behind
 * the garbage collection they cause). SQLite in WAL mode lets this thread read while capture writes; the
 * outbox stays the only source of truth. A crashed worker fails the requests it held (the engine publishes
 * again from the outbox), gives back the write turn it may have held, and the next request starts another.
 *
 * With `checkpointEveryMs` the same thread also checkpoints the outbox's WAL (wal-checkpointer.ts): it
 * starts at once, even for an agent with no broker to deliver to, and starts again by itself after a
 * crash. One thread for both, because each thread is a JavaScript heap of its own: a second one for the
 * checkpoints cost the agent about 10 MB of resident memory.
 */
export class DeliveryThread implements DeliveryStore {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly turns: WriteTurns | undefined;
  private readonly data: DeliveryWorkerData;
  private readonly onCheckpointError: ((message: string) => void) | undefined;
  private nextId = 0;
  /** Set as close() begins: from then on no request starts a worker (it would hold a connection nobody closes). */
  private closing = false;
  private closed: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Payload memory the worker handed over, until it goes back (releasePayload): only that is ever sent back. */
  private readonly payloadMemory = new WeakSet<ArrayBuffer>();
  readonly timings: DeliveryTimings = {
    nextBatch: { calls: 0, ms: 0, maxMs: 0 },
    nextClosePart: { calls: 0, ms: 0, maxMs: 0 },
    recordBatchAck: { calls: 0, ms: 0, maxMs: 0 },
    recordCloseAck: { calls: 0, ms: 0, maxMs: 0 },
    withhold: { calls: 0, ms: 0, maxMs: 0 },
    resendBounds: { calls: 0, ms: 0, maxMs: 0 },
    nextResendBatch: { calls: 0, ms: 0, maxMs: 0 },
    close: { calls: 0, ms: 0, maxMs: 0 },
  };

  constructor(options: DeliveryThreadOptions) {
    const { onCheckpointError, ...data } = options;
    this.data = data;
    this.onCheckpointError = onCheckpointError;
    this.turns = data.writeTurns ? new WriteTurns(data.writeTurns) : undefined;
    if (data.checkpointEveryMs !== undefined) this.worker = this.spawn();
  }

  async nextBatch(after: DeliveryCursor | null, limits: MessageLimits): Promise<NextBatch> {
    const next = (await this.request('nextBatch', [after, limits])) as NextBatch;
    const message = next.message;
    if (message?.kind === 'batch' && message.payload instanceof Uint8Array)
      return { ...next, message: { ...message, payload: this.received(message.payload) } };
    return next;
  }

  resendBounds(epoch: string, fromSeq: number): Promise<ResendBounds> {
    return this.request('resendBounds', [epoch, fromSeq]) as Promise<ResendBounds>;
  }

  async nextResendBatch(epoch: string, afterSeq: number, limits: MessageLimits): Promise<NextResendBatch> {
    const next = (await this.request('nextResendBatch', [epoch, afterSeq, limits])) as NextResendBatch;
    const message = next.message;
    if (message && message.payload instanceof Uint8Array)
      return { message: { ...message, payload: this.received(message.payload) } };
    return next;
  }

  /**
   * Sends the memory of a published batch back to the worker, which writes later batches into it. The
   * transfer detaches it here: a reference the MQTT client might still hold reads as empty, never as a
   * later message. Without this, each batch's memory waited for a garbage collection on this thread to
   * be freed (PayloadMemory).
   */
  releasePayload(payload: Buffer): void {
    const memory = payload.buffer as ArrayBuffer;
    if (!this.payloadMemory.delete(memory)) return;
    // No worker (it ended, or the thread is closing): the garbage collector frees it.
    if (!this.worker || this.closing) return;
    try {
      this.worker.postMessage({ reuse: memory } satisfies PayloadReturn, [memory]);
    } catch {
      // Memory that cannot be handed over is simply left to the garbage collector.
    }
  }

  nextClosePart(after: ClosePartCursor | null): Promise<OutgoingClose | undefined> {
    return this.request('nextClosePart', [after]) as Promise<OutgoingClose | undefined>;
  }

  recordBatchAck(ack: BatchAck, at: number): Promise<BatchAckOutcome> {
    return this.request('recordBatchAck', [ack, at]) as Promise<BatchAckOutcome>;
  }

  recordCloseAck(ack: CloseAck, at: number): Promise<CloseAckOutcome> {
    return this.request('recordCloseAck', [ack, at]) as Promise<CloseAckOutcome>;
  }

  withhold(event: EventAt, reason: string): Promise<boolean> {
    return this.request('withhold', [event, reason]) as Promise<boolean>;
  }

  /** Closes the worker's connection after what is queued, then ends it; the same promise for every caller. */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker) {
      // Held until the worker has closed its connection: with nothing else left (the agent stopping
      // last), an unreferenced worker would let the process end before this promise settles.
      worker.ref();
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      // Closes the connection in order after whatever is queued, then the worker ends by itself.
      await this.post(worker, 'close', []).catch(() => {});
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    }
    this.failAll(shuttingDown());
  }

  /** The bytes the worker transferred, as a Buffer over the same memory (no copy), remembered for releasePayload. */
  private received(bytes: Uint8Array): Buffer {
    if (bytes.byteOffset === 0) this.payloadMemory.add(bytes.buffer as ArrayBuffer);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private request<O extends Op>(op: O, args: ArgsOf<O>): Promise<unknown> {
    if (this.closing) return Promise.reject(shuttingDown());
    const worker = (this.worker ??= this.spawn());
    return this.post(worker, op, args);
  }

  private post<O extends Op>(worker: Worker, op: O, args: ArgsOf<O>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject, op });
      worker.postMessage({ id, op, args } as DeliveryRequest);
    });
  }

  private spawn(): Worker {
    const worker = spawnModuleWorker(new URL('./delivery-worker.js', import.meta.url), this.data, {
      maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
    });
    worker.unref();
    worker.on('message', (message: DeliveryWorkerMessage) => {
      if ('checkpointFailed' in message) {
        this.onCheckpointError?.(message.checkpointFailed);
        return;
      }
      const reply: DeliveryReply = message;
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
    // An uncaught error ends the worker, and 'exit' follows: the worker is replaced only then, so two
    // never run at once and the turn released below can only be the dead one's.
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => {
      if (worker === this.worker) this.worker = undefined;
      this.turns?.releaseDeliveryTurn();
      this.failAll(new Error('the outbox delivery worker exited'));
      if (this.data.checkpointEveryMs !== undefined) this.restartSoon();
    });
    return worker;
  }

  /** Checkpoints must go on without a request to start a worker: one starts again shortly, unless one did meanwhile. */
  private restartSoon(): void {
    if (this.closing || this.restartTimer) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.closing && !this.worker) this.worker = this.spawn();
    }, RESTART_AFTER_MS);
    this.restartTimer.unref();
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
