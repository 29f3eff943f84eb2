import { SYNC_PROTOCOL_VERSION } from '../contracts/sync-messages.js';
import type { UnsentEvent } from './outbox.js';

export interface BatchLimits {
  maxEvents: number;
  maxBytes: number;
}

export interface BuiltBatch {
  payload: string;
  firstSeq: number;
  lastSeq: number;
  count: number;
}

/**
 * Serialises events into one `events` message, splicing each body in as the exact JSON text the POS
 * sent (it was parsed once on capture, so it is valid JSON) rather than re-encoding it. Stops before the
 * byte limit; a single event larger than the limit still travels alone, since it was accepted on capture.
 */
export function buildEventBatch(
  storeId: string,
  epoch: string,
  events: readonly UnsentEvent[],
  limits: BatchLimits,
): BuiltBatch | undefined {
  if (events.length === 0) return undefined;
  const head = `{"v":${SYNC_PROTOCOL_VERSION},"storeId":${JSON.stringify(storeId)},"epoch":${JSON.stringify(epoch)},"events":[`;
  const parts: string[] = [];
  let bytes = head.length + 2;
  for (const event of events) {
    if (parts.length >= limits.maxEvents) break;
    const part =
      `{"seq":${event.seq},"eventId":${JSON.stringify(event.eventId)},"type":${JSON.stringify(event.type)},` +
      `"capturedAt":"${new Date(event.capturedAt).toISOString()}","body":${event.body}}`;
    const size = Buffer.byteLength(part) + 1;
    if (parts.length > 0 && bytes + size > limits.maxBytes) break;
    parts.push(part);
    bytes += size;
  }
  const first = events[0]!;
  const last = events[parts.length - 1]!;
  return {
    payload: `${head}${parts.join(',')}]}`,
    firstSeq: first.seq,
    lastSeq: last.seq,
    count: parts.length,
  };
}
