import { performance } from 'node:perf_hooks';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { eventBatchSchema, SYNC_LIMITS } from '../../src/contracts/sync-messages.js';
import {
  DEFAULT_SYNC_TUNING,
  DeliveryDatabase,
  Outbox,
  type CaptureInput,
  type UnsentEvent,
} from '../../src/sync/index.js';
import { numberedSale } from '../../test/support/pos-payloads.js';

/**
 * The backlog a store builds up while head office is unreachable: numberedSale from test/support with
 * the free-form extensions a real POS adds (receipt number, loyalty card, footer), about 1 KB of JSON,
 * each with its own transactionId. Terminals T51… are used only here, so live sales posted during the
 * drain (terminals T01…) can never collide with a backlog transaction.
 */
export function backlogSale(terminalId: string, n: number): Record<string, unknown> {
  return {
    ...numberedSale(terminalId, n),
    extensions: {
      receiptNo: `R-2026-11-23-${String(n).padStart(9, '0')}`,
      loyaltyCard: '9876543210123456',
      loyaltyPoints: 6,
      lane: 3,
      customerSegment: 'regular',
      basketSource: 'scanner',
      receiptFooter:
        'Thank you for shopping with us. Returns within 30 days with this receipt. VAT reg. DE123456789.',
      posSoftware: 'ExamplePOS 7.4.2 build 1187',
    },
  };
}

/** One backlog event as the hub stores it (a hub_events row), for the raw insert baselines. */
export interface HubEventRow {
  seq: number;
  eventId: string;
  type: 'sale';
  terminalId: string;
  transactionId: string;
  businessDay: string;
  capturedAt: string;
  bodyHash: string;
  body: string;
}

export interface Backlog {
  events: number;
  epoch: string;
  /** Mean body size, bytes. */
  bodyBytes: number;
  fillSeconds: number;
  rows: HubEventRow[];
}

/**
 * Fills a fresh outbox with `events` captures, `chunk` per durable transaction, through
 * Outbox.appendBatch exactly as the group commit does (body text as submitted, its digest, signed
 * total), then closes it (which checkpoints the WAL into the file, so it can be copied).
 */
export function fillBacklog(
  file: string,
  options: { storeId: string; events: number; chunk: number; terminals: number },
): Backlog {
  const outbox = new Outbox({ file, storeId: options.storeId });
  const rows: HubEventRow[] = [];
  let bodyBytes = 0;
  const startedAt = performance.now();
  try {
    for (let done = 0; done < options.events;) {
      const inputs: CaptureInput[] = [];
      const meta: { terminalId: string; transactionId: string; body: string; bodyHash: string }[] = [];
      for (let i = 0; i < options.chunk && done + i < options.events; i++) {
        const n = done + i + 1;
        const terminalId = `T${51 + (n % options.terminals)}`;
        const sale = backlogSale(terminalId, n);
        const body = JSON.stringify(sale);
        // What capture stores: the digest of the exact text. (The hub keys its rows by the canonical
        // hash instead; for the raw insert baselines only the value's length matters, and it is the same.)
        const bodyHash = textDigest(body);
        bodyBytes += Buffer.byteLength(body);
        inputs.push({
          terminalId,
          transactionId: sale.transactionId as string,
          type: 'sale',
          currency: 'EUR',
          signedTotal: 609,
          body,
          bodyHash,
        });
        meta.push({ terminalId, transactionId: sale.transactionId as string, body, bodyHash });
      }
      const results = outbox.appendBatch(inputs);
      results.forEach((result, i) => {
        if (result instanceof Error) throw result;
        const m = meta[i]!;
        rows.push({
          seq: result.seq,
          eventId: result.eventId,
          type: 'sale',
          terminalId: m.terminalId,
          transactionId: m.transactionId,
          businessDay: '2026-11-23',
          capturedAt: new Date().toISOString(),
          bodyHash: m.bodyHash,
          body: m.body,
        });
      });
      done += inputs.length;
    }
    return {
      events: rows.length,
      epoch: outbox.epoch,
      bodyBytes: bodyBytes / rows.length,
      fillSeconds: (performance.now() - startedAt) / 1000,
      rows,
    };
  } finally {
    outbox.close();
  }
}

export interface BacklogBatches {
  /** The exact `events` messages the sync engine publishes for this backlog, in order. */
  payloads: string[];
  /** The events of each payload as the outbox hands them over (for the agent-side CPU breakdown). */
  events: UnsentEvent[][];
  bytes: number;
}

/**
 * Reads the backlog back the way the sync engine does (the delivery store's nextBatch, default limits).
 * The events of each payload are read back from it: building them again gives the very same payload.
 */
export function backlogBatches(file: string, storeId: string): BacklogBatches {
  const delivery = new DeliveryDatabase(file, storeId);
  try {
    const payloads: string[] = [];
    const events: UnsentEvent[][] = [];
    let bytes = 0;
    let cursor: { epoch: string; seq: number } | null = null;
    for (;;) {
      const next = delivery.nextBatch(cursor, {
        ...DEFAULT_SYNC_TUNING.batch,
        maxMessageBytes: SYNC_LIMITS.maxBatchBytes,
      });
      const batch = next.message;
      if (!batch) break;
      if (batch.kind !== 'batch') throw new Error(`backlog event ${batch.seq} is too large to send`);
      const payload = batch.payload.toString();
      payloads.push(payload);
      events.push(
        eventBatchSchema.parse(JSON.parse(payload)).events.map((e) => ({
          seq: e.seq,
          eventId: e.eventId,
          type: e.type,
          capturedAt: Date.parse(e.capturedAt),
          body: e.body ?? null,
        })),
      );
      bytes += batch.bytes;
      cursor = { epoch: next.epoch, seq: batch.lastSeq };
    }
    return { payloads, events, bytes };
  } finally {
    delivery.close();
  }
}
