import { z } from 'zod';
import type { TillDayState, EpochSummary } from './hub-store.js';
import type { SeqRange } from './resend-rules.js';
import type { TillDayView } from './day-views.js';

export const EXPORT_MANIFEST_VERSION = 1;

type TransactionType = 'sale' | 'return' | 'void';

/** Per type and currency: how many, and the sums of their totals (minor units, as submitted). */
export interface ExportTotals {
  type: TransactionType;
  currency: string;
  count: number;
  gross: number;
  discount: number;
  tax: number;
  total: number;
}

/**
 * Line discounts per promotion and currency: what finance books as discount and merchandising reads as
 * promotion performance. `promotionId` null gathers discounts given without one (manual, staff).
 * Sales give a discount; returns and voids (which restate what they reverse) take it back:
 * `net = sale − return − void`.
 */
export interface ExportDiscount {
  promotionId: string | null;
  currency: string;
  sale: { lines: number; amount: number };
  return: { lines: number; amount: number };
  void: { lines: number; amount: number };
  net: number;
}

/** One epoch the export draws on: the seqs of its transactions, and whether the hub holds every seq below them. */
export interface ExportEpoch {
  epoch: string;
  firstSeq: number;
  lastSeq: number;
  transactions: number;
  /** A row for every seq of the epoch up to lastSeq: none of the day's transactions can hide in a gap below it. */
  heldThroughLastSeq: boolean;
  contiguousThrough: number;
  /** Seqs missing up to lastSeq that may still arrive. */
  gaps: SeqRange[];
  /** Seqs up to lastSeq head office lost and the store no longer had (docs/protocol.md, "Resync"). */
  unrecoverable: SeqRange[];
  /** The store moved on from this epoch, and the hub holds a row for every seq of it. */
  closedAndComplete: boolean;
}

/** `outpost hub export`'s manifest of one store-day: what the lines prove, and what they do not. */
export interface ExportManifest {
  v: typeof EXPORT_MANIFEST_VERSION;
  storeId: string;
  businessDay: string;
  generatedAt: string;
  /** The JSON Lines this manifest describes: how many, and the SHA-256 (hex) of their text. */
  lines: { count: number; sha256: string };
  epochs: ExportEpoch[];
  totals: ExportTotals[];
  discounts: ExportDiscount[];
  /** Head office's verdict per till: the till's close (Z-report) against the transactions held. */
  reconciliation: {
    /** `confirmed` only when every till that sold or closed that day closed and is confirmed. */
    state: TillDayState;
    tills: TillDayView[];
  };
  /**
   * What the store's last status said of its unsent sales, returns and voids of this day: a count (0:
   * none), or null when it did not say. Above 0, the store still holds transactions of the day.
   */
  unsentAtStore: number | null;
}

/** The fields of a stored transaction the manifest reads (each was validated in full when stored). */
const exportedTransaction = z.object({
  type: z.enum(['sale', 'return', 'void']),
  currency: z.string(),
  totals: z
    .object({ gross: z.number(), discount: z.number(), tax: z.number(), total: z.number() })
    .optional(),
  lines: z
    .array(
      z.object({
        discounts: z.array(z.object({ promotionId: z.string().optional(), amount: z.number() })).optional(),
      }),
    )
    .optional(),
});

export interface ExportedLine {
  epoch: string;
  seq: number;
  /** The transaction's exact text as stored. */
  bodyJson: string;
}

const TYPE_ORDER = { sale: 0, return: 1, void: 2 } as const;
const overlaps = (r: SeqRange, upTo: number) => r.from <= upTo;
const clip = (r: SeqRange, upTo: number): SeqRange => ({ from: r.from, to: Math.min(r.to, upTo) });

function epochsOf(lines: readonly ExportedLine[], summaries: readonly EpochSummary[]): ExportEpoch[] {
  const spans = new Map<string, { firstSeq: number; lastSeq: number; transactions: number }>();
  for (const line of lines) {
    const span = spans.get(line.epoch);
    if (!span) spans.set(line.epoch, { firstSeq: line.seq, lastSeq: line.seq, transactions: 1 });
    else {
      span.firstSeq = Math.min(span.firstSeq, line.seq);
      span.lastSeq = Math.max(span.lastSeq, line.seq);
      span.transactions++;
    }
  }
  return [...spans].map(([epoch, span]) => {
    const summary = summaries.find((s) => s.epoch === epoch);
    const contiguousThrough = summary?.contiguousThrough ?? 0;
    return {
      epoch,
      ...span,
      heldThroughLastSeq: contiguousThrough >= span.lastSeq,
      contiguousThrough,
      gaps: (summary?.gaps ?? []).filter((g) => overlaps(g, span.lastSeq)).map((g) => clip(g, span.lastSeq)),
      unrecoverable: (summary?.unrecoverable ?? [])
        .filter((g) => overlaps(g, span.lastSeq))
        .map((g) => clip(g, span.lastSeq)),
      closedAndComplete: summary?.complete ?? false,
    };
  });
}

