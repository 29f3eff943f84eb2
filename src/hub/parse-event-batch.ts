import { dayCloseSchema as dayCloseContract, type DayClose } from '../contracts/day-close.js';
import {
  epochCloseSchema as epochCloseContract,
  eventBatchSchema as eventBatchContract,
  resendReportSchema as resendReportContract,
  SYNC_LIMITS,
  type EpochClose,
  type EventBatch,
  type ResendReport,
  type WithheldEvent,
} from '../contracts/sync-messages.js';
import {
  promotionAppliedBodySchema as promotionAppliedContract,
  promotionRefusedBodySchema as promotionRefusedContract,
} from '../contracts/promotion-sync.js';
import { textDigest } from '../lib/canonical-hash.js';
import { errorMessage } from '../lib/errors.js';
import { closeProblem } from './classify-close.js';
import { withheldDigest } from './classify-events.js';
import { compiledSchema, judgeTransaction } from './compiled-validation.js';
import type { IncomingEvent, RolloutFact, TallyFact } from './hub-store.js';

// The contract's schemas, compiled (compiled-validation.ts): the same rules, judged faster.
const eventBatchSchema = compiledSchema(eventBatchContract);
const epochCloseSchema = compiledSchema(epochCloseContract);
const resendReportSchema = compiledSchema(resendReportContract);
const dayCloseSchema = compiledSchema(dayCloseContract);
const promotionAppliedBodySchema = compiledSchema(promotionAppliedContract);
const promotionRefusedBodySchema = compiledSchema(promotionRefusedContract);

/**
 * One message of a store's events topic, judged: a batch of events (of `epoch`), a part of an epoch
 * close, the store's answer to a resend command, or refused whole.
 */
export type ParsedMessage =
  | { ok: true; kind: 'batch'; epoch: string; events: IncomingEvent[] }
  | { ok: true; kind: 'close'; close: EpochClose }
  | { ok: true; kind: 'resend'; report: ResendReport }
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
  tally?: TallyFact;
  dayClose?: DayClose;
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
      const tx = judgeTransaction(value);
      if (!tx.success) return { invalidReason: issueText('transaction', tx.error) };
      if (tx.data.type !== type)
        return { invalidReason: `event type ${type} does not match the transaction's type ${tx.data.type}` };
      return {
        tally: { type: tx.data.type, currency: tx.data.currency, amount: tx.data.totals?.total ?? 0 },
      };
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
    case 'day-close': {
      // The same schema the agent checks on capture, so head office refuses nothing the agent took. The
      // till's identity (terminalId against its token) only the agent can check; here the close is filed
      // under the terminal and day it names and compared with that till's transactions of that day.
      const close = dayCloseSchema.safeParse(value);
      if (!close.success) return { invalidReason: issueText('day close', close.error) };
      return { dayClose: close.data };
    }
  }
}

/**
 * An event the store withheld (it fits no message the broker or head office takes): refused, so its seq
 * is accounted for with the store's reason and the store dead-letters it on the answer. Filed under the
 * till and transaction the marker names. Its digest is fixed per eventId (withheldDigest), so a
 * redelivered marker matches, and the same event sent with its body at that seq is told from a conflict.
 */
function judgeWithheld(
  event: EventBatch['events'][number],
  withheld: WithheldEvent | undefined,
): IncomingEvent {
  const names = { terminalId: withheld?.terminalId, transactionId: withheld?.transactionId };
  return {
    seq: event.seq,
    eventId: event.eventId,
    type: event.type,
    capturedAt: event.capturedAt,
    terminalId: field(names, 'terminalId'),
    transactionId: field(names, 'transactionId'),
    businessDay: null,
    bodyText: 'null',
    bodyIsJson: true,
    bodyHash: withheldDigest(event.eventId),
    invalidReason: printable(`withheld by the store: ${withheld?.reason ?? 'no reason given'}`),
  };
}

/**
 * Judges one event's body: the exact text, which the hub keeps as it is. It is parsed only to be
 * validated (and to read the names it is filed under); the parsed value is never stored, because
 * re-serialising it would round a 20-digit loyalty number and reorder integer-like keys.
 */
