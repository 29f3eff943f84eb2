import { describe, expect, it } from 'vitest';
import { epochCloseSchema, eventBatchSchema, SYNC_LIMITS } from '../../src/contracts/sync-messages.js';
import {
  buildEpochClose,
  buildEventBatch,
  PayloadMemory,
  type BuiltBatch,
  type MessageLimits,
  type UnsentEvent,
} from '../../src/sync/batch-builder.js';

const events = (n: number, bodyBytes = 100): UnsentEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    eventId: `01EVENT${String(i + 1).padStart(10, '0')}`,
    type: 'sale' as const,
    capturedAt: Date.UTC(2026, 10, 23, 10, 0, i),
    // Exact POS text, odd spacing and key order included.
    body: `{ "z": 1,  "a": "${'x'.repeat(bodyBytes)}", "n": ${i} }`,
  }));

const limits = (maxEvents: number, maxBytes: number, maxMessageBytes: number = SYNC_LIMITS.maxBatchBytes) =>
  ({ maxEvents, maxBytes, maxMessageBytes }) satisfies MessageLimits;

function batch(result: ReturnType<typeof buildEventBatch>): BuiltBatch {
  if (result?.kind !== 'batch') throw new Error(`expected a batch, got ${JSON.stringify(result)}`);
  return result;
}

