import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Outbox, type CaptureInput } from '../../src/sync/index.js';
import { measureCommits, type RawRate } from './raw-sqlite.js';

/**
 * The agent's storage layer alone: Outbox.appendBatch called directly on a fresh outbox (no HTTP, no
 * validation, no group-commit scheduling), `itemsPerCall` new captures per call. Between the raw insert
 * and durable capture over HTTP, it tells what the outbox's own transaction (seq bookkeeping, duplicate
 * lookup, event id) costs.
 */
export function measureOutboxDirect(
  dir: string,
  options: { body: string; seconds: number; itemsPerCall: number },
): RawRate {
  const outbox = new Outbox({
    file: path.join(dir, `outbox-${options.itemsPerCall}.sqlite`),
    storeId: 'BENCH-STORE',
  });
  try {
    let n = 0;
    const item = (): CaptureInput => {
      n += 1;
      return {
        terminalId: 'T01',
        transactionId: `T01-${n}`,
        type: 'sale',
        currency: 'EUR',
        signedTotal: 609,
        body: options.body,
        // The length of a base64url SHA-256, as canonicalHash gives; its value does not matter here.
        bodyHash: `h${String(n).padStart(42, '0')}`,
      };
    };
    const warmUpUntil = performance.now() + 500;
    while (performance.now() < warmUpUntil) outbox.appendBatch([item()]);
    // The items are built inside the timed call, as a few microseconds of what the group commit hands over.
    return measureCommits(options.itemsPerCall, options.seconds, () =>
      outbox.appendBatch(Array.from({ length: options.itemsPerCall }, item)),
    );
  } finally {
    outbox.close();
  }
}