function judgeEvent(event: EventBatch['events'][number]): IncomingEvent {
  if (event.body === undefined) return judgeWithheld(event, event.withheld);
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
  // Only the POS's transactions are filed under a transaction id; a till's close is filed under its
  // terminal and business day too, so a day's closes (its history) are found beside its sales.
  const isTransaction = event.type === 'sale' || event.type === 'return' || event.type === 'void';
  const isFiled = isTransaction || event.type === 'day-close';
  const valid = judged.invalidReason === undefined;
  return {
    seq: event.seq,
    eventId: event.eventId,
    type: event.type,
    capturedAt: event.capturedAt,
    terminalId: isFiled ? field(value, 'terminalId') : null,
    transactionId: isTransaction ? field(value, 'transactionId') : null,
    businessDay: isFiled ? field(value, 'businessDay') : null,
    bodyText: text,
    bodyIsJson,
    // Over the exact text: a redelivery carries the very same text, so the same digest.
    bodyHash: textDigest(text),
    invalidReason: judged.invalidReason,
    ...(judged.rollout && valid ? { rollout: judged.rollout } : {}),
    ...(judged.tally && valid ? { tally: judged.tally } : {}),
    ...(judged.dayClose && valid ? { dayClose: judged.dayClose } : {}),
  };
}

/**
 * An event at a seq head office already held when it arrived: its text's digest decides whether it is
 * the same event again (the usual case: a store publishing what it had no answer for yet), so its body is
 * neither parsed nor validated unless it turns out to need writing (IncomingEvent.unjudged). Validation
 * happens once per body, when it is first stored.
 */
function digestOnly(event: EventBatch['events'][number], text: string): IncomingEvent {
  return {
    seq: event.seq,
    eventId: event.eventId,
    type: event.type,
    capturedAt: event.capturedAt,
    terminalId: null,
    transactionId: null,
    businessDay: null,
    bodyText: text,
    bodyIsJson: false,
    bodyHash: textDigest(text),
    invalidReason: undefined,
    unjudged: true,
  };
}

/** What ingest knew of a store's epoch when a message arrived: every seq up to `through` is held. */
export interface HeldThrough {
  epoch: string;
  through: number;
}

/**
 * Turns one MQTT message of a store's events topic into what the store can act on. The envelope must be
 * sound (else the whole message is refused with a reason); each body of a batch is then validated on its
 * own with the same schema the agent used, so one invalid event is rejected alone and the rest are stored.
 * An event at a seq within `held` (what the hub committed of that epoch) is only digested (digestOnly).
 */
export function parseStoreMessage(
  topicStoreId: string | undefined,
  payload: Buffer,
  held?: HeldThrough,
): ParsedMessage {
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
  // The kinds are told apart by `close` and `resend` (storeMessageSchema); checking against the one meant
  // gives the publisher the field at fault rather than "matches neither".
  const kind =
    typeof json === 'object' && json !== null
      ? 'close' in json
        ? 'close'
        : 'resend' in json
          ? 'resend'
          : 'batch'
      : 'batch';
  const schema = { close: epochCloseSchema, resend: resendReportSchema, batch: eventBatchSchema }[kind];
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const what = { close: 'an epoch close', resend: 'a resend report', batch: 'an events message' }[kind];
    return {
      ok: false,
      reason: printable(`not ${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}`),
    };
  }
  const message = parsed.data;
  if (topicStoreId !== message.storeId) {
    return {
      ok: false,
      reason: `store ${message.storeId} published on the topic of store ${topicStoreId ?? '(none)'}`,
    };
  }
  if ('resend' in message) {
    const { requestId } = message.resend;
    // The request id goes into the database and logs: no control characters into PostgreSQL.
    return {
      ok: true,
      kind: 'resend',
      report: { ...message, resend: { ...message.resend, requestId: printable(requestId) } },
    };
  }
  if ('close' in message) {
    const problem = closeProblem(message.epoch, message.close);
    if (problem) return { ok: false, reason: `unusable epoch close: ${problem}` };
    // The reason is the agent's words, kept on every moved row: no control characters into PostgreSQL.
    const close = { ...message.close, reason: printable(message.close.reason) };
    return { ok: true, kind: 'close', close: { ...message, close } };
  }
  const heldSeqs = held?.epoch === message.epoch ? held.through : 0;
  return {
    ok: true,
    kind: 'batch',
    epoch: message.epoch,
    events: message.events.map((e) =>
      e.seq <= heldSeqs && e.body !== undefined ? digestOnly(e, e.body) : judgeEvent(e),
    ),
  };
}
