import { describe, expect, it } from 'vitest';
import { parseStoreMessage } from '../../src/hub/parse-event-batch.js';
import { tillClose, tillSale } from '../support/day-close-fixtures.js';
import { voidOf } from '../support/pos-payloads.js';

const EPOCH = 'abcdabcdabcdabcd';

function judge(type: string, body: unknown) {
  const parsed = parseStoreMessage(
    'S1',
    Buffer.from(
      JSON.stringify({
        v: 1,
        storeId: 'S1',
        epoch: EPOCH,
        events: [
          {
            seq: 1,
            eventId: '01PARSEDAY00000001',
            type,
            capturedAt: '2026-11-23T21:00:00Z',
            body: JSON.stringify(body),
          },
        ],
      }),
    ),
  );
  if (!parsed.ok || parsed.kind !== 'batch') throw new Error(JSON.stringify(parsed));
  return parsed.events[0]!;
}

describe('what the hub reads from a store event for its business days', () => {
  it('tallies a sale by type, currency and totals.total, and a void without totals as 0', () => {
    expect(judge('sale', tillSale('T1', 1)).tally).toEqual({ type: 'sale', currency: 'EUR', amount: 609 });
    const bare = {
      ...voidOf({ terminalId: 'T1', transactionId: 'T1-0001' }),
      lines: undefined,
      tenders: undefined,
      totals: undefined,
    };
    expect(judge('void', JSON.parse(JSON.stringify(bare))).tally).toEqual({
      type: 'void',
      currency: 'EUR',
      amount: 0,
    });
  });

  it("files a till's close under its terminal and day, and carries it to the store for judging", () => {
    const close = tillClose('T2', { sales: 2, zNumber: 'Z-1' });
    const event = judge('day-close', close);
    expect(event.invalidReason).toBeUndefined();
    expect([event.terminalId, event.transactionId, event.businessDay]).toEqual(['T2', null, '2026-11-23']);
    expect(event.dayClose).toEqual(close);
    expect(event.tally).toBeUndefined();
  });

  it('rejects a close whose Z-report contradicts itself, alone and with its path', () => {
    const event = judge('day-close', { ...tillClose('T2', { sales: 2 }), transactionIds: ['T2-0001'] });
    expect(event.invalidReason).toMatch(/^invalid day close: transactionIds: lists 1 ids but totals count 2/);
    expect(event.dayClose).toBeUndefined();
  });

  it("reads a store's answer to a resend command as its own kind of message", () => {
    const resend = { requestId: 'r-1', fromSeq: 11, availableFrom: 15, through: 25 };
    expect(
      parseStoreMessage('S1', Buffer.from(JSON.stringify({ v: 1, storeId: 'S1', epoch: EPOCH, resend }))),
    ).toEqual({
      ok: true,
      kind: 'resend',
      report: { v: 1, storeId: 'S1', epoch: EPOCH, resend },
    });
    expect(
      parseStoreMessage(
        'S1',
        Buffer.from(JSON.stringify({ v: 1, storeId: 'S1', epoch: EPOCH, resend: { ...resend, fromSeq: 0 } })),
      ),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not a resend report: resend.fromSeq: /) as string,
    });
  });
});
