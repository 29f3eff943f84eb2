import type { DayClose } from '../contracts/day-close.js';
import type { IncomingEvent, RolloutFact } from './hub-store.js';
import type { ParsedMessage } from './parse-event-batch.js';

/**
 * A parsed message as it crosses from the parse worker to the hub's main thread. postMessage copies
 * what it sends (structured clone), and 500 objects of a dozen fields each cost several times what the
 * same values cost as a dozen arrays: a batch's events travel in columns and are made objects again on
 * the other side. The rare per-event facts (a promotion record's rollout, a till's close) travel by index.
 */
export type TransferredMessage =
  | Exclude<ParsedMessage, { kind: 'batch' }>
  | { ok: true; kind: 'batch'; epoch: string; columns: EventColumns };

interface EventColumns {
  seq: number[];
  eventId: string[];
  type: string[];
  capturedAt: string[];
  terminalId: (string | null)[];
  transactionId: (string | null)[];
  businessDay: (string | null)[];
  bodyText: string[];
  bodyIsJson: boolean[];
  bodyHash: string[];
  invalidReason: (string | null)[];
  tallyType: (string | null)[];
  tallyCurrency: (string | null)[];
  tallyAmount: number[];
  rollout: [number, RolloutFact][];
  dayClose: [number, DayClose][];
  /** Indexes of events only digested (IncomingEvent.unjudged). */
  unjudged: number[];
}

export function toTransfer(parsed: ParsedMessage): TransferredMessage {
  if (!parsed.ok || parsed.kind !== 'batch') return parsed;
  const { events } = parsed;
  const columns: EventColumns = {
    seq: events.map((e) => e.seq),
    eventId: events.map((e) => e.eventId),
    type: events.map((e) => e.type),
    capturedAt: events.map((e) => e.capturedAt),
    terminalId: events.map((e) => e.terminalId),
    transactionId: events.map((e) => e.transactionId),
    businessDay: events.map((e) => e.businessDay),
    bodyText: events.map((e) => e.bodyText),
    bodyIsJson: events.map((e) => e.bodyIsJson),
    bodyHash: events.map((e) => e.bodyHash),
    invalidReason: events.map((e) => e.invalidReason ?? null),
    tallyType: events.map((e) => e.tally?.type ?? null),
    tallyCurrency: events.map((e) => e.tally?.currency ?? null),
    tallyAmount: events.map((e) => e.tally?.amount ?? 0),
    rollout: events.flatMap((e, i) => (e.rollout ? [[i, e.rollout] as [number, RolloutFact]] : [])),
    dayClose: events.flatMap((e, i) => (e.dayClose ? [[i, e.dayClose] as [number, DayClose]] : [])),
    unjudged: events.flatMap((e, i) => (e.unjudged ? [i] : [])),
  };
  return { ok: true, kind: 'batch', epoch: parsed.epoch, columns };
}

export function fromTransfer(message: TransferredMessage): ParsedMessage {
  if (!message.ok || message.kind !== 'batch') return message;
  const c = message.columns;
  const rollout = new Map(c.rollout);
  const dayClose = new Map(c.dayClose);
  const unjudged = new Set(c.unjudged);
  const events = c.seq.map((seq, i): IncomingEvent => {
    const event: IncomingEvent = {
      seq,
      eventId: c.eventId[i]!,
      type: c.type[i]!,
      capturedAt: c.capturedAt[i]!,
      terminalId: c.terminalId[i]!,
      transactionId: c.transactionId[i]!,
      businessDay: c.businessDay[i]!,
      bodyText: c.bodyText[i]!,
      bodyIsJson: c.bodyIsJson[i]!,
      bodyHash: c.bodyHash[i]!,
      invalidReason: c.invalidReason[i] ?? undefined,
    };
    const tallyType = c.tallyType[i];
    if (tallyType)
      event.tally = {
        type: tallyType as NonNullable<IncomingEvent['tally']>['type'],
        currency: c.tallyCurrency[i]!,
        amount: c.tallyAmount[i]!,
      };
    const fact = rollout.get(i);
    if (fact) event.rollout = fact;
    const close = dayClose.get(i);
    if (close) event.dayClose = close;
    if (unjudged.has(i)) event.unjudged = true;
    return event;
  });
  return { ok: true, kind: 'batch', epoch: message.epoch, events };
}
