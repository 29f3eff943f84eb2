import { describe, expect, it } from 'vitest';
import { buildExportManifest, unconfirmedTills } from '../../src/hub/export-manifest.js';
import type { EpochSummary } from '../../src/hub/hub-store.js';
import { returnOf, sale, voidOf } from '../support/pos-payloads.js';

const epoch = (over: Partial<EpochSummary>): EpochSummary => ({
  epoch: 'e1e1e1e1e1e1e1e1',
  firstSeen: '2026-11-23T08:00:00.000Z',
  lastSeen: '2026-11-23T20:00:00.000Z',
  lastSeq: 40,
  contiguousThrough: 40,
  gaps: [],
  stored: 40,
  rejected: 0,
  duplicates: 0,
  moved: 0,
  closed: null,
  complete: false,
  unrecoverable: [],
  resend: null,
  ...over,
});

const line = (seq: number, body: Record<string, unknown>, e = 'e1e1e1e1e1e1e1e1') => ({
  epoch: e,
  seq,
  bodyJson: JSON.stringify(body),
});

const base = {
  storeId: 'S1',
  businessDay: '2026-11-23',
  generatedAt: '2026-11-24T06:00:00.000Z',
  linesSha256: 'abc',
  reconciliation: { state: 'confirmed' as const, tills: [] },
  unsentAtStore: 0,
};

describe('the manifest of a store-day export', () => {
  it('sums totals per type and currency, and discounts per promotion net of what returns and voids take back', () => {
    const voided = {
      ...voidOf({ terminalId: 'T1', transactionId: 'sale-1' }, 1),
      lines: [
        {
          lineNo: 1,
          sku: '4006381333931',
          quantity: 3,
          unitPrice: 120,
          amount: 360,
          discounts: [{ promotionId: 'PROMO-3FOR2', amount: 120 }],
          taxes: [],
        },
      ],
      tenders: [{ method: 'cash', amount: 240 }],
      totals: { gross: 360, discount: 120, tax: 0, total: 240 },
    };
    const chf = sale({ currency: 'CHF', transactionId: 'chf-1' }, 9);
    const manifest = buildExportManifest({
      ...base,
      lines: [
        line(3, sale({}, 1)),
        line(5, sale({}, 2)),
        line(8, returnOf({ terminalId: 'T1', transactionId: 'sale-1', businessDay: '2026-11-23' })),
        line(9, voided),
        line(12, chf),
      ],
      epochs: [epoch({})],
    });
    expect(manifest.totals).toEqual([
      { type: 'sale', currency: 'CHF', count: 1, gross: 729, discount: 120, tax: 62, total: 609 },
      { type: 'sale', currency: 'EUR', count: 2, gross: 1458, discount: 240, tax: 124, total: 1218 },
      { type: 'return', currency: 'EUR', count: 1, gross: 120, discount: 0, tax: 19, total: 120 },
      { type: 'void', currency: 'EUR', count: 1, gross: 360, discount: 120, tax: 0, total: 240 },
    ]);
    expect(manifest.discounts).toEqual([
      {
        promotionId: 'PROMO-3FOR2',
        currency: 'CHF',
        sale: { lines: 1, amount: 120 },
        return: { lines: 0, amount: 0 },
        void: { lines: 0, amount: 0 },
        net: 120,
      },
      {
        promotionId: 'PROMO-3FOR2',
        currency: 'EUR',
        sale: { lines: 2, amount: 240 },
        return: { lines: 0, amount: 0 },
        void: { lines: 1, amount: 120 },
        net: 120,
      },
    ]);
    expect(manifest.lines.count).toBe(5);
  });

  it('says per epoch which seqs the lines span and whether any below the last could still be missing', () => {
    const manifest = buildExportManifest({
      ...base,
      lines: [line(3, sale({}, 1)), line(30, sale({}, 2)), line(2, sale({}, 3), 'f2f2f2f2f2f2f2f2')],
      epochs: [
        epoch({
          contiguousThrough: 10,
          lastSeq: 60,
          gaps: [
            { from: 11, to: 14 },
            { from: 28, to: 35 },
            { from: 50, to: 52 },
          ],
          unrecoverable: [{ from: 15, to: 20 }],
        }),
        epoch({ epoch: 'f2f2f2f2f2f2f2f2', contiguousThrough: 9, lastSeq: 9, closed: null, complete: true }),
      ],
    });
    expect(manifest.epochs).toEqual([
      {
        epoch: 'e1e1e1e1e1e1e1e1',
        firstSeq: 3,
        lastSeq: 30,
        transactions: 2,
        heldThroughLastSeq: false,
        contiguousThrough: 10,
        gaps: [
          { from: 11, to: 14 },
          { from: 28, to: 30 },
        ],
        unrecoverable: [{ from: 15, to: 20 }],
        closedAndComplete: false,
      },
      {
        epoch: 'f2f2f2f2f2f2f2f2',
        firstSeq: 2,
        lastSeq: 2,
        transactions: 1,
        heldThroughLastSeq: true,
        contiguousThrough: 9,
        gaps: [],
        unrecoverable: [],
        closedAndComplete: true,
      },
    ]);
  });

  it('names the tills that keep a day from being confirmed', () => {
    const till = (terminalId: string, state: 'confirmed' | 'mismatch' | 'not-closed') => ({
      terminalId,
      state,
      closedAt: null,
      zNumber: null,
      judgedAt: null,
      differences:
        state === 'mismatch'
          ? {
              missing: ['T2-0003'],
              extra: [],
              totals: [
                {
                  type: 'sale' as const,
                  currency: 'EUR',
                  till: { count: 3, amount: 30 },
                  headOffice: { count: 2, amount: 20 },
                },
              ],
            }
          : null,
      totals: [],
      closes: [],
    });
    expect(
      unconfirmedTills({
        reconciliation: {
          state: 'mismatch',
          tills: [till('T1', 'confirmed'), till('T2', 'mismatch'), till('T3', 'not-closed')],
        },
      }),
    ).toEqual([
      'T2 (mismatch: missing T2-0003; sale EUR: till 3 for 30, head office 2 for 20)',
      'T3 (sold but never closed)',
    ]);
    expect(unconfirmedTills({ reconciliation: { state: 'not-closed', tills: [] } })).toHaveLength(1);
  });
});
