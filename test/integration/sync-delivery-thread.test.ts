import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNC_LIMITS } from '../../src/contracts/sync-messages.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { StorageUnavailableError } from '../../src/lib/errors.js';
import { DeliveryThread, inThreadDeliveryStore, Outbox, type CaptureResult } from '../../src/sync/index.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The sync engine's outbox work on a thread of its own must answer exactly as it does on the calling
 * thread: the same batch bytes, the same acknowledgement outcome, the same typed errors.
 */

const limits = { maxEvents: 100, maxBytes: 1 << 20, maxMessageBytes: SYNC_LIMITS.maxBatchBytes };
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

function outboxWith(count: number): { outbox: Outbox; results: CaptureResult[] } {
  const outbox = new Outbox({
    file: path.join(makeTempDir('delivery-thread'), 'outbox.sqlite'),
    storeId: 'S1',
  });
  open.push(outbox);
  const results = outbox.appendBatch(
    Array.from({ length: count }, (_, i) => {
      const body = `{ "n": ${i}, "loyaltyCard": 12345678901234567891 }`;
      return {
        terminalId: 'T1',
        transactionId: `t${i}`,
        type: 'sale' as const,
        currency: 'EUR',
        signedTotal: 1,
        body,
        bodyHash: textDigest(body),
      };
    }),
  ) as CaptureResult[];
  return { outbox, results };
}

describe('the delivery thread', () => {
  it('builds the same batch and records the same acknowledgement as the calling thread would', async () => {
    const { outbox, results } = outboxWith(5);
    const thread = new DeliveryThread({ file: outbox.file, storeId: 'S1' });
    open.push(thread);
    const here = inThreadDeliveryStore(outbox.file, 'S1');
    open.push(here);

    const [there, local] = await Promise.all([thread.nextBatch(null, limits), here.nextBatch(null, limits)]);
    expect(there.epoch).toBe(local.epoch);
    const payload = (m: typeof there.message) => (m?.kind === 'batch' ? m.payload.toString() : undefined);
    expect(payload(there.message)).toBe(payload(local.message));
    expect(Buffer.isBuffer(there.message?.kind === 'batch' && there.message.payload)).toBe(true);

    const outcome = await thread.recordBatchAck({
      v: 1,
      kind: 'batch',
      epoch: outbox.epoch,
      ackedThrough: 3,
      highestSeq: 3,
      batch: { firstSeq: 1, lastSeq: 3, lastEventId: results[2]!.eventId },
      rejected: [],
      conflicts: [],
    });
    expect(outcome).toEqual({ action: 'applied', acked: 3, dead: 0, deadLetters: [], newEpoch: null });
    expect(outbox.unsentCount()).toBe(2);
    expect(thread.timings.recordBatchAck.calls).toBe(1);
  });

  it('brings storage trouble back as StorageUnavailableError, and refuses work once closed', async () => {
    const { outbox, results } = outboxWith(1);
    const thread = new DeliveryThread({ file: outbox.file, storeId: 'S1' });
    // Another program holds the write lock longer than the worker waits for it.
    const holder = new Database(outbox.file);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const refused = await thread
        .recordBatchAck({
          v: 1,
          kind: 'batch',
          epoch: outbox.epoch,
          ackedThrough: 1,
          highestSeq: 1,
          batch: { firstSeq: 1, lastSeq: 1, lastEventId: results[0]!.eventId },
          rejected: [],
          conflicts: [],
        })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StorageUnavailableError);
      expect((refused as StorageUnavailableError).reason).toBe('locked');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(outbox.unsentCount()).toBe(1);
    await thread.close();
    await expect(thread.nextBatch(null, limits)).rejects.toBeInstanceOf(StorageUnavailableError);
  }, 20_000);
});
