import { parentPort } from 'node:worker_threads';
import { parseStoreMessage } from './parse-event-batch.js';

/** Runs parseStoreMessage off the hub's main thread; see parse-pool.ts. */
parentPort?.on('message', (message: { id: number; storeId: string; payload: Uint8Array }) => {
  const result = parseStoreMessage(
    message.storeId,
    Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength),
  );
  parentPort?.postMessage({ id: message.id, result });
});
