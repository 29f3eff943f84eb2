import type { DayClose } from '../../src/contracts/day-close.js';
import { sale } from './pos-payloads.js';

/** The business day the day-close tests trade on. */
export const DAY = '2026-11-23';
/** totals.total of every sale of `tillSale` (pos-payloads' sale()): 609 minor units. */
export const SALE_TOTAL = 609;

/** The POS's own numbering: `T1-0007`, a prefix and a zero-padded number, as a range check expects. */
export const txId = (terminalId: string, n: number) => `${terminalId}-${String(n).padStart(4, '0')}`;

/** A valid sale of `terminalId`, numbered n that day (the POS's transaction id txId(terminalId, n)). */
export function tillSale(terminalId: string, n: number, businessDay = DAY): Record<string, unknown> {
  return sale({ terminalId, transactionId: txId(terminalId, n), businessDay }, n);
}

/**
 * A till's close of its day with its Z-report: `sales` transactions numbered 1..sales at SALE_TOTAL each,
 * unless told otherwise.
 */
export function tillClose(
  terminalId: string,
  options: {
    sales: number;
    amount?: number;
    closedAt?: string;
    businessDay?: string;
    listIds?: boolean;
    zNumber?: string;
  },
): DayClose {
  const { sales } = options;
  const ids = Array.from({ length: sales }, (_, i) => txId(terminalId, i + 1));
  return {
    v: 1,
    type: 'day-close',
    terminalId,
    businessDay: options.businessDay ?? DAY,
    closedAt: options.closedAt ?? `${options.businessDay ?? DAY}T22:00:00+01:00`,
    ...(options.zNumber ? { zNumber: options.zNumber } : {}),
    firstTransactionId: ids[0] ?? null,
    lastTransactionId: ids.at(-1) ?? null,
    ...(options.listIds ? { transactionIds: ids } : {}),
    totals:
      sales > 0
        ? [{ type: 'sale', currency: 'EUR', count: sales, amount: options.amount ?? sales * SALE_TOTAL }]
        : [],
  };
}
