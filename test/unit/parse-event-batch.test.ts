import { describe, expect, it } from 'vitest';
import { withheldDigest } from '../../src/hub/classify-events.js';
import { parseStoreMessage } from '../../src/hub/parse-event-batch.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { exactSaleText } from '../support/exact-bodies.js';
import { sale } from '../support/pos-payloads.js';

const EPOCH = 'aaaabbbbccccdddd';
const NEXT = 'eeeeffff00001111';

/** An events message carrying `text` as the body of seq 1, exactly as an agent publishes it. */
const envelope = (text: string, overrides: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      v: 1,
      storeId: 'S1',
      epoch: EPOCH,
      events: [
        {
          seq: 1,
          eventId: '01EVENT0000000001',
          type: 'sale',
          capturedAt: '2026-11-23T10:00:00.000Z',
          body: text,
        },
      ],
      ...overrides,
    }),
  );

const closeMessage = (close: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      v: 1,
      storeId: 'S1',
      epoch: EPOCH,
      close: {
        lastSeq: 90,
        nextEpoch: NEXT,
        reason: 'conflicts at seq 61',
        part: 1,
        parts: 1,
        moved: [{ seq: 61, eventId: '01EVENT0000000061', toSeq: 1 }],
        ...close,
      },
    }),
  );

function firstEvent(payload: Buffer) {
  const parsed = parseStoreMessage('S1', payload);
  if (!parsed.ok || parsed.kind !== 'batch') throw new Error(`not a batch: ${JSON.stringify(parsed)}`);
  return parsed.events[0]!;
}

describe('parseStoreMessage: events', () => {
  it('accepts a valid batch and names each transaction', () => {
    const event = firstEvent(envelope(JSON.stringify(sale())));
    expect(event).toMatchObject({
      terminalId: 'T1',
      transactionId: 'sale-1',
      businessDay: '2026-11-23',
      bodyIsJson: true,
      invalidReason: undefined,
    });
  });

  it('keeps the exact text of the body, big integers, key order, escapes and whitespace included, and digests that text', () => {
    const text = exactSaleText(7);
    const event = firstEvent(envelope(text));
    expect(event.invalidReason).toBeUndefined();
    expect(event.bodyText).toBe(text);
    expect(event.bodyHash).toBe(textDigest(text));
    // What the hub must never store instead: the text re-serialised from its parsed value.
    expect(JSON.stringify(JSON.parse(text))).not.toContain('12345678901234567891');
  });

  it('rejects a body that is not JSON alone, with a clear reason', () => {
    const event = firstEvent(envelope('{"v":1, this is not json'));
    expect(event.bodyIsJson).toBe(false);
    expect(event.bodyText).toBe('{"v":1, this is not json');
    expect(event.invalidReason).toMatch(/^body is not JSON: /);
    expect(event.terminalId).toBeNull();
  });

  it('rejects a body holding a lone surrogate, which no POS could have sent as UTF-8', () => {
    const event = firstEvent(envelope(JSON.stringify(sale()).replace('Pencil HB', 'Pencil \ud800')));
    expect(event.bodyIsJson).toBe(false);
    expect(event.invalidReason).toMatch(/lone UTF-16 surrogate/);
  });

  it('rejects an invalid transaction alone, with the path of the problem', () => {
    const event = firstEvent(
      envelope(JSON.stringify(sale({ totals: { gross: 1, discount: 0, tax: 0, total: 1 } }))),
    );
    expect(event.bodyIsJson).toBe(true);
    expect(event.invalidReason).toMatch(/totals\.gross/);
  });

  it('keeps control characters of a bad body out of the names and the reason (PostgreSQL text refuses NUL)', () => {
    const event = firstEvent(
      envelope(JSON.stringify(sale({ currency: 'E\u0000R', transactionId: 'x\u0000y' }))),
    );
    expect(event.transactionId).toBeNull();
    expect(event.invalidReason).toBeDefined();
    // eslint-disable-next-line no-control-regex -- asserting their absence
    expect(event.invalidReason).not.toMatch(/[\u0000-\u001f]/);
    const notJson = firstEvent(envelope('\u0000{'));
    // eslint-disable-next-line no-control-regex -- asserting their absence
    expect(notJson.invalidReason).not.toMatch(/[\u0000-\u001f]/);
  });

  it('rejects an event whose type disagrees with its body', () => {
    const payload = Buffer.from(
      envelope(JSON.stringify(sale()))
        .toString()
        .replace('"type":"sale","capturedAt"', '"type":"void","capturedAt"'),
    );
    expect(firstEvent(payload).invalidReason).toMatch(/does not match/);
  });
});

