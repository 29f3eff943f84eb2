import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DayClose } from '../../src/contracts/day-close.js';
import { openHubStore, parseStoreMessage, type ExportManifest, type HubStore } from '../../src/hub/index.js';
import { DAY, tillClose, tillSale, txId } from '../support/day-close-fixtures.js';
import { returnOf } from '../support/pos-payloads.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { killLeftovers, runOutpost } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * `outpost hub export` end to end: the lines, the manifest beside them (or after them on stdout), and
 * `--require-confirmed`; against a hub database filled the way ingest fills it.
 */

afterEach(killLeftovers);

const E = '7e7e7e7e7e7e7e7e';
const AT = Date.parse('2026-11-24T01:00:00Z');

/** Stores events as ingest does: bodies judged by parse-event-batch.ts, then one committed batch. */
async function ingest(
  store: HubStore,
  storeId: string,
  firstSeq: number,
  bodies: readonly object[],
): Promise<void> {
  const message = {
    v: 1,
    storeId,
    epoch: E,
    events: bodies.map((body, i) => ({
      seq: firstSeq + i,
      eventId: `01EXP${storeId}${String(firstSeq + i).padStart(12, '0')}`,
      type: (body as { type: string }).type,
      capturedAt: '2026-11-23T21:00:00.000Z',
      body: JSON.stringify(body),
    })),
  };
  const parsed = parseStoreMessage(storeId, Buffer.from(JSON.stringify(message)));
  if (!parsed.ok || parsed.kind !== 'batch') throw new Error('not a batch');
  await store.insertEventsOnce(storeId, E, parsed.events, AT);
}

/** A return of T1's first sale, rung up the same day, that takes back 40 of its promotion discount. */
const refund = {
  ...returnOf({ terminalId: 'T1', transactionId: txId('T1', 1), businessDay: DAY }, 4),
  terminalId: 'T1',
  transactionId: txId('T1', 4),
  businessDay: DAY,
  lines: [
    {
      lineNo: 1,
      sku: '4006381333931',
      quantity: 1,
      unitPrice: 120,
      amount: 120,
      discounts: [{ promotionId: 'PROMO-3FOR2', amount: 40 }],
      taxes: [{ code: 'VAT19', rate: 0.19, amount: 19 }],
    },
  ],
  tenders: [{ method: 'cash', amount: 80 }],
  totals: { gross: 120, discount: 40, tax: 19, total: 80 },
};

const t1Close: DayClose = {
  ...tillClose('T1', { sales: 3 }),
  lastTransactionId: txId('T1', 4),
  totals: [
    { type: 'sale', currency: 'EUR', count: 3, amount: 3 * 609 },
    { type: 'return', currency: 'EUR', count: 1, amount: 80 },
  ],
};

/**
 * S1: T1 sold three and refunded one, closed and confirmed; T2 sold T2-0001 and T2-0002, but its close
 * counts T2-0003 too, which never reached head office. S2: one till, confirmed. S1 still reports two
 * unsent transactions of the day.
 */
async function fill(dbUrl: string): Promise<void> {
  const store = await openHubStore(dbUrl);
  try {
    await ingest(store, 'S1', 1, [
      tillSale('T1', 1),
      tillSale('T1', 2),
      tillSale('T2', 1),
      tillSale('T1', 3),
      tillSale('T2', 2),
      refund,
    ]);
    await ingest(store, 'S1', 7, [tillSale('T1', 9, '2026-11-24')]);
    await ingest(store, 'S1', 8, [t1Close, tillClose('T2', { sales: 3 })]);
    await store.recordStoreStatus(
      'S1',
      { v: 1, state: 'online', epoch: E, backlog: 2, unsentByDay: [{ businessDay: DAY, count: 2 }] },
      AT,
    );
    await ingest(store, 'S2', 1, [tillSale('T1', 1), tillClose('T1', { sales: 1 })]);
  } finally {
    await store.close();
  }
}

function hubConfig(dbUrl: string): string {
  const file = path.join(makeTempDir('export-config'), 'hub.json');
  writeFileSync(
    file,
    JSON.stringify({
      hubId: 'export',
      db: { url: dbUrl },
      mqtt: { url: 'mqtt://127.0.0.1:1' },
      api: { token: 'unused-token-0123456789' },
    }),
  );
  return file;
}

const exportArgs = (config: string, storeId: string, ...rest: string[]) => [
  'hub',
  'export',
  '--config',
  config,
  '--store',
  storeId,
  '--day',
  DAY,
  ...rest,
];

