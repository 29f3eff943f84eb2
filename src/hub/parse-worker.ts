import { parentPort } from 'node:worker_threads';
import { parseStoreMessage, type HeldThrough } from './parse-event-batch.js';
import { toTransfer } from './parse-transfer.js';

/** Runs parseStoreMessage off the hub's main thread; see parse-pool.ts. */
parentPort?.on(
  'message',
  (message: { id: number; storeId: string; payload: Uint8Array; held?: HeldThrough }) => {
    const result = parseStoreMessage(
      message.storeId,
      Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength),
      message.held,
    );
    parentPort?.postMessage({ id: message.id, result: toTransfer(result) });
  },
);
