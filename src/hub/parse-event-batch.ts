import { eventBatchSchema, SYNC_LIMITS, type EventBatch } from '../contracts/sync-messages.js';
import { transactionSchema } from '../contracts/transaction.js';
import { textDigest } from '../lib/canonical-hash.js';
import type { IncomingEvent } from './hub-store.js';

export type ParsedBatch =
  { ok: true; batch: EventBatch; events: IncomingEvent[] } | { ok: false; reason: string };

/**
 * A naming field read from a body that may be invalid: only a plain printable string is taken, since a
 * control character (NUL in particular) would make PostgreSQL refuse the whole batch on every redelivery.
 */
const field = (body: unknown, name: string): string | null => {
  if (typeof body !== 'object' || body === null) return null;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' &&
    value.length > 0 &&
    value.length <= 128 &&
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
    !/[\u0000-\u001f\u007f]/.test(value)
    ? value
    : null;
};

/** A reason may quote the offending input; control characters (NUL above all) cannot go into PostgreSQL text. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this replaces
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, '\uFFFD');

/**
 * Turns one MQTT `events` message into events the store can judge. The envelope must be sound (else the
 * whole message is refused with a reason); each body is then validated on its own with the same schema
 * the agent used, so one invalid event is rejected alone and the rest are stored.
 */
export function parseEventBatch(topicStoreId: string | undefined, payload: Buffer): ParsedBatch {
  if (payload.length > SYNC_LIMITS.maxBatchBytes) {
    return {
      ok: false,
      reason: `message of ${payload.length} bytes exceeds the ${SYNC_LIMITS.maxBatchBytes}-byte limit`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = eventBatchSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false,
      reason: `not an events message: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    };
  }
  const batch = parsed.data;
  if (topicStoreId !== batch.storeId) {
    return {
      ok: false,
      reason: `store ${batch.storeId} published on the topic of store ${topicStoreId ?? '(none)'}`,
    };
  }
  const events = batch.events.map((event): IncomingEvent => {
    const tx = transactionSchema.safeParse(event.body);
    let invalidReason: string | undefined;
    if (!tx.success) {
      const issue = tx.error.issues[0]!;
      invalidReason = printable(`invalid transaction: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    } else if (tx.data.type !== event.type) {
      invalidReason = `event type ${event.type} does not match the transaction's type ${tx.data.type}`;
    }
    const bodyText = JSON.stringify(event.body) ?? 'null';
    return {
      seq: event.seq,
      eventId: event.eventId,
      type: event.type,
      capturedAt: event.capturedAt,
      terminalId: field(event.body, 'terminalId'),
      transactionId: field(event.body, 'transactionId'),
      businessDay: field(event.body, 'businessDay'),
      bodyText,
      // The agent sends each event's stored text unchanged, so a redelivery re-serialises to the same text.
      bodyHash: textDigest(bodyText),
      invalidReason,
    };
  });
  return { ok: true, batch, events };
}
