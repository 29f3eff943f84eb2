import type { Transaction } from '../../src/contracts/transaction.js';

/**
 * Small, valid, hand-checkable POS payloads. Tests take one and break exactly one thing, so each bad
 * payload differs from a known-good one by the fault it names.
 */
export function sale(overrides: Partial<Record<string, unknown>> = {}, n = 1): Record<string, unknown> {
  return {
    v: 1,
    type: 'sale',
    terminalId: 'T1',
    transactionId: `sale-${n}`,
    businessDay: '2026-11-23',
    occurredAt: '2026-11-23T10:15:00+01:00',
    currency: 'EUR',
    operatorId: 'op-7',
    taxIncluded: true,
    lines: [
      {
        lineNo: 1,
        sku: '4006381333931',
        description: 'Pencil HB',
        quantity: 3,
        unitPrice: 120,
        amount: 360,
        discounts: [{ promotionId: 'PROMO-3FOR2', amount: 120 }],
        taxes: [{ code: 'VAT19', rate: 0.19, amount: 38 }],
      },
      {
        lineNo: 2,
        sku: 'APPLES-KG',
        quantity: 1.235,
        unitPrice: 299,
        amount: 369,
        discounts: [],
        taxes: [{ code: 'VAT7', rate: 0.07, amount: 24 }],
      },
    ],
    tenders: [
      { method: 'card', amount: 500, reference: 'auth-123' },
      { method: 'cash', amount: 109 },
    ],
    totals: { gross: 729, discount: 120, tax: 62, total: 609 },
    ...overrides,
  };
}

export function returnOf(
  original: { terminalId: string; transactionId: string; businessDay: string },
  n = 1,
) {
  return {
    v: 1,
    type: 'return',
    terminalId: 'T1',
    transactionId: `return-${n}`,
    businessDay: '2026-11-24',
    occurredAt: '2026-11-24T09:00:00+01:00',
    currency: 'EUR',
    operatorId: 'op-7',
    taxIncluded: true,
    original,
    lines: [
      {
        lineNo: 1,
        sku: '4006381333931',
        quantity: 1,
        unitPrice: 120,
        amount: 120,
        discounts: [],
        taxes: [{ code: 'VAT19', rate: 0.19, amount: 19 }],
      },
    ],
    tenders: [{ method: 'cash', amount: 120 }],
    totals: { gross: 120, discount: 0, tax: 19, total: 120 },
  };
}

export function voidOf(voided: { terminalId: string; transactionId: string }, n = 1) {
  return {
    v: 1,
    type: 'void',
    terminalId: 'T1',
    transactionId: `void-${n}`,
    businessDay: '2026-11-23',
    occurredAt: '2026-11-23T10:20:00+01:00',
    currency: 'EUR',
    operatorId: 'op-7',
    taxIncluded: true,
    voids: voided,
    lines: [],
    tenders: [],
    totals: { gross: 0, discount: 0, tax: 0, total: 0 },
  };
}

/** A sale with its own transactionId for terminal `terminalId`: for load and crash tests. */
export function numberedSale(terminalId: string, n: number): Record<string, unknown> {
  return sale({ terminalId, transactionId: `${terminalId}-${n}` }, n);
}

export type { Transaction };
