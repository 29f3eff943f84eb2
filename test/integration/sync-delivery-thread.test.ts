import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { SYNC_LIMITS, type BatchAck } from '../../src/contracts/sync-messages.js';
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

    const outcome = await thread.recordBatchAck(
      {
        v: 1,
        kind: 'batch',
        epoch: outbox.epoch,
        ackedThrough: 3,
        highestSeq: 3,
        batch: { firstSeq: 1, lastSeq: 3, lastEventId: results[2]!.eventId },
        rejected: [],
        conflicts: [],
      },
      Date.now(),
    );
    expect(outcome).toEqual({ action: 'applied', acked: 3, dead: 0, deadLetters: [], newEpoch: null });
    expect(outbox.unsentCount()).toBe(2);
    expect(thread.timings.recordBatchAck.calls).toBe(1);
  });

  it('takes back the memory of a published batch for the next one: detached here, and the next batch is whole', async () => {
    const { outbox } = outboxWith(30);
    const thread = new DeliveryThread({ file: outbox.file, storeId: 'S1' });
    open.push(thread);
    const here = inThreadDeliveryStore(outbox.file, 'S1');
    open.push(here);
    const small = { ...limits, maxEvents: 10 };
    type Next = Awaited<ReturnType<typeof thread.nextBatch>>;
    const text = (m: Next['message']) => (m?.kind === 'batch' ? m.payload.toString() : undefined);

    let cursor: { epoch: string; seq: number } | null = null;
    for (let i = 0; i < 3; i++) {
      const [there, local]: [Next, Next] = await Promise.all([
        thread.nextBatch(cursor, small),
        here.nextBatch(cursor, small),
      ]);
      expect(text(there.message)).toBe(text(local.message));
      const message: Next['message'] = there.message;
      if (message?.kind !== 'batch') throw new Error('expected a batch');
      cursor = { epoch: there.epoch, seq: message.lastSeq };
      thread.releasePayload(message.payload);
      // Gone from this thread: a reference left anywhere reads as empty, never as a later batch.
      expect(message.payload.length).toBe(0);
    }
    // A buffer the thread did not hand out is left alone.
    const foreign = Buffer.alloc(128 * 1024, 'z');
    thread.releasePayload(foreign);
    expect(foreign.length).toBe(128 * 1024);
  });

  it('brings storage trouble back as StorageUnavailableError, and refuses work once closed', async () => {
    const { outbox, results } = outboxWith(1);
    const thread = new DeliveryThread({ file: outbox.file, storeId: 'S1' });
    // Another program holds the write lock longer than the worker waits for it.
    const holder = new Database(outbox.file);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const refused = await thread
        .recordBatchAck(
          {
            v: 1,
            kind: 'batch',
            epoch: outbox.epoch,
            ackedThrough: 1,
            highestSeq: 1,
            batch: { firstSeq: 1, lastSeq: 1, lastEventId: results[0]!.eventId },
            rejected: [],
            conflicts: [],
          },
          Date.now(),
        )
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

  it('gives back the write turn of a worker that died holding it: captures do not wait, and the next request succeeds', async () => {
    // Enough unsent events that leaving the epoch keeps the worker busy in its turn for a while.
    const outbox = new Outbox({
      file: path.join(makeTempDir('delivery-thread'), 'outbox.sqlite'),
      storeId: 'S1',
    });
    open.push(outbox);
    let last: CaptureResult | undefined;
    for (let chunk = 0; chunk < 30; chunk++) {
      const results = outbox.appendBatch(
        Array.from({ length: 1000 }, (_, i) => {
          const body = `{"n":${chunk * 1000 + i}}`;
          return {
            terminalId: 'T1',
            transactionId: `t${chunk * 1000 + i}`,
            type: 'sale' as const,
            currency: 'EUR',
            signedTotal: 1,
            body,
            bodyHash: textDigest(body),
          };
        }),
      );
      last = results.at(-1) as CaptureResult;
    }
    const thread = new DeliveryThread({ file: outbox.file, storeId: 'S1', writeTurns: outbox.writeTurns });
    open.push(thread);
    const epoch = outbox.epoch;
    const conflict: BatchAck = {
      v: 1,
      kind: 'batch',
      epoch,
      ackedThrough: 30_000,
      highestSeq: 30_000,
      batch: { firstSeq: 30_000, lastSeq: 30_000, lastEventId: last!.eventId },
      rejected: [],
      conflicts: [{ seq: 30_000, reason: 'different event' }],
    };
    const dying = thread.recordBatchAck(conflict, Date.now()).catch((error: unknown) => error);
    // The worker holds the turn while it moves the events; it dies there, as a thread killed for running
    // out of memory would: no `finally` of it runs.
    const turn = new Int32Array(outbox.writeTurns);
    for (let i = 0; i < 5000 && Atomics.load(turn, 0) === 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(Atomics.load(turn, 0)).not.toBe(0);
    await (thread as unknown as { worker: Worker }).worker.terminate();
    expect(await dying).toBeInstanceOf(Error);

    // The turn is free again: a capture takes it at once instead of waiting out its 100 ms every time.
    expect(Atomics.load(turn, 0)).toBe(0);
    expect(outbox.epoch).toBe(epoch);
    // The next request starts another worker and succeeds.
    const outcome = await thread.recordBatchAck(conflict, Date.now());
    expect(outcome).toMatchObject({ action: 'applied', newEpoch: { moved: 30_000 } });
    expect(Atomics.load(turn, 0)).toBe(0);
  }, 60_000);

  it('refuses every request from the moment it starts closing, so no new worker is started', async () => {
    const { outbox } = outboxWith(2);
    const thread = new DeliveryThread({ file: outbox.file, storeId: 'S1' });
    await thread.nextBatch(null, limits);
    const closing = thread.close();
    // Requests that arrive while it closes (a late pump, an acknowledgement), tick after tick until closed.
    const refusals: unknown[] = [];
    let closed = false;
    void closing.then(() => (closed = true));
    for (let tick = 0; tick < 1000 && !closed; tick++) {
      refusals.push(await thread.nextBatch(null, limits).catch((error: unknown) => error));
      await new Promise((r) => setImmediate(r));
    }
    await closing;
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(StorageUnavailableError);
      expect((refusal as StorageUnavailableError).reason).toBe('closed');
    }
  });
});