describe('buildEventBatch', () => {
  it('builds a valid events message whose bodies are the exact text the POS sent', () => {
    const input = events(3);
    const built = batch(buildEventBatch('S1', 'aaaabbbbccccdddd', input, limits(10, 1 << 20)));
    const message = eventBatchSchema.parse(JSON.parse(built.payload.toString()));
    expect(message.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    message.events.forEach((e, i) => expect(e.body).toBe(input[i]!.body));
    expect(message.events[0]!.capturedAt).toBe('2026-11-23T10:00:00.000Z');
    expect(built).toMatchObject({ firstSeq: 1, lastSeq: 3, count: 3, lastEventId: input[2]!.eventId });
    expect(built.bytes).toBe(Buffer.byteLength(built.payload));
  });

  it('keeps what a JSON parser would alter: big integers, integer-like keys, escapes and whitespace', () => {
    const text =
      '{"extensions":{"loyaltyCard":12345678901234567891,"2":"b","1":"a"},\r\n\t"note":"Cr\\u00e8me \\"br\\u00fbl\\u00e9e\\" 🥐",  "n": 1.50e0 }';
    const built = batch(
      buildEventBatch('S1', 'aaaabbbbccccdddd', [{ ...events(1)[0]!, body: text }], limits(10, 1 << 20)),
    );
    expect(eventBatchSchema.parse(JSON.parse(built.payload.toString())).events[0]!.body).toBe(text);
  });

  it('stops at the event count limit', () => {
    const built = batch(buildEventBatch('S1', 'aaaabbbbccccdddd', events(10), limits(4, 1 << 20)));
    expect([built.firstSeq, built.lastSeq, built.count]).toEqual([1, 4, 4]);
  });

  it('stops before the byte limit, but sends a single larger event alone', () => {
    const built = batch(buildEventBatch('S1', 'aaaabbbbccccdddd', events(10, 1000), limits(100, 3500)));
    expect(built.count).toBe(3);
    expect(Buffer.byteLength(built.payload)).toBeLessThanOrEqual(3500);
    const huge = batch(buildEventBatch('S1', 'aaaabbbbccccdddd', events(2, 10_000), limits(100, 3500)));
    expect(huge.count).toBe(1);
  });

  it('never packs past the largest deliverable message, even when the batch limit is higher', () => {
    const built = batch(
      buildEventBatch('S1', 'aaaabbbbccccdddd', events(10, 1000), limits(100, 1 << 20, 3500)),
    );
    expect(built.count).toBe(3);
    expect(built.bytes).toBeLessThanOrEqual(3500);
  });

  it('reports a first event that fits in no message at all, so it can be dead-lettered', () => {
    const input = events(3, 10_000);
    const result = buildEventBatch('S1', 'aaaabbbbccccdddd', input, limits(100, 1 << 20, 5000));
    expect(result).toMatchObject({ kind: 'too-large', seq: 1, eventId: input[0]!.eventId, limit: 5000 });
    expect((result as { bytes: number }).bytes).toBeGreaterThan(10_000);
  });

  it('sends a withheld event as a marker without its body, naming its till and transaction, valid on the wire', () => {
    const input: UnsentEvent[] = [
      events(1)[0]!,
      {
        ...events(2)[1]!,
        body: null,
        withheld: 'too large to send: 46875 bytes as a message'.padEnd(1500, '.'),
        terminalId: 'T3',
        transactionId: 'T3-6',
      },
      // A name the hub could not take is left out rather than refuse the whole message.
      { ...events(3)[2]!, body: null, withheld: 'refused', terminalId: 'T'.repeat(200), transactionId: null },
    ];
    const built = batch(buildEventBatch('S1', 'aaaabbbbccccdddd', input, limits(10, 1 << 20)));
    const [whole, marker, bare] = eventBatchSchema.parse(JSON.parse(built.payload.toString())).events;
    expect(whole).toMatchObject({ seq: 1, body: input[0]!.body });
    expect(whole).not.toHaveProperty('withheld');
    expect(marker).toEqual({
      seq: 2,
      eventId: input[1]!.eventId,
      type: 'sale',
      capturedAt: '2026-11-23T10:00:01.000Z',
      withheld: { reason: input[1]!.withheld!.slice(0, 1000), terminalId: 'T3', transactionId: 'T3-6' },
    });
    expect(bare).toEqual(expect.objectContaining({ seq: 3, withheld: { reason: 'refused' } }));
    expect(built).toMatchObject({ firstSeq: 1, lastSeq: 3, count: 3 });
  });

  it('never reports a withheld event as too large: its marker is what goes', () => {
    const [big] = events(1, 10_000);
    const result = buildEventBatch(
      'S1',
      'aaaabbbbccccdddd',
      [{ ...big!, body: null, withheld: 'too large' }],
      limits(100, 1 << 20, 5000),
    );
    expect(result).toMatchObject({ kind: 'batch', count: 1 });
  });

  it('returns nothing for nothing', () => {
    expect(buildEventBatch('S1', 'aaaabbbbccccdddd', [], limits(10, 1000))).toBeUndefined();
  });
});

describe('PayloadMemory', () => {
  it('writes each message at the start of memory of its own, and a later message into memory given back', () => {
    const memory = new PayloadMemory();
    const first = batch(
      buildEventBatch('S1', 'aaaabbbbccccdddd', events(200, 1000), limits(200, 1 << 20), memory),
    );
    expect(first.payload.byteOffset).toBe(0);
    expect(first.payload.buffer.byteLength).toBeGreaterThanOrEqual(first.bytes);
    expect(first.payload.length).toBe(first.bytes);
    const firstText = first.payload.toString();

    memory.giveBack(first.payload.buffer as ArrayBuffer);
    const input = events(3);
    const second = batch(buildEventBatch('S1', 'aaaabbbbccccdddd', input, limits(10, 1 << 20), memory));
    // The same memory, written over: the second message whole, nothing of the first after its end.
    expect(second.payload.buffer).toBe(first.payload.buffer);
    expect(eventBatchSchema.parse(JSON.parse(second.payload.toString())).events.map((e) => e.body)).toEqual(
      input.map((e) => e.body),
    );
    expect(firstText).not.toBe(second.payload.toString());
  });

  it('keeps the largest spare buffers, and no more than it was told', () => {
    const memory = new PayloadMemory(2);
    const sizes = [64, 512, 128, 256].map((kib) => new ArrayBuffer(kib * 1024));
    for (const buffer of sizes) memory.giveBack(buffer);
    // Largest first: a message's final size is known only once it is written.
    expect(memory.take(1).buffer).toBe(sizes[1]);
    expect(memory.take(1).buffer).toBe(sizes[3]);
    expect(memory.take(1).buffer).not.toBe(sizes[2]);
  });

  it('gives back what a message did not use: nothing to send, or a first event too large', () => {
    const memory = new PayloadMemory();
    const spare = new ArrayBuffer(1 << 20);
    memory.giveBack(spare);
    expect(buildEventBatch('S1', 'aaaabbbbccccdddd', [], limits(10, 1000), memory)).toBeUndefined();
    const tooLarge = buildEventBatch(
      'S1',
      'aaaabbbbccccdddd',
      events(1, 10_000),
      limits(10, 1 << 20, 5000),
      memory,
    );
    expect(tooLarge).toMatchObject({ kind: 'too-large' });
    expect(memory.take(1).buffer).toBe(spare);
  });
});

describe('buildEpochClose', () => {
  it('builds a valid epoch-close part', () => {
    const payload = buildEpochClose('S1', {
      epoch: 'aaaabbbbccccdddd',
      lastSeq: 90,
      nextEpoch: '1111222233334444',
      reason: 'x'.repeat(5000),
      part: 1,
      parts: 1,
      moved: [{ seq: 61, eventId: '01EVENT0000000061', toSeq: 1 }],
    });
    const message = epochCloseSchema.parse(JSON.parse(payload));
    expect(message.close).toMatchObject({ lastSeq: 90, nextEpoch: '1111222233334444', part: 1, parts: 1 });
    expect(message.close.reason).toHaveLength(1000);
  });
});
