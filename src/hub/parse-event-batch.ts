import {
  epochCloseSchema,
  eventBatchSchema,
  SYNC_LIMITS,
  type EpochClose,
  type EventBatch,
} from '../contracts/sync-messages.js';
import { promotionAppliedBodySchema, promotionRefusedBodySchema } from '../contracts/promotion-sync.js';
import { transactionSchema } from '../contracts/transaction.js';
import { textDigest } from '../lib/canonical-hash.js';
import { errorMessage } from '../lib/errors.js';
import { closeProblem } from './classify-close.js';
import type { IncomingEvent, RolloutFact } from './hub-store.js';

/** One message of a store's events topic, judged: a batch of events, a part of an epoch close, or refused whole. */
export type ParsedMessage =
  | { ok: true; kind: 'batch'; batch: EventBatch; events: IncomingEvent[] }
  | { ok: true; kind: 'close'; close: EpochClose }
  | { ok: false; reason: string };

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

/** A UTF-16 surrogate without its partner: no UTF-8 text decodes to one, so no POS sent it. */
const LONE_SURROGATE = /\p{Surrogate}/u;

type EventType = EventBatch['events'][number]['type'];

/** What a valid body of one event type yields: the names a transaction is filed under, or a rollout fact. */
interface Judged {
  invalidReason?: string;
  rollout?: RolloutFact;
}

const issueText = (what: string, error: { issues: { path: PropertyKey[]; message: string }[] }) => {
  const issue = error.issues[0]!;
  return printable(`invalid ${what}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
};

/**
 * Validates a parsed body with the schema of its event type: the POS's transactions, and the store's
 * own records of what it did with each promotion version it received (its proof of rollout).
 */
function judgeBody(type: EventType, value: unknown): Judged {
  switch (type) {
    case 'sale':
    case 'return':
    case 'void': {
      const tx = transactionSchema.safeParse(value);
      if (!tx.success) return { invalidReason: issueText('transaction', tx.error) };
      if (tx.data.type !== type)
        return { invalidReason: `event type ${type} does not match the transaction's type ${tx.data.type}` };
      return {};
    }
    case 'promotion-applied': {
      const body = promotionAppliedBodySchema.safeParse(value);
      if (!body.success) return { invalidReason: issueText('promotion-applied record', body.error) };
      const b = body.data;
      return {
        rollout: {
          promotionId: b.promotionId,
          version: b.version,
          outcome: 'applied',
          change: b.change,
          previousVersion: b.previousVersion ?? null,
          reason: null,
          message: null,
          digest: b.digest,
          keyId: b.keyId,
          at: b.appliedAt,
        },
      };
    }
    case 'promotion-refused': {
      const body = promotionRefusedBodySchema.safeParse(value);
      if (!body.success) return { invalidReason: issueText('promotion-refused record', body.error) };
      const b = body.data;
      // Stored as it came (the event body), but unattributable to a version: no rollout row.
      if (b.promotionId === null || b.version === null) return {};
      return {
        rollout: {
          promotionId: b.promotionId,
          version: b.version,
          outcome: 'refused',
          change: null,
          previousVersion: null,
          reason: b.reason,
          // The store's words, and a key id it read from an unverified message: no control characters
          // into PostgreSQL, where a NUL would fail this store's batch on every redelivery.
          message: printable(b.message),
          digest: b.digest,
          keyId: b.keyId === null ? null : printable(b.keyId),
          at: b.refusedAt,
        },
      };
    }
    case 'day-close':
      return {
        invalidReason:
          'event type day-close is not accepted by this hub yet: it is held as rejected and the store dead-letters it; ' +
          'retry it from the store once head office runs a hub that takes day closes',
      };
  }
}

/**
 * Judges one event's body: the exact text, which the hub keeps as it is. It is parsed only to be
 * validated (and to read the names it is filed under); the parsed value is never stored, because
 * re-serialising it would round a 20-digit loyalty number and reorder integer-like keys.
 */
function judgeEvent(event: EventBatch['events'][number]): IncomingEvent {
  const text = event.body;
  let value: unknown;
  let bodyIsJson = false;
  let judged: Judged = {};
  if (LONE_SURROGATE.test(text)) {
    judged = { invalidReason: 'body is not well-formed text: it holds a lone UTF-16 surrogate' };
  } else {
    try {
      value = JSON.parse(text);
      bodyIsJson = true;
    } catch (error) {
      judged = { invalidReason: printable(`body is not JSON: ${errorMessage(error)}`) };
    }
  }
  if (bodyIsJson) judged = judgeBody(event.type, value);
  // Only the POS's transactions are filed under a terminal, a transaction and a business day.
  const isTransaction = event.type === 'sale' || event.type === 'return' || event.type === 'void';
  return {
    seq: event.seq,
    eventId: event.eventId,
    type: event.type,
    capturedAt: event.capturedAt,
    terminalId: isTransaction ? field(value, 'terminalId') : null,
    transactionId: isTransaction ? field(value, 'transactionId') : null,
    businessDay: isTransaction ? field(value, 'businessDay') : null,
    bodyText: text,
    bodyIsJson,
    // Over the exact text: a redelivery carries the very same text, so the same digest.
    bodyHash: textDigest(text),
    invalidReason: judged.invalidReason,
    ...(judged.rollout && judged.invalidReason === undefined ? { rollout: judged.rollout } : {}),
  };
}

/**
 * Turns one MQTT message of a store's events topic into what the store can act on. The envelope must be
 * sound (else the whole message is refused with a reason); each body of a batch is then validated on its
 * own with the same schema the agent used, so one invalid event is rejected alone and the rest are stored.
 */
export function parseStoreMessage(topicStoreId: string | undefined, payload: Buffer): ParsedMessage {
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
    return { ok: false, reason: `not JSON: ${errorMessage(error)}` };
  }
  // The two kinds are told apart by `close` (storeMessageSchema); checking against the one meant gives
  // the publisher the field at fault rather than "matches neither".
  const isClose = typeof json === 'object' && json !== null && 'close' in json;
  const parsed = (isClose ? epochCloseSchema : eventBatchSchema).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false,
      reason: printable(
        `not ${isClose ? 'an epoch close' : 'an events message'}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    };
  }
  const message = parsed.data;
  if (topicStoreId !== message.storeId) {
    return {
      ok: false,
      reason: `store ${message.storeId} published on the topic of store ${topicStoreId ?? '(none)'}`,
    };
  }
  if ('close' in message) {
    const problem = closeProblem(message.epoch, message.close);
    if (problem) return { ok: false, reason: `unusable epoch close: ${problem}` };
    // The reason is the agent's words, kept on every moved row: no control characters into PostgreSQL.
    const close = { ...message.close, reason: printable(message.close.reason) };
    return { ok: true, kind: 'close', close: { ...message, close } };
  }
  return { ok: true, kind: 'batch', batch: message, events: message.events.map(judgeEvent) };
}
