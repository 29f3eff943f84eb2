import path from 'node:path';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { inThreadDeliveryStore, Outbox } from '../../src/sync/index.js';

/**
 * Sales head office refused, in a store's outbox before its agent starts: captured, sent (as far as the
 * outbox knows) and answered with `rejected`, exactly as the sync engine records a refusal. Returns each
 * one's eventId, in order.
 */
export async function seedDeadLetters(
  dataDir: string,
  storeId: string,
  sales: readonly { body: Record<string, unknown>; reason: string }[],
): Promise<string[]> {
  const file = path.join(dataDir, 'outbox.sqlite');
  const outbox = new Outbox({ file, storeId });
  const delivery = inThreadDeliveryStore(file, storeId);
  try {
    const results = outbox.appendBatch(
      sales.map(({ body }) => {
        const text = JSON.stringify(body);
        return {
          terminalId: String(body.terminalId),
          transactionId: String(body.transactionId),
          type: 'sale' as const,
          currency: String(body.currency),
          signedTotal: Number((body.totals as { total: number }).total),
          body: text,
          bodyHash: textDigest(text),
        };
      }),
    );
    const eventIds = results.map((r) => {
      if (r instanceof Error) throw r;
      return r.eventId;
    });
    const first = (results[0] as { seq: number }).seq;
    const last = (results.at(-1) as { seq: number }).seq;
    await delivery.recordBatchAck(
      {
        v: 1,
        kind: 'batch',
        epoch: outbox.epoch,
        ackedThrough: last,
        highestSeq: last,
        batch: { firstSeq: first, lastSeq: last, lastEventId: eventIds.at(-1)! },
        rejected: sales.map((s, i) => ({ seq: first + i, reason: s.reason })),
        conflicts: [],
      },
      Date.now(),
    );
    return eventIds;
  } finally {
    await delivery.close();
    outbox.close();
  }
}
