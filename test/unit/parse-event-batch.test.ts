import { describe, expect, it } from 'vitest';
import { parseEventBatch } from '../../src/hub/parse-event-batch.js';
import { sale } from '../support/pos-payloads.js';

const envelope = (body: unknown, overrides: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      v: 1,
      storeId: 'S1',
      epoch: 'aaaabbbbccccdddd',
      events: [
        { seq: 1, eventId: '01EVENT0000000001', type: 'sale', capturedAt: '2026-11-23T10:00:00.000Z', body },
      ],
      ...overrides,
    }),
  );

describe('parseEventBatch', () => {
  it('accepts a valid batch and names each transaction', () => {
    const parsed = parseEventBatch('S1', envelope(sale()));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.events[0]).toMatchObject({
      terminalId: 'T1',
      transactionId: 'sale-1',
      invalidReason: undefined,
    });
    expect(JSON.parse(parsed.events[0]!.bodyText)).toEqual(sale());
  });

  it('rejects an invalid transaction alone, with the path of the problem', () => {
    const parsed = parseEventBatch(
      'S1',
      envelope(sale({ totals: { gross: 1, discount: 0, tax: 0, total: 1 } })),
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.events[0]!.invalidReason).toMatch(/totals\.gross/);
  });

  it('keeps control characters of a bad body out of the names and the reason (PostgreSQL text refuses NUL)', () => {
    const parsed = parseEventBatch('S1', envelope(sale({ currency: 'E\u0000R', transactionId: 'x\u0000y' })));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.events[0]!.transactionId).toBeNull();
    expect(parsed.events[0]!.invalidReason).toBeDefined();
    // eslint-disable-next-line no-control-regex -- asserting their absence
    expect(parsed.events[0]!.invalidReason).not.toMatch(/[\u0000-\u001f]/);
  });

  it('rejects an event whose type disagrees with its body', () => {
    const parsed = parseEventBatch(
      'S1',
      Buffer.from(
        envelope(sale()).toString().replace('"type":"sale","capturedAt"', '"type":"void","capturedAt"'),
      ),
    );
    expect(parsed.ok && parsed.events[0]!.invalidReason).toMatch(/does not match/);
  });

  it.each([
    ['not JSON', Buffer.from('{nope'), /not JSON/],
    ['a wrong envelope', Buffer.from(JSON.stringify({ v: 2 })), /not an events message/],
    [
      'a store publishing on another store topic',
      envelope(sale(), { storeId: 'S2' }),
      /published on the topic of store S1/,
    ],
    ['an oversized message', Buffer.alloc(5 * 1024 * 1024, 32), /exceeds/],
  ])('refuses %s whole, with a reason', (_what, payload, reason) => {
    const parsed = parseEventBatch('S1', payload);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});
