import type { TerminalCredential } from '../../src/capture/index.js';
import { numberedSale } from '../../test/support/pos-payloads.js';

/**
 * One terminal per load-generator connection, as in a store where each till keeps its own connection:
 * the capture API authenticates every request against the full list, so the list is as long as the
 * highest concurrency measured.
 */
export function benchTerminals(count: number): TerminalCredential[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `T${String(i + 1).padStart(2, '0')}`;
    return { id, token: `bench-token-${id}-0123456789abcdef` };
  });
}

/**
 * A body factory for one terminal: test/support numberedSale with a fresh transactionId per call. The
 * JSON is serialised once and the id spliced in, so the load generator spends its CPU on sending, not on
 * JSON.stringify. Every call returns a body no other call (in this process) has returned.
 */
export function saleBodies(terminalId: string, nextNumber: () => number): () => string {
  const sentinel = 987654321;
  const parts = JSON.stringify(numberedSale(terminalId, sentinel)).split(`"${terminalId}-${sentinel}"`);
  if (parts.length !== 2) throw new Error('the sale template must hold its transactionId exactly once');
  const [head, tail] = parts as [string, string];
  return () => `${head}"${terminalId}-${nextNumber()}"${tail}`;
}
