import {
  eventBatchSchema,
  SYNC_LIMITS,
  type BatchAck,
  type SyncEvent,
} from '../../src/contracts/sync-messages.js';
import { DeliveryDatabase, type DeliveryCursor } from '../../src/sync/delivery-store.js';
import { startNewEpochIn, type BatchAckOutcome, type NewEpoch } from '../../src/sync/outbox-acks.js';
import { openOutboxDatabase } from '../../src/sync/outbox-database.js';

/**
 * The delivery side of an outbox file, as the agent's sync engine drives it: a connection of its own and
 * the very code its delivery thread runs. For tests and benchmarks that play head office's answers, or
 * read what the agent would publish next, without a broker.
 */
export function withDelivery<T>(
  file: string,
  work: (delivery: DeliveryDatabase) => T,
  options: { storeId?: string; epochFactory?: () => string } = {},
): T {
  const delivery = new DeliveryDatabase(
    file,
    options.storeId ?? 'S1',
    options.epochFactory ? { epochFactory: options.epochFactory } : {},
  );
  try {
    return work(delivery);
  } finally {
    delivery.close();
  }
}

/** Records head office's answer to a batch, as the agent does when it arrives (`at`: the agent's clock). */
export function recordAck(
  file: string,
  ack: BatchAck,
  options: { at?: number; epochFactory?: () => string } = {},
): BatchAckOutcome {
  return withDelivery(file, (delivery) => delivery.recordBatchAck(ack, options.at ?? Date.now()), options);
}

const EVERYTHING = {
  maxEvents: SYNC_LIMITS.maxEventsPerBatch,
  maxBytes: SYNC_LIMITS.maxBatchBytes,
  maxMessageBytes: SYNC_LIMITS.maxBatchBytes,
};

/**
 * What the agent would publish now, read batch after batch as its sync engine reads them: every
 * unacknowledged event of the current epoch, in seq order, as it goes on the wire.
 */
export function eventsToPublish(file: string, storeId = 'S1'): { epoch: string; events: SyncEvent[] } {
  return withDelivery(
    file,
    (delivery) => {
      const events: SyncEvent[] = [];
      let cursor: DeliveryCursor | null = null;
      for (let batches = 0; batches < 10_000; batches++) {
        const next = delivery.nextBatch(cursor, EVERYTHING);
        const message = next.message;
        if (!message) return { epoch: next.epoch, events };
        if (message.kind !== 'batch') throw new Error(`event ${message.seq} is too large to send`);
        events.push(...eventBatchSchema.parse(JSON.parse(message.payload.toString())).events);
        cursor = { epoch: next.epoch, seq: message.lastSeq };
      }
      throw new Error('more than 10,000 batches to publish: the test holds far more than it meant to');
    },
    { storeId },
  );
}

/** Seqs of the current epoch the agent would publish now. */
export const seqsToPublish = (file: string) => eventsToPublish(file).events.map((e) => e.seq);

/**
 * Leaves the current epoch on a connection of its own, as the agent's delivery connection does when head
 * office says the database was restored or copied (outbox-acks.ts): moves every unsent event and closes
 * the old epoch, in one transaction.
 */
export function leaveEpoch(
  file: string,
  reason: string,
  options: { at?: number; epochFactory?: () => string } = {},
): NewEpoch {
  const db = openOutboxDatabase(file, { synchronous: 'NORMAL' });
  try {
    return db
      .transaction(() => startNewEpochIn(db, options.at ?? Date.now(), reason, options.epochFactory))
      .immediate();
  } finally {
    db.close();
  }
}
