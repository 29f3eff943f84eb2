import type { EventRecord, QuarantineRecord } from './hub-store.js';

/**
 * JSON output that carries stored bodies. A body is the POS's exact text: parsing it and serialising
 * the result again would round a 20-digit loyalty number and reorder integer-like keys, so everything
 * around it is built with JSON.stringify and the stored text is inserted as it is. What the store keeps
 * in the body column is always JSON (the exact text, or for a rejected non-JSON text a JSON string of
 * it; see storedBodyOf), so splicing it yields valid JSON.
 */

/** `{...fields, [name]: <json>}`: JSON.stringify of `fields` with `json` spliced in as its last member. */
export function withRawMember(fields: Record<string, unknown>, name: string, json: string | null): string {
  const head = JSON.stringify(fields);
  return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}${JSON.stringify(name)}:${json ?? 'null'}}`;
}

/** One event row as the operator API serves it: `body` is the stored text, null for a moved row. */
export function eventJson(record: EventRecord): string {
  const { bodyJson, ...fields } = record;
  return withRawMember(fields, 'body', bodyJson);
}

export function quarantineJson(record: QuarantineRecord): string {
  const { bodyJson, ...fields } = record;
  return withRawMember(fields, 'body', bodyJson);
}

/** `{...fields, [name]: [items]}` with each item already JSON. */
export function withRawList(fields: Record<string, unknown>, name: string, items: readonly string[]): string {
  return withRawMember(fields, name, `[${items.join(',')}]`);
}

/**
 * One line of `outpost hub export` (JSON Lines): the transaction's exact text spliced in. A line cannot
 * hold a line break, and in JSON text a raw CR or LF can only be whitespace between tokens (inside a
 * string it is always escaped): those, and only those, become spaces. Every value, every number's
 * digits, every key's place and every escape stay as the POS sent them.
 */
export function exportLine(record: EventRecord): string {
  const text = (record.bodyJson ?? 'null').replace(/[\r\n]/g, ' ');
  return withRawMember(
    {
      storeId: record.storeId,
      epoch: record.epoch,
      seq: record.seq,
      eventId: record.eventId,
      capturedAt: record.capturedAt,
    },
    'transaction',
    text,
  );
}
