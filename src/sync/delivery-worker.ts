import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { StorageUnavailableError } from '../lib/errors.js';
import { DeliveryDatabase } from './delivery-store.js';

/**
 * The sync engine's outbox work on a thread of its own (see delivery-thread.ts): one connection, one
 * request at a time, in the order they were sent. Batch payloads travel back as transferred bytes, not
 * as copied strings.
 */
export interface DeliveryWorkerData {
  file: string;
  storeId: string;
  /** Outbox.writeTurns of the agent's outbox: shared memory, not a copy. */
  writeTurns?: SharedArrayBuffer;
}

export type DeliveryRequest =
  | { id: number; op: 'nextBatch'; args: Parameters<DeliveryDatabase['nextBatch']> }
  | { id: number; op: 'pendingCloses'; args: [] }
  | { id: number; op: 'recordBatchAck'; args: Parameters<DeliveryDatabase['recordBatchAck']> }
  | { id: number; op: 'recordCloseAck'; args: Parameters<DeliveryDatabase['recordCloseAck']> }
  | { id: number; op: 'markUndeliverable'; args: Parameters<DeliveryDatabase['markUndeliverable']> }
  | { id: number; op: 'close'; args: [] };

export type DeliveryReply =
  | { id: number; ok: true; result: unknown; ms: number }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; reason?: StorageUnavailableError['reason'] };
      ms: number;
    };

const port = parentPort;
if (port) {
  const { file, storeId, writeTurns } = workerData as DeliveryWorkerData;
  // Waiting for a lock blocks only this thread, so it may wait longer than the tills' thread does.
  const core = new DeliveryDatabase(file, storeId, { busyTimeoutMs: 5000, writeTurns });
  const encoder = new TextEncoder();
  port.on('message', (request: DeliveryRequest) => {
    const startedAt = performance.now();
    try {
      let result: unknown;
      const transfer: ArrayBuffer[] = [];
      switch (request.op) {
        case 'nextBatch': {
          const next = core.nextBatch(...request.args);
          if (next.message?.kind === 'batch' && typeof next.message.payload === 'string') {
            const bytes = encoder.encode(next.message.payload);
            transfer.push(bytes.buffer as ArrayBuffer);
            result = { ...next, message: { ...next.message, payload: bytes } };
          } else result = next;
          break;
        }
        case 'pendingCloses':
          result = core.pendingCloses();
          break;
        case 'recordBatchAck':
          result = core.recordBatchAck(...request.args);
          break;
        case 'recordCloseAck':
          result = core.recordCloseAck(...request.args);
          break;
        case 'markUndeliverable':
          result = core.markUndeliverable(...request.args);
          break;
        case 'close':
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