describe('parseStoreMessage: events at seqs the hub already holds', () => {
  const batchOf = (texts: string[]) =>
    envelope('', {
      events: texts.map((text, i) => ({
        seq: i + 1,
        eventId: `01EVENT000000000${i + 1}`,
        type: 'sale',
        capturedAt: '2026-11-23T10:00:00.000Z',
        body: text,
      })),
    });

  it('only digests the bodies up to what the hub holds of that epoch, and judges the rest in full', () => {
    const texts = [JSON.stringify(sale({}, 1)), 'not json at all', JSON.stringify(sale({}, 3))];
    const parsed = parseStoreMessage('S1', batchOf(texts), { epoch: EPOCH, through: 2 });
    if (!parsed.ok || parsed.kind !== 'batch') throw new Error('not a batch');
    expect(
      parsed.events.map((e) => [e.seq, e.unjudged ?? false, e.bodyHash === textDigest(texts[e.seq - 1]!)]),
    ).toEqual([
      [1, true, true],
      [2, true, true],
      [3, false, true],
    ]);
    // Not even looked at: a digest is all it takes to recognise the same text again.
    expect(parsed.events[1]).toMatchObject({
      invalidReason: undefined,
      terminalId: null,
      transactionId: null,
    });
    expect(parsed.events[2]).toMatchObject({
      terminalId: 'T1',
      transactionId: 'sale-3',
      invalidReason: undefined,
    });
  });

  it('judges everything of another epoch than the one the hub holds', () => {
    const parsed = parseStoreMessage('S1', batchOf([JSON.stringify(sale({}, 1))]), {
      epoch: NEXT,
      through: 5,
    });
    expect(parsed.ok && parsed.kind === 'batch' && parsed.events[0]!.unjudged).toBe(undefined);
  });
});

describe('parseStoreMessage: an event the store withheld', () => {
  /** The marker an agent sends instead of a body that fits no message. */
  const withheld = (marker: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    Buffer.from(
      JSON.stringify({
        v: 1,
        storeId: 'S1',
        epoch: EPOCH,
        events: [
          {
            seq: 4,
            eventId: '01EVENT0000000004',
            type: 'sale',
            capturedAt: '2026-11-23T10:00:00.000Z',
            withheld: marker,
            ...extra,
          },
        ],
      }),
    );

  it('refuses it with the store’s reason, filed under the till and transaction it names, with a digest fixed per event', () => {
    const event = firstEvent(
      withheld({ reason: 'too large to send: 46000 bytes', terminalId: 'T1', transactionId: 'T1-9' }),
    );
    expect(event).toMatchObject({
      seq: 4,
      eventId: '01EVENT0000000004',
      type: 'sale',
      terminalId: 'T1',
      transactionId: 'T1-9',
      businessDay: null,
      bodyText: 'null',
      bodyIsJson: true,
      bodyHash: withheldDigest('01EVENT0000000004'),
      invalidReason: 'withheld by the store: too large to send: 46000 bytes',
    });
    // A redelivered marker carries the same digest; a body of the same event never does.
    expect(firstEvent(withheld({ reason: 'another wording' })).bodyHash).toBe(event.bodyHash);
  });

  it('keeps control characters out of the reason and the names', () => {
    const event = firstEvent(withheld({ reason: 'too\u0000large', terminalId: 'T\u00001' }));
    expect(event.invalidReason).toBe('withheld by the store: too\uFFFDlarge');
    expect(event.terminalId).toBeNull();
  });

  it.each([
    ['both a body and a marker', { body: '{}' }],
    ['a marker with an unknown field', { withheld: { reason: 'x', body: '{}' } }],
  ])('refuses a message with an event carrying %s', (_what, extra) => {
    const parsed = parseStoreMessage('S1', withheld({ reason: 'too large' }, extra));
    expect(parsed.ok).toBe(false);
  });

  it('refuses an event carrying neither a body nor a marker', () => {
    const parsed = parseStoreMessage('S1', withheld({ reason: 'x' }, { withheld: undefined }));
    expect(parsed).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/either its body or a withheld marker/),
    });
  });
});

describe('parseStoreMessage: epoch close', () => {
  it('reads a close part, with control characters kept out of its reason', () => {
    const parsed = parseStoreMessage('S1', closeMessage({ reason: 'restored\u0000backup' }));
    expect(parsed).toEqual({
      ok: true,
      kind: 'close',
      close: {
        v: 1,
        storeId: 'S1',
        epoch: EPOCH,
        close: {
          lastSeq: 90,
          nextEpoch: NEXT,
          reason: 'restored\uFFFDbackup',
          part: 1,
          parts: 1,
          moved: [{ seq: 61, eventId: '01EVENT0000000061', toSeq: 1 }],
        },
      },
    });
  });

  it.each([
    ['a move beyond the last seq', { lastSeq: 60 }, /beyond the closed epoch's last seq 60/],
    ['a close into the same epoch', { nextEpoch: EPOCH }, /cannot be closed into itself/],
    ['a part number above the count', { part: 2, parts: 1 }, /part 2 of 1/],
    [
      'a seq moved twice',
      {
        moved: [
          { seq: 61, eventId: '01EVENT0000000061', toSeq: 1 },
          { seq: 61, eventId: '01EVENT0000000062', toSeq: 2 },
        ],
      },
      /moved twice/,
    ],
    ['a malformed close', { moved: [{ seq: 0 }] }, /not an epoch close: close\.moved\.0\./],
  ])('refuses %s whole', (_what, close, reason) => {
    const parsed = parseStoreMessage('S1', closeMessage(close));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('parseStoreMessage: refused messages', () => {
  it.each([
    ['not JSON', Buffer.from('{nope'), /not JSON/],
    ['a wrong envelope', Buffer.from(JSON.stringify({ v: 2 })), /not an events message/],
    [
      'a body sent as a JSON value instead of its text',
      envelope('x', { events: [{ seq: 1, body: {} }] }),
      /events\.0\./,
    ],
    [
      'a store publishing on another store topic',
      envelope(JSON.stringify(sale()), { storeId: 'S2' }),
      /published on the topic of store S1/,
    ],
    ['an oversized message', Buffer.alloc(5 * 1024 * 1024, 32), /exceeds/],
  ])('refuses %s whole, with a reason', (_what, payload, reason) => {
    const parsed = parseStoreMessage('S1', payload);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});
