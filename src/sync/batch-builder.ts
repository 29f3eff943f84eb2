import type { EpochClose, EpochMove, StoreEventType, WithheldEvent } from '../contracts/sync-messages.js';
// Not from sync-messages.js: that would load zod into the delivery thread (sync-protocol.ts).
import { SYNC_LIMITS, SYNC_PROTOCOL_VERSION } from '../contracts/sync-protocol.js';

/** An event as the sync engine publishes it: a POS transaction or one of the store's own records. */
export interface UnsentEvent {
  seq: number;
  eventId: string;
  type: StoreEventType;
  capturedAt: number;
  /** The exact text the POS sent; null while the event is withheld. */
  body: string | null;
  /**
   * Why the store withholds the event (it fits no message the broker or head office takes): it travels
   * as a marker without its body, and head office keeps its seq as refused. Null for an event sent whole.
   */
  withheld?: string | null;
  /** The till and transaction a withheld event's marker names. */
  terminalId?: string | null;
  transactionId?: string | null;
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
  /**
   * The message as UTF-8, at the start of memory of its own (its ArrayBuffer holds nothing else, and may
   * be larger), so a worker thread can hand it over without a copy (PayloadMemory).
   */
  payload: Buffer;
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

/** A name a withheld event's marker may carry (the hub leaves out one it cannot use). */
const markerName = (name: string | null | undefined) => (name && name.length <= 128 ? name : undefined);

/** One event of an `events` message: with its exact text, or as the marker of a withheld event. */
function eventPart(event: UnsentEvent): string {
  const head =
    `{"seq":${event.seq},"eventId":${JSON.stringify(event.eventId)},"type":${JSON.stringify(event.type)},` +
    `"capturedAt":"${new Date(event.capturedAt).toISOString()}"`;
  if (event.withheld == null && event.body !== null) return `${head},"body":${JSON.stringify(event.body)}}`;
  const terminalId = markerName(event.terminalId);
  const transactionId = markerName(event.transactionId);
  const marker: WithheldEvent = {
    reason: (event.withheld ?? 'withheld by the store').slice(0, 1000),
    ...(terminalId ? { terminalId } : {}),
    ...(transactionId ? { transactionId } : {}),
  };
  return `${head},"withheld":${JSON.stringify(marker)}}`;
}

/**
 * The memory `events` messages are written into, event by event, and sent in. Each message is written
 * straight into a buffer of its own and handed over as it is: writing each event's text as it comes
 * leaves it garbage at once (holding a batch's events as strings until the end, then joining and encoding
 * them, kept megabytes alive across collections on every batch). A buffer handed back once its message
 * was published (giveBack) is written over by a later message, so a backlog drains through the same few
 * buffers: a fresh one per batch was freed only when a garbage collection found its last reference, and
 * the dead ones reached 17 MB during a drain (`npm run bench:memory`). Memory outside the JavaScript
 * heap: up to `maxSpare` buffers of about a megabyte stay after a backlog.
 */
export class PayloadMemory {
  private readonly spare: ArrayBuffer[] = [];

  /** @param maxSpare buffers kept for reuse, at most: more than go round while publishing goes on. */
  constructor(private readonly maxSpare = 4) {}

  /**
   * A buffer of at least `size` bytes over memory of its own (nothing else in it, offset 0): the largest
   * spare one, since a message's final size is known only once it is written.
   */
  take(size: number): Buffer {
    const largest = this.spare.at(-1);
    if (largest && largest.byteLength >= size) return Buffer.from(this.spare.pop()!);
    return Buffer.allocUnsafeSlow(Math.max(size, MIN_PAYLOAD_BYTES));
  }

  /** A larger buffer holding the first `keep` bytes of `buffer`, whose memory becomes spare. */
  grow(buffer: Buffer, size: number, keep: number): Buffer {
    const grown = this.take(Math.max(size, buffer.length * 2));
    buffer.copy(grown, 0, 0, keep);
    this.giveBack(buffer.buffer as ArrayBuffer);
    return grown;
  }

  /** Memory no message uses any more (published, or never sent), for a later message; the smallest goes first. */
  giveBack(memory: ArrayBuffer): void {
    if (memory.byteLength < MIN_PAYLOAD_BYTES) return;
    this.spare.push(memory);
    this.spare.sort((a, b) => a.byteLength - b.byteLength);
    if (this.spare.length > this.maxSpare) this.spare.shift();
  }
}

/** The smallest buffer a message is written into: a live sale or two fit, a backlog batch grows it. */
const MIN_PAYLOAD_BYTES = 64 * 1024;

/**
 * Serialises events into one `events` message. Each body travels as a JSON string holding the text the
 * POS sent (docs/protocol.md): decoding it at the hub gives back the very same characters. Packs events
 * up to the byte limit; a single event larger than that still travels alone if it fits in a message at
 * all, and is reported as too large when it does not. Reads `events` no further than the message fills
 * (a database cursor stops there).
 */
export function buildEventBatch(
  storeId: string,
  epoch: string,
  events: Iterable<UnsentEvent>,
  limits: MessageLimits,
  memory: PayloadMemory = new PayloadMemory(),
): BuiltBatch | TooLargeEvent | undefined {
  const head = envelopeHead(storeId, epoch);
  let out = memory.take(Buffer.byteLength(head));
  let at = out.write(head, 0);
  // The closing `]}` counts from the start.
  const tail = 2;
  let count = 0;
  let first: UnsentEvent | undefined;
  let last: UnsentEvent | undefined;
  for (const event of events) {
    if (count >= limits.maxEvents) break;
    const part = eventPart(event);
    const size = Buffer.byteLength(part) + (count > 0 ? 1 : 0);
    if (count === 0 && at + tail + size > limits.maxMessageBytes) {
      memory.giveBack(out.buffer as ArrayBuffer);
      return {
        kind: 'too-large',
        seq: event.seq,
        eventId: event.eventId,
        bytes: at + tail + size,
        limit: limits.maxMessageBytes,
      };
    }
    if (count > 0 && at + tail + size > Math.min(limits.maxBytes, limits.maxMessageBytes)) break;
    if (at + size + tail > out.length) out = memory.grow(out, at + size + tail, at);
    if (count > 0) at += out.write(',', at);
    at += out.write(part, at);
    count += 1;
    first ??= event;
    last = event;
  }
  if (!first || !last) {
    memory.giveBack(out.buffer as ArrayBuffer);
    return undefined;
  }
  at += out.write(']}', at);
  // The message's own memory, which may be larger than the message: the payload views its first bytes.
  const payload = out.subarray(0, at);
  return {
    kind: 'batch',
    payload,
    firstSeq: first.seq,
    lastSeq: last.seq,
    lastEventId: last.eventId,
    count,
    bytes: at,
  };
}

/**
 * Moves per part of an epoch close this agent publishes: about 20 KB of message, so a close passes any
 * broker (AWS IoT takes 128 KB), far below head office's limit (SYNC_LIMITS.maxMovesPerClose). The one
 * place the parts are cut: counted when the epoch is closed, read back part by part when published.
 */
export const MOVES_PER_CLOSE_PART = Math.min(300, SYNC_LIMITS.maxMovesPerClose);

/** How many parts a close with this many moves has (one, empty, when nothing moved). */
export const closePartCount = (moves: number) => Math.max(1, Math.ceil(moves / MOVES_PER_CLOSE_PART));

/** Which of the close's moves (in seq order) a part carries. */
export const closePartMoves = (part: number) => ({
  limit: MOVES_PER_CLOSE_PART,
  offset: (part - 1) * MOVES_PER_CLOSE_PART,
});

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