/**
 * Builds the manifest of one store-day export from its lines, the store's epochs, head office's verdict
 * per till and the store's last word on unsent events. Pure.
 */
export function buildExportManifest(input: {
  storeId: string;
  businessDay: string;
  generatedAt: string;
  lines: readonly ExportedLine[];
  linesSha256: string;
  epochs: readonly EpochSummary[];
  reconciliation: ExportManifest['reconciliation'];
  unsentAtStore: number | null;
}): ExportManifest {
  const totals = new Map<string, ExportTotals>();
  const discounts = new Map<string, ExportDiscount>();
  for (const line of input.lines) {
    const tx = exportedTransaction.parse(JSON.parse(line.bodyJson));
    const key = `${tx.type}/${tx.currency}`;
    const t = totals.get(key) ?? {
      type: tx.type,
      currency: tx.currency,
      count: 0,
      gross: 0,
      discount: 0,
      tax: 0,
      total: 0,
    };
    t.count++;
    t.gross += tx.totals?.gross ?? 0;
    t.discount += tx.totals?.discount ?? 0;
    t.tax += tx.totals?.tax ?? 0;
    t.total += tx.totals?.total ?? 0;
    totals.set(key, t);
    for (const l of tx.lines ?? []) {
      for (const d of l.discounts ?? []) {
        const promotionId = d.promotionId ?? null;
        const dKey = `${promotionId ?? ''}\u0000${tx.currency}`;
        const row = discounts.get(dKey) ?? {
          promotionId,
          currency: tx.currency,
          sale: { lines: 0, amount: 0 },
          return: { lines: 0, amount: 0 },
          void: { lines: 0, amount: 0 },
          net: 0,
        };
        row[tx.type].lines++;
        row[tx.type].amount += d.amount;
        row.net += tx.type === 'sale' ? d.amount : -d.amount;
        discounts.set(dKey, row);
      }
    }
  }
  return {
    v: EXPORT_MANIFEST_VERSION,
    storeId: input.storeId,
    businessDay: input.businessDay,
    generatedAt: input.generatedAt,
    lines: { count: input.lines.length, sha256: input.linesSha256 },
    epochs: epochsOf(input.lines, input.epochs),
    totals: [...totals.values()].sort(
      (a, b) => TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || a.currency.localeCompare(b.currency),
    ),
    discounts: [...discounts.values()].sort(
      (a, b) =>
        (a.promotionId ?? '\uffff').localeCompare(b.promotionId ?? '\uffff') ||
        a.currency.localeCompare(b.currency),
    ),
    reconciliation: input.reconciliation,
    unsentAtStore: input.unsentAtStore,
  };
}

/** The tills that keep a day from being confirmed, in words; empty when it is confirmed. */
export function unconfirmedTills(manifest: Pick<ExportManifest, 'reconciliation'>): string[] {
  const { tills } = manifest.reconciliation;
  if (tills.length === 0) return ['no till closed this day (nor sold, as far as head office knows)'];
  return tills
    .filter((t) => t.state !== 'confirmed')
    .map((t) =>
      t.state === 'not-closed'
        ? `${t.terminalId} (sold but never closed)`
        : `${t.terminalId} (mismatch${describe(t)})`,
    );
}

function describe(t: TillDayView): string {
  const d = t.differences;
  if (!d) return '';
  const parts = [
    ...(d.missing.length > 0
      ? [`missing ${d.missing.slice(0, 5).join(', ')}${d.missing.length > 5 ? ', …' : ''}`]
      : []),
    ...(d.extra.length > 0
      ? [`extra ${d.extra.slice(0, 5).join(', ')}${d.extra.length > 5 ? ', …' : ''}`]
      : []),
    ...d.totals.map(
      (r) =>
        `${r.type} ${r.currency}: till ${r.till.count} for ${r.till.amount}, head office ${r.headOffice.count} for ${r.headOffice.amount}`,
    ),
  ];
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
}