describe('outpost hub export', () => {
  it('writes the lines and, beside them, a manifest of what they prove', async () => {
    const dbUrl = `sqlite:${path.join(makeTempDir('export-db'), 'hub.sqlite')}`;
    await fill(dbUrl);
    const config = hubConfig(dbUrl);
    const out = path.join(makeTempDir('export-out'), 'S1-day.jsonl');

    const result = await runOutpost(exportArgs(config, 'S1', '--out', out));
    expect(result.stderr).toContain('exported 6 transaction(s) of store S1');
    expect(result.stderr).toContain(`mismatch (T2 (mismatch: missing ${txId('T2', 3)}`);
    expect(result.stderr).toContain('the store still held 2 unsent transaction(s) of the day');
    expect(result.code).toBe(0);

    const text = readFileSync(out, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; transaction: { transactionId: string } });
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8')) as ExportManifest;
    expect(manifest).toMatchObject({
      v: 1,
      storeId: 'S1',
      businessDay: DAY,
      lines: { count: 6, sha256: createHash('sha256').update(text).digest('hex') },
      epochs: [
        {
          epoch: E,
          firstSeq: 1,
          lastSeq: 6,
          transactions: 6,
          heldThroughLastSeq: true,
          gaps: [],
          unrecoverable: [],
          closedAndComplete: false,
        },
      ],
      totals: [
        {
          type: 'sale',
          currency: 'EUR',
          count: 5,
          gross: 5 * 729,
          discount: 5 * 120,
          tax: 5 * 62,
          total: 5 * 609,
        },
        { type: 'return', currency: 'EUR', count: 1, gross: 120, discount: 40, tax: 19, total: 80 },
      ],
      discounts: [
        {
          promotionId: 'PROMO-3FOR2',
          currency: 'EUR',
          sale: { lines: 5, amount: 600 },
          return: { lines: 1, amount: 40 },
          void: { lines: 0, amount: 0 },
          net: 560,
        },
      ],
      unsentAtStore: 2,
    });
    expect(manifest.reconciliation.state).toBe('mismatch');
    expect(manifest.reconciliation.tills.map((t) => [t.terminalId, t.state, t.differences?.missing])).toEqual(
      [
        ['T1', 'confirmed', []],
        ['T2', 'mismatch', [txId('T2', 3)]],
      ],
    );

    // On stdout, the manifest follows the lines as one last line of its own.
    const piped = await runOutpost(exportArgs(config, 'S1'));
    expect(piped.code).toBe(0);
    const stdoutLines = piped.stdout.trim().split('\n');
    expect(stdoutLines).toHaveLength(7);
    expect(`${stdoutLines.slice(0, 6).join('\n')}\n`).toBe(text);
    const last = JSON.parse(stdoutLines[6]!) as { manifest: ExportManifest };
    expect(Object.keys(last)).toEqual(['manifest']);
    expect(last.manifest.lines).toEqual(manifest.lines);
  }, 60_000);

  it('with --require-confirmed, writes nothing and exits 1 naming the tills that are not confirmed', async () => {
    const database = await createTempPostgresDatabase();
    try {
      await fill(database.url);
      const config = hubConfig(database.url);
      const dir = makeTempDir('export-out');

      const refused = await runOutpost(
        exportArgs(config, 'S1', '--out', path.join(dir, 's1.jsonl'), '--require-confirmed'),
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`is not confirmed by every till`);
      expect(refused.stderr).toContain(`T2 (mismatch: missing ${txId('T2', 3)}`);
      expect(refused.stderr).not.toContain('T1 (');
      expect(existsSync(path.join(dir, 's1.jsonl'))).toBe(false);
      expect(existsSync(path.join(dir, 's1.jsonl.manifest.json'))).toBe(false);

      const confirmed = await runOutpost(
        exportArgs(config, 'S2', '--out', path.join(dir, 's2.jsonl'), '--require-confirmed'),
      );
      expect(confirmed.stderr).toContain('confirmed by all 1 till(s)');
      expect(confirmed.code).toBe(0);
      expect(readFileSync(path.join(dir, 's2.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
      expect(
        (JSON.parse(readFileSync(path.join(dir, 's2.jsonl.manifest.json'), 'utf8')) as ExportManifest)
          .reconciliation.state,
      ).toBe('confirmed');
    } finally {
      await database.drop();
    }
  }, 60_000);

  it('refuses an unknown store with exit code 2 rather than writing an empty file', async () => {
    const dbUrl = `sqlite:${path.join(makeTempDir('export-db'), 'hub.sqlite')}`;
    await fill(dbUrl);
    const out = path.join(makeTempDir('export-out'), 'nobody.jsonl');
    const result = await runOutpost(exportArgs(hubConfig(dbUrl), 'S404', '--out', out));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('store S404 is not known to this hub');
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
