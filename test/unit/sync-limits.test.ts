import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { SYNC_LIMITS } from '../../src/contracts/sync-messages.js';
import {
  buildEpochClose,
  buildEventBatch,
  closePartCount,
  MOVES_PER_CLOSE_PART,
} from '../../src/sync/batch-builder.js';

const base = {
  storeId: 'S1',
  dataDir: '/tmp/outpost-test',
  api: { terminals: [{ id: 'T1', token: 'a-terminal-token-of-16' }] },
};

describe('sync limits in the agent config', () => {
  it('refuses an api.bodyLimitBytes above what one message to head office can carry', () => {
    const over = agentConfigSchema.safeParse({
      ...base,
      api: { ...base.api, bodyLimitBytes: SYNC_LIMITS.maxBodyBytes + 1 },
    });
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]).toMatchObject({
      path: ['api', 'bodyLimitBytes'],
      message: expect.stringMatching(/at most 1048576.*would not fit a message to head office/),
    });
    expect(
      agentConfigSchema.parse({ ...base, api: { ...base.api, bodyLimitBytes: SYNC_LIMITS.maxBodyBytes } }).api
        .bodyLimitBytes,
    ).toBe(SYNC_LIMITS.maxBodyBytes);
  });

  it('keeps batches inside the hub’s limits', () => {
    expect(
      agentConfigSchema.safeParse({ ...base, sync: { batchMaxBytes: SYNC_LIMITS.maxBatchBytes + 1 } })
        .success,
    ).toBe(false);
    expect(
      agentConfigSchema.safeParse({ ...base, sync: { batchMaxEvents: SYNC_LIMITS.maxEventsPerBatch + 1 } })
        .success,
    ).toBe(false);
  });

  it('keeps the in-flight window within what a hub holds of one store', () => {
    const over = agentConfigSchema.safeParse({
      ...base,
      sync: { maxInFlightBatches: SYNC_LIMITS.maxInFlightPerStore + 1 },
    });
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]).toMatchObject({
      path: ['sync', 'maxInFlightBatches'],
      message: expect.stringMatching(/at most 16: a hub holds/),
    });
    expect(
      agentConfigSchema.parse({ ...base, sync: { maxInFlightBatches: SYNC_LIMITS.maxInFlightPerStore } }).sync
        .maxInFlightBatches,
    ).toBe(SYNC_LIMITS.maxInFlightPerStore);
  });

  it('cuts epoch closes into parts that pass a broker with a small packet limit, within head office’s limit', () => {
    expect(MOVES_PER_CLOSE_PART).toBeLessThanOrEqual(SYNC_LIMITS.maxMovesPerClose);
    expect([0, 1, 300, 301, 601].map(closePartCount)).toEqual([1, 1, 1, 2, 3]);
    // A full part with realistic seqs (seven digits) and ULIDs, and the longest reason: about 20 KB.
    const payload = buildEpochClose('S042', {
      epoch: 'aaaabbbbccccdddd',
      lastSeq: 9_999_999,
      nextEpoch: '1111222233334444',
      reason: 'x'.repeat(1000),
      part: 1,
      parts: 1,
      moved: Array.from({ length: MOVES_PER_CLOSE_PART }, (_, i) => ({
        seq: 9_000_000 + i,
        eventId: `01KATZ${String(i).padStart(20, '0')}`,
        toSeq: 1_000_000 + i,
      })),
    });
    expect(Buffer.byteLength(payload)).toBeLessThan(32 * 1024);
  });

  it('fits the largest body the agent accepts, in its worst encoding, into one message', () => {
    // Backslashes, quotes and line breaks each become two characters in a JSON string: the worst case.
    const filler = '\\\\\\"\\n';
    const head = '{"note":"';
    const tail = '",\r\n"n":1}';
    const room = SYNC_LIMITS.maxBodyBytes - head.length - tail.length;
    const body = head + filler.repeat(Math.floor(room / filler.length)) + tail;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(SYNC_LIMITS.maxBodyBytes);
    JSON.parse(body);
    const built = buildEventBatch(
      'a-store-id-of-sixty-four-characters-at-most-0123456789abcdefghijk',
      'aaaabbbbccccdddd',
      [{ seq: 2 ** 40, eventId: '01EVENT'.padEnd(64, 'X'), type: 'sale', capturedAt: Date.now(), body }],
      { maxEvents: 1, maxBytes: 1, maxMessageBytes: SYNC_LIMITS.maxBatchBytes },
    );
    expect(built).toMatchObject({ kind: 'batch', count: 1 });
    expect((built as { bytes: number }).bytes).toBeLessThanOrEqual(SYNC_LIMITS.maxBatchBytes);
  });
});
