import { describe, expect, it } from 'vitest';
import { eventBatchSchema } from '../../src/contracts/sync-messages.js';
import { buildEventBatch } from '../../src/sync/batch-builder.js';
import type { UnsentEvent } from '../../src/sync/outbox.js';

const events = (n: number, bodyBytes = 100): UnsentEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    eventId: `01EVENT${String(i + 1).padStart(10, '0')}`,
    type: 'sale' as const,
    capturedAt: Date.UTC(2026, 10, 23, 10, 0, i),
    // Exact POS text, odd spacing and key order included.
    body: `{ "z": 1,  "a": "${'x'.repeat(bodyBytes)}", "n": ${i} }`,
  }));

describe('buildEventBatch', () => {
  it('builds a valid events message whose bodies parse to exactly what the POS sent', () => {
    const input = events(3);
    const batch = buildEventBatch('S1', 'aaaabbbbccccdddd', input, { maxEvents: 10, maxBytes: 1 << 20 })!;
    const message = eventBatchSchema.parse(JSON.parse(batch.payload));
    expect(message.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    message.events.forEach((e, i) => expect(e.body).toEqual(JSON.parse(input[i]!.body)));
    expect(message.events[0]!.capturedAt).toBe('2026-11-23T10:00:00.000Z');
    expect([batch.firstSeq, batch.lastSeq, batch.count]).toEqual([1, 3, 3]);
  });

  it('stops at the event count limit', () => {
    const batch = buildEventBatch('S1', 'aaaabbbbccccdddd', events(10), { maxEvents: 4, maxBytes: 1 << 20 })!;
    expect([batch.firstSeq, batch.lastSeq, batch.count]).toEqual([1, 4, 4]);
  });

  it('stops before the byte limit, but always carries at least one event', () => {
    const batch = buildEventBatch('S1', 'aaaabbbbccccdddd', events(10, 1000), {
      maxEvents: 100,
      maxBytes: 3500,
    })!;
    expect(batch.count).toBe(3);
    expect(Buffer.byteLength(batch.payload)).toBeLessThanOrEqual(3500);
    const huge = buildEventBatch('S1', 'aaaabbbbccccdddd', events(2, 10_000), {
      maxEvents: 100,
      maxBytes: 3500,
    })!;
    expect(huge.count).toBe(1);
  });

  it('returns nothing for nothing', () => {
    expect(buildEventBatch('S1', 'aaaabbbbccccdddd', [], { maxEvents: 10, maxBytes: 1000 })).toBeUndefined();
  });
});
