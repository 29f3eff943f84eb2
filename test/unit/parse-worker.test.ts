import { afterAll, describe, expect, it } from 'vitest';
import { parseStoreMessage } from '../../src/hub/parse-event-batch.js';
import { ParseWorker } from '../../src/hub/parse-pool.js';
import { silentLogger } from '../../src/lib/logger.js';
import { sale } from '../support/pos-payloads.js';

const worker = new ParseWorker(silentLogger());
afterAll(() => worker.close());

const batch = (bodies: unknown[]) =>
  Buffer.from(
    JSON.stringify({
      v: 1,
      storeId: 'S1',
      epoch: 'aaaabbbbccccdddd',
      events: bodies.map((body, i) => ({
        seq: i + 1,
        eventId: `01EVENT${String(i + 1).padStart(10, '0')}`,
        type: 'sale',
        capturedAt: '2026-11-23T10:00:00.000Z',
        body: JSON.stringify(body),
      })),
    }),
  );

describe('parse worker', () => {
  it('judges messages exactly as parsing on the main thread does: valid and invalid events, closes, refusals', async () => {
    const payload = batch([
      sale(),
      sale({ totals: { gross: 1, discount: 0, tax: 0, total: 1 } }),
      sale({}, 3),
    ]);
    expect(await worker.parse('S1', payload)).toEqual(parseStoreMessage('S1', payload));
    const refused = Buffer.from('{not json');
    expect(await worker.parse('S1', refused)).toEqual(parseStoreMessage('S1', refused));
    const close = Buffer.from(
      JSON.stringify({
        v: 1,
        storeId: 'S1',
        epoch: 'aaaabbbbccccdddd',
        close: { lastSeq: 2, nextEpoch: 'eeeeffff00001111', reason: 'r', part: 1, parts: 1, moved: [] },
      }),
    );
    expect(await worker.parse('S1', close)).toEqual(parseStoreMessage('S1', close));
    expect((await worker.parse('S1', close)).ok).toBe(true);
  });

  it('keeps answers matched to their batches when many are in flight', async () => {
    const payloads = Array.from({ length: 20 }, (_, i) => batch([sale({ transactionId: `tx-${i}` })]));
    const results = await Promise.all(payloads.map((p) => worker.parse('S1', p)));
    results.forEach((r, i) =>
      expect(r.ok && r.kind === 'batch' && r.events[0]!.transactionId).toBe(`tx-${i}`),
    );
  });
});
