import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/hub/hub-store.js';
import {
  eventJson,
  exportLine,
  quarantineJson,
  withRawList,
  withRawMember,
} from '../../src/hub/served-json.js';
import { exactSaleText } from '../support/exact-bodies.js';

const record = (bodyJson: string | null, extra: Partial<EventRecord> = {}): EventRecord => ({
  storeId: 'S1',
  epoch: 'aaaabbbbccccdddd',
  seq: 7,
  eventId: '01EVENT0000000007',
  type: 'sale',
  status: 'stored',
  reason: null,
  terminalId: 'T1',
  transactionId: 'exact-T1-7',
  businessDay: '2026-11-23',
  capturedAt: '2026-11-23T10:00:00.000Z',
  receivedAt: '2026-11-23T10:00:01.000Z',
  bodyJson,
  movedTo: null,
  ...extra,
});

describe('served JSON', () => {
  it('splices the exact text in as the body, byte for byte, and stays valid JSON', () => {
    const text = exactSaleText(7);
    const json = eventJson(record(text));
    expect(json.endsWith(`"body":${text}}`)).toBe(true);
    expect(json).toContain('12345678901234567891');
    expect(json).toContain('"2": "second", "1": "first"');
    expect(json).toContain(String.raw`Caf\u00e9 cr\u00e8me \/ HB\n\"2B\"`);
    const decoded = JSON.parse(json) as Record<string, unknown>;
    expect(decoded).toMatchObject({ seq: 7, status: 'stored', movedTo: null });
    expect(decoded.body).toEqual(JSON.parse(text));
    expect(decoded).not.toHaveProperty('bodyJson');
  });

  it('serves a moved row with a null body and where it went', () => {
    const moved = record(null, {
      status: 'moved',
      type: null,
      movedTo: { epoch: 'eeeeffff00001111', seq: 3 },
    });
    expect(JSON.parse(eventJson(moved))).toMatchObject({
      status: 'moved',
      body: null,
      movedTo: { epoch: 'eeeeffff00001111', seq: 3 },
    });
  });

  it('serves a rejected text that is not JSON as a JSON string', () => {
    const text = 'not json \u0000';
    expect(JSON.parse(eventJson(record(JSON.stringify(text), { status: 'rejected' }))).body).toBe(text);
  });

  it('builds lists and quarantine rows the same way', () => {
    const text = exactSaleText(1, 'T2');
    const list = withRawList({ storeId: 'S1', next: null }, 'events', [eventJson(record(text)), '{}']);
    expect(list.startsWith('{"storeId":"S1","next":null,"events":[{')).toBe(true);
    expect(list).toContain(`"body":${text}},{}]}`);
    expect(JSON.parse(withRawList({}, 'events', []))).toEqual({ events: [] });
    expect(withRawMember({}, 'x', '1')).toBe('{"x":1}');
    const q = quarantineJson({
      storeId: 'S1',
      epoch: 'aaaabbbbccccdddd',
      seq: 2,
      eventId: '01EVENT0000000002',
      reason: 'r',
      receivedAt: '2026-11-23T10:00:01.000Z',
      bodyJson: text,
      movedTo: null,
    });
    expect(q.endsWith(`"body":${text}}`)).toBe(true);
  });

  it('writes one export line per transaction: the text spliced in, its line breaks (whitespace between tokens) as spaces', () => {
    const text = exactSaleText(7);
    const line = exportLine(record(text));
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toBe(
      `{"storeId":"S1","epoch":"aaaabbbbccccdddd","seq":7,"eventId":"01EVENT0000000007","capturedAt":"2026-11-23T10:00:00.000Z","transaction":${text.replace(/[\r\n]/g, ' ')}}`,
    );
    // Everything but those line breaks is the POS's own text, escapes and digits included.
    expect(line).toContain(String.raw`"note": "\u00e9t\u00e9 \/ \ud83d\ude00"`);
    expect(line).toContain('"loyaltyCard": 12345678901234567891');
    expect((JSON.parse(line) as { transaction: unknown }).transaction).toEqual(JSON.parse(text));
  });
});
