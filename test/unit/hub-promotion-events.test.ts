import { describe, expect, it } from 'vitest';
import { parseStoreMessage } from '../../src/hub/parse-event-batch.js';
import type { IncomingEvent } from '../../src/hub/hub-store.js';
import { sale } from '../support/pos-payloads.js';

/**
 * Rollout records arrive on the events path beside sales: the hub validates each body with the schema
 * of its event type, keeps the exact text, and reads from it what the rollout view needs.
 */

const STORE = 'S042';
const DIGEST = 'd'.repeat(43);
const KEY_ID = 'k'.repeat(22);

function judge(type: string, body: string): IncomingEvent {
  const parsed = parseStoreMessage(
    STORE,
    Buffer.from(
      JSON.stringify({
        v: 1,
        storeId: STORE,
        epoch: '0a0a0a0a0a0a0a0a',
        events: [{ seq: 1, eventId: '01EVENT0000000001', type, capturedAt: '2026-11-23T12:00:00Z', body }],
      }),
    ),
  );
  if (!parsed.ok || parsed.kind !== 'batch') throw new Error(JSON.stringify(parsed));
  return parsed.events[0]!;
}

const appliedBody = {
  v: 1,
  type: 'promotion-applied',
  promotionId: 'PASTA',
  version: 3,
  digest: DIGEST,
  keyId: KEY_ID,
  change: 'update',
  previousVersion: 2,
  appliedAt: '2026-11-23T12:00:00+01:00',
};
const refusedBody = {
  v: 1,
  type: 'promotion-refused',
  promotionId: 'PASTA',
  version: 4,
  digest: null,
  keyId: KEY_ID,
  reason: 'bad-signature',
  message: 'does not match its signature',
  refusedAt: '2026-11-23T12:01:00+01:00',
};

describe('promotion rollout events on the events path', () => {
  it('accepts a promotion-applied record, keeps its exact text and reads its rollout, with no terminal or transaction', () => {
    // Whitespace and key order as the store wrote them: the stored body is this very text.
    const { v, type, ...rest } = appliedBody;
    const text = `{ "type": "${type}",\n  "v": ${v}, ${JSON.stringify(rest).slice(1)}`;
    const event = judge('promotion-applied', text);
    expect(event.invalidReason).toBeUndefined();
    expect(event.bodyText).toBe(text);
    expect([event.terminalId, event.transactionId, event.businessDay]).toEqual([null, null, null]);
    expect(event.rollout).toEqual({
      promotionId: 'PASTA',
      version: 3,
      outcome: 'applied',
      change: 'update',
      previousVersion: 2,
      reason: null,
      message: null,
      digest: DIGEST,
      keyId: KEY_ID,
      at: '2026-11-23T12:00:00+01:00',
    });
  });

  it('accepts a promotion-refused record, and one too broken to name its promotion without a rollout row', () => {
    expect(judge('promotion-refused', JSON.stringify(refusedBody)).rollout).toMatchObject({
      promotionId: 'PASTA',
      version: 4,
      outcome: 'refused',
      reason: 'bad-signature',
      message: 'does not match its signature',
    });
    const anonymous = judge(
      'promotion-refused',
      JSON.stringify({ ...refusedBody, promotionId: null, version: null, reason: 'malformed' }),
    );
    expect(anonymous.invalidReason).toBeUndefined();
    expect(anonymous.rollout).toBeUndefined();
  });

  it('keeps control characters a store copied from a forged message out of the rollout row', () => {
    const event = judge(
      'promotion-refused',
      JSON.stringify({ ...refusedBody, message: 'bad\u0000key', keyId: 'k\u0000' }),
    );
    expect(event.rollout).toMatchObject({ message: 'bad\uFFFDkey', keyId: 'k\uFFFD' });
    // The body itself is kept exactly (as the text the store sent).
    expect(event.bodyText).toContain('\\u0000');
  });

  it.each([
    [
      'a bad field, with its path',
      'promotion-applied',
      JSON.stringify({ ...appliedBody, version: 0 }),
      /^invalid promotion-applied record: version: /,
    ],
    [
      'an unknown field',
      'promotion-applied',
      JSON.stringify({ ...appliedBody, extra: 1 }),
      /^invalid promotion-applied record: \(root\): .*extra/,
    ],
    [
      'a body of the other kind',
      'promotion-applied',
      JSON.stringify(refusedBody),
      /^invalid promotion-applied record: type: /,
    ],
    [
      'a sale under a promotion type',
      'promotion-refused',
      JSON.stringify(sale()),
      /^invalid promotion-refused record: /,
    ],
    ['a promotion record under a sale type', 'sale', JSON.stringify(appliedBody), /^invalid transaction: /],
    [
      'an incomplete day close, with its path',
      'day-close',
      JSON.stringify({ v: 1, type: 'day-close' }),
      /^invalid day close: terminalId: /,
    ],
  ])('rejects %s alone, with a reason', (_what, type, body, reason) => {
    const event = judge(type, body);
    expect(event.invalidReason).toMatch(reason);
    expect(event.rollout).toBeUndefined();
    expect(event.bodyText).toBe(body);
  });

  it('still files sales under their terminal, transaction and business day', () => {
    const event = judge('sale', JSON.stringify(sale({ transactionId: 'tx-9' })));
    expect(event.invalidReason).toBeUndefined();
    expect([event.terminalId, event.transactionId, event.businessDay]).toEqual(['T1', 'tx-9', '2026-11-23']);
    expect(event.rollout).toBeUndefined();
  });
});
