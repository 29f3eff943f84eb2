import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { Outbox, type CaptureInput } from '../../src/sync/index.js';
import { makeTempDir } from '../support/temp-dir.js';

const T0 = Date.parse('2026-11-23T00:00:00Z');
const HOUR = 3_600_000;

const opened: Outbox[] = [];
afterEach(() => {
  for (const outbox of opened.splice(0)) outbox.close();
});

function capture(terminalId: string, n: number): CaptureInput {
  const body = JSON.stringify({ terminalId, n });
  return {
    terminalId,
    transactionId: `${terminalId}-${n}`,
    type: 'sale',
    currency: 'EUR',
    signedTotal: 100,
    body,
    bodyHash: textDigest(body),
  };
}

describe("the outbox's tills since a moment (the window's start-up seed)", () => {
  it('counts each till’s captures since then, with its last one, and nothing before', () => {
    let now = T0 - 2 * HOUR; // yesterday evening
    const outbox = new Outbox({
      file: path.join(makeTempDir('terminals-since'), 'outbox.sqlite'),
      storeId: 'S1',
      clock: { now: () => now, monotonic: () => now },
    });
    opened.push(outbox);
    outbox.appendBatch([capture('T1', 1), capture('T2', 1), capture('T3', 1)]);
    for (let n = 2; n <= 40; n++) {
      now = T0 + n * 60_000;
      outbox.appendBatch([capture('T1', n), ...(n % 4 === 0 ? [capture('T2', n)] : [])]);
    }
    const since = (ms: number) =>
      outbox.terminalsSince(ms).sort((a, b) => a.terminalId.localeCompare(b.terminalId));
    expect(since(T0)).toEqual([
      { terminalId: 'T1', lastAt: T0 + 40 * 60_000, count: 39 },
      { terminalId: 'T2', lastAt: T0 + 40 * 60_000, count: 10 },
    ]);
    expect(since(T0 + 39 * 60_000)).toEqual([
      { terminalId: 'T1', lastAt: T0 + 40 * 60_000, count: 2 },
      { terminalId: 'T2', lastAt: T0 + 40 * 60_000, count: 1 },
    ]);
    expect(outbox.terminalsSince(T0 + 41 * 60_000)).toEqual([]);
    expect(outbox.terminalsSince(T0 - 3 * HOUR).find((t) => t.terminalId === 'T3')).toEqual({
      terminalId: 'T3',
      lastAt: T0 - 2 * HOUR,
      count: 1,
    });
  });

  it('answers an empty outbox with no tills', () => {
    const outbox = new Outbox({
      file: path.join(makeTempDir('terminals-empty'), 'outbox.sqlite'),
      storeId: 'S1',
    });
    opened.push(outbox);
    expect(outbox.terminalsSince(0)).toEqual([]);
  });
});
