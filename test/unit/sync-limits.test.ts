import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { SYNC_LIMITS } from '../../src/contracts/sync-messages.js';
import { buildEventBatch } from '../../src/sync/batch-builder.js';

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
