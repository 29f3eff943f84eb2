import { SYNC_PROTOCOL_VERSION, type EpochClose, type EpochMove } from '../contracts/sync-messages.js';
import type { TransactionType } from '../contracts/transaction.js';

/** An event as the sync engine publishes it. */
export interface UnsentEvent {
  seq: number;
  eventId: string;
  type: TransactionType;
  capturedAt: number;
  body: string;
}

export interface BatchLimits {
  maxEvents: number;
  /** Batches are packed up to this size; a single larger event still travels alone, up to maxMessageBytes. */
  maxBytes: number;
}

export interface MessageLimits extends BatchLimits {
  /**
   * The largest message that can be delivered at all: head office's limit, or less when the broker's
   * Maximum Packet Size says so. An event that does not fit alone can never be delivered.
   */
  maxMessageBytes: number;
}

export interface BuiltBatch {
  kind: 'batch';
  payload: string;
  firstSeq: number;
  lastSeq: number;
  lastEventId: string;
  count: number;
  /** UTF-8 size of the payload. */
  bytes: number;
}

/** The first unsent event cannot be delivered in any message: it becomes a dead letter. */
export interface TooLargeEvent {
  kind: 'too-large';
  seq: number;
  eventId: string;
  bytes: number;
  limit: number;
}

const envelopeHead = (storeId: string, epoch: string) =>
  `{"v":${SYNC_PROTOCOL_VERSION},"storeId":${JSON.stringify(storeId)},"epoch":${JSON.stringify(epoch)},"events":[`;

/**
 * Serialises events into one `events` message. Each body travels as a JSON string holding the text the
 * POS sent (docs/protocol.md): decoding it at the hub gives back the very same characters. Packs events
 * up to the byte limit; a single event larger than that still travels alone if it fits in a message at
 * all, and is reported as too large when it does not.
 */
export function buildEventBatch(
  storeId: string,
  epoch: string,
  events: readonly UnsentEvent[],
  limits: MessageLimits,
): BuiltBatch | TooLargeEvent | undefined {
  if (events.length === 0) return undefined;
  const head = envelopeHead(storeId, epoch);
  const parts: string[] = [];
  let bytes = Buffer.byteLength(head) + 2;
  for (const event of events) {
    if (parts.length >= limits.maxEvents) break;
    const part =
      `{"seq":${event.seq},"eventId":${JSON.stringify(event.eventId)},"type":${JSON.stringify(event.type)},` +
      `"capturedAt":"${new Date(event.capturedAt).toISOString()}","body":${JSON.stringify(event.body)}}`;
    const size = Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0);
    if (parts.length === 0 && bytes + size > limits.maxMessageBytes) {
      return {
        kind: 'too-large',
        seq: event.seq,
        eventId: event.eventId,
        bytes: bytes + size,
        limit: limits.maxMessageBytes,
      };
    }
    if (parts.length > 0 && bytes + size > Math.min(limits.maxBytes, limits.maxMessageBytes)) break;
    parts.push(part);
    bytes += size;
  }
  const last = events[parts.length - 1]!;
  return {
    kind: 'batch',
    payload: `${head}${parts.join(',')}]}`,
    firstSeq: events[0]!.seq,
    lastSeq: last.seq,
    lastEventId: last.eventId,
    count: parts.length,
    bytes,
  };
}

/** One part of an epoch close, as published (epochCloseSchema). */
export function buildEpochClose(
  storeId: string,
  close: {
    epoch: string;
    lastSeq: number;
    nextEpoch: string;
    reason: string;
    part: number;
    parts: number;
    moved: EpochMove[];
  },
): string {
  const message: EpochClose = {
    v: SYNC_PROTOCOL_VERSION,
    storeId,
    epoch: close.epoch,
    close: {
      lastSeq: close.lastSeq,
      nextEpoch: close.nextEpoch,
      reason: close.reason.slice(0, 1000),
      part: close.part,
      parts: close.parts,
      moved: close.moved,
    },
  };
  return JSON.stringify(message);
}
