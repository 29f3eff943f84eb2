import type { IConnackPacket, IDisconnectPacket, MqttClient } from 'mqtt';
import { SYNC_LIMITS } from '../contracts/sync-messages.js';
import type { CloseKey, InFlight } from './ack-rules.js';
import type { BatchLimits, MessageLimits, TooLargeEvent } from './batch-builder.js';

/** MQTT 5 reason code 0x95, "Packet too large": on a PUBACK, or on the DISCONNECT of a broker that drops the link. */
export const PACKET_TOO_LARGE = 0x95;

/** A PUBLISH packet beyond its payload: fixed header (≤ 5), topic length (2), packet id (2), MQTT 5 properties (1), margin. */
const publishOverhead = (topic: string) => Buffer.byteLength(topic) + 16;

/**
 * What to do when the broker refused a message as too large (MQTT 5 reason 0x95) without saying which
 * one (it disconnects): the largest message it had not yet confirmed. Any message over the broker's limit
 * is refused, and none under it is, so the largest unconfirmed one is always over the limit.
 * A batch of several events is split (publish again with at most half its size); a single event, or a
 * close part, can never be sent to this broker.
 */
export type SizeRefusal =
  | { action: 'split'; maxBytes: number }
  | { action: 'undeliverable'; message: InFlight }
  | { action: 'unknown' };

export function decideSizeRefusal(window: readonly InFlight[], refused?: InFlight): SizeRefusal {
  const suspect =
    refused ??
    window
      .filter((f) => !f.brokerAccepted)
      .reduce<InFlight | undefined>((l, f) => (!l || f.bytes > l.bytes ? f : l), undefined);
  if (!suspect) return { action: 'unknown' };
  if (suspect.kind === 'batch' && suspect.count > 1)
    return { action: 'split', maxBytes: Math.floor(suspect.bytes / 2) };
  return { action: 'undeliverable', message: suspect };
}

/** Why an event that fits no message is withheld, in words a technician can act on. */
export function tooLargeReason(event: TooLargeEvent): string {
  return event.limit < SYNC_LIMITS.maxBatchBytes
    ? `too large to send: ${event.bytes} bytes as a message, and the broker accepts at most ${event.limit} bytes ` +
        '(its maximum packet size). Raise that limit on the broker, then retry it.'
    : `too large to send: ${event.bytes} bytes as a message, and head office accepts at most ` +
        `${SYNC_LIMITS.maxBatchBytes} bytes per message. It cannot be sent: pass the sale on by other means, then discard it.`;
}

/** Why an event the broker refused for its size is withheld. */
export const refusedAsTooLargeReason = (bytes: number) =>
  `the broker refused it as too large (MQTT reason 0x95, packet too large): ${bytes} bytes as a message. ` +
  'Raise the broker’s message size limit, then retry it.';

const closeKeyOf = (close: CloseKey) => `${close.epoch}/${close.nextEpoch}/${close.part}`;

/**
 * How large the messages this agent publishes may be: head office's limit, the broker's Maximum Packet
 * Size (MQTT 5 CONNACK) on the current connection, and a packing limit lowered when a broker refuses a
 * multi-event batch without announcing its limit. Close parts the broker cannot take are remembered for
 * the connection (reported once, not retried in a loop); a new connection may reach a broker with a
 * higher limit, so they are tried again then.
 */
export class MessageSizePolicy {
  private brokerMaxPacket: number | undefined;
  private packLimit: number;
  private readonly unsendableCloses = new Set<string>();
  private readonly overhead: number;

  constructor(
    private readonly batch: BatchLimits,
    eventsTopic: string,
  ) {
    this.packLimit = batch.maxBytes;
    this.overhead = publishOverhead(eventsTopic);
  }

  /**
   * Reads the broker's announced limit on each fresh client, and calls `onDropped` when the broker drops
   * the link over a message too large (DISCONNECT 0x95), without saying which.
   */
  watch(client: MqttClient, onDropped: () => void): void {
    this.brokerMaxPacket = undefined;
    client.on('connect', (connack: IConnackPacket) => {
      this.brokerMaxPacket = connack.properties?.maximumPacketSize;
      this.unsendableCloses.clear();
    });
    client.on('disconnect', (packet: IDisconnectPacket) => {
      if (packet.reasonCode === PACKET_TOO_LARGE) onDropped();
    });
  }

  limits(): MessageLimits {
    return {
      maxEvents: this.batch.maxEvents,
      maxBytes: Math.min(this.batch.maxBytes, this.packLimit),
      maxMessageBytes: Math.min(
        SYNC_LIMITS.maxBatchBytes,
        this.brokerMaxPacket === undefined ? Infinity : this.brokerMaxPacket - this.overhead,
      ),
    };
  }

  /**
   * Whether a close part may be published on this connection. A part larger than the broker announced
   * it takes is remembered as unsendable, and `report` is called with that limit the first time.
   */
  admitsClose(close: CloseKey & { bytes: number }, report: (limit: number) => void): boolean {
    if (this.unsendableCloses.has(closeKeyOf(close))) return false;
    const limit = this.limits().maxMessageBytes;
    if (close.bytes <= limit) return true;
    this.unsendableCloses.add(closeKeyOf(close));
    report(limit);
    return false;
  }

  /**
   * The broker refused `refused` (a PUBACK 0x95), or dropped the link over one of `window`: lowers the
   * packing limit for a split, remembers a close part as unsendable, and says what was decided.
   */
  refused(window: readonly InFlight[], refused?: InFlight): SizeRefusal {
    const decision = decideSizeRefusal(window, refused);
    if (decision.action === 'split')
      this.packLimit = Math.min(this.packLimit, Math.max(1, decision.maxBytes));
    if (decision.action === 'undeliverable' && decision.message.kind === 'close')
      this.unsendableCloses.add(closeKeyOf(decision.message));
    return decision;
  }

  /** The packing limit after splits (for the log). */
  get packedBytes(): number {
    return this.packLimit;
  }
}
