import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { StorageUnavailableError } from '../lib/errors.js';
import { DeliveryDatabase } from './delivery-store.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/**
 * The outbox's work off the tills' thread (see delivery-thread.ts): the sync engine's reads, batch
 * building and acknowledgements, one request at a time in the order they were sent, and the periodic WAL
 * checkpoint, all on one connection. Batch payloads travel back as transferred bytes, not copies. Every
 * write carries its time from the engine's clock (`at`): this thread has none.
 *
 * What this module imports is what the thread holds in memory for the agent's lifetime: it stays clear of
 * the wire schemas (zod) and of everything else the main thread needs.
 */
export interface DeliveryWorkerData {
  file: string;
  storeId: string;
  /** Outbox.writeTurns of the agent's outbox: shared memory, not a copy. */
  writeTurns?: SharedArrayBuffer;
  /** Checkpoint the outbox's WAL this often (wal-checkpointer.ts); omitted, no checkpoints here. */
  checkpointEveryMs?: number;
}

export type DeliveryRequest =
  | { id: number; op: 'nextBatch'; args: Parameters<DeliveryDatabase['nextBatch']> }
  | { id: number; op: 'nextClosePart'; args: Parameters<DeliveryDatabase['nextClosePart']> }
  | { id: number; op: 'recordBatchAck'; args: Parameters<DeliveryDatabase['recordBatchAck']> }
  | { id: number; op: 'recordCloseAck'; args: Parameters<DeliveryDatabase['recordCloseAck']> }
  | { id: number; op: 'withhold'; args: Parameters<DeliveryDatabase['withhold']> }
  | { id: number; op: 'resendBounds'; args: Parameters<DeliveryDatabase['resendBounds']> }
  | { id: number; op: 'nextResendBatch'; args: Parameters<DeliveryDatabase['nextResendBatch']> }
  | { id: number; op: 'close'; args: [] };

export type DeliveryReply =
  | { id: number; ok: true; result: unknown; ms: number }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; reason?: StorageUnavailableError['reason'] };
      ms: number;
    };

/**
 * The memory of a published batch, handed back (transferred, so the agent's thread cannot read it any
 * more) to carry a later one. No answer.
 */
export interface PayloadReturn {
  reuse: ArrayBuffer;
}

/** What the worker says unasked: a checkpoint failed (for the agent's log). */
export interface CheckpointFailure {
  checkpointFailed: string;
}

export type DeliveryWorkerMessage = DeliveryReply | CheckpointFailure;

/** The memory a payload's bytes sit in, to hand over without a copy (PayloadMemory gives each its own). */
function transferable(payload: Buffer): ArrayBuffer[] {
  return payload.byteOffset === 0 ? [payload.buffer as ArrayBuffer] : [];
}

const port = parentPort;
if (port) {
  const { file, storeId, writeTurns, checkpointEveryMs } = workerData as DeliveryWorkerData;
  // Waiting for a lock blocks only this thread, so it may wait longer than the tills' thread does.
  const core = new DeliveryDatabase(file, storeId, { busyTimeoutMs: 5000, writeTurns });
  const checkpoints =
    checkpointEveryMs === undefined
      ? undefined
      : new WalCheckpointer(core.connection, checkpointEveryMs, (message) =>
          port.postMessage({ checkpointFailed: message } satisfies CheckpointFailure),
        );
  checkpoints?.start();
  port.on('message', (message: DeliveryRequest | PayloadReturn) => {
    if ('reuse' in message) {
      core.reusePayloadMemory(message.reuse);
      return;
    }
    const request = message;
    const startedAt = performance.now();
    try {
      let result: unknown;
      let transfer: ArrayBuffer[] = [];
      switch (request.op) {
        case 'nextBatch': {
          const next = core.nextBatch(...request.args);
          if (next.message?.kind === 'batch') transfer = transferable(next.message.payload);
          result = next;
          break;
        }
        case 'nextClosePart':
          result = core.nextClosePart(...request.args);
          break;
        case 'recordBatchAck':
          result = core.recordBatchAck(...request.args);
          break;
        case 'recordCloseAck':
          result = core.recordCloseAck(...request.args);
          break;
        case 'withhold':
          result = core.withhold(...request.args);
          break;
        case 'resendBounds':
          result = core.resendBounds(...request.args);
          break;
        case 'nextResendBatch': {
          const next = core.nextResendBatch(...request.args);
          if (next.message) transfer = transferable(next.message.payload);
          result = next;
          break;
        }
        case 'close':
          checkpoints?.stop();
          core.close();
          result = undefined;
          break;
      }
      const reply: DeliveryReply = { id: request.id, ok: true, result, ms: performance.now() - startedAt };
      port.postMessage(reply, transfer);
      if (request.op === 'close') port.close();
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      const reply: DeliveryReply = {
        id: request.id,
        ok: false,
        error: {
          name: e.name,
          message: e.message,
          ...(e instanceof StorageUnavailableError ? { reason: e.reason } : {}),
        },
        ms: performance.now() - startedAt,
      };
      port.postMessage(reply);
    }
  });
}
