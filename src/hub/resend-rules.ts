/**
 * Head office's side of a resync (docs/protocol.md, "Resync"), as pure rules shared by both hub stores.
 * A store reports, per epoch, how far head office acknowledged it. Head office never acknowledges beyond
 * what it committed, so a store claiming more than the hub holds means the hub lost committed rows: its
 * database was restored from a backup. The hub then asks the store to publish again from what it holds
 * contiguously + 1; the store re-sends what it still retains (acknowledged events are pruned after
 * `outbox.ackedRetentionDays`) and says from which seq it still had them. The rest is unrecoverable.
 */

/** How many answered losses in a row one plan steps over: far more than a store epoch ever has. */
export const MAX_LOST_STEPS = 20;

export interface SeqRange {
  from: number;
  to: number;
}

/** A resend request row as both stores read it. */
export interface ResendRequestFacts {
  fromSeq: number;
  requestId: string;
  lastAskedAt: number;
  asks: number;
  reportedAt: number | null;
  availableFrom: number | null;
  storeThrough: number | null;
}

/** The seqs the store no longer had when it answered: fromSeq … min(availableFrom − 1, through). */
export function unrecoverableRange(
  r: Pick<ResendRequestFacts, 'fromSeq' | 'availableFrom' | 'storeThrough' | 'reportedAt'>,
): SeqRange | null {
  if (r.reportedAt === null || r.availableFrom === null || r.storeThrough === null) return null;
  const to = Math.min(r.availableFrom - 1, r.storeThrough);
  return to >= r.fromSeq ? { from: r.fromSeq, to } : null;
}

/**
 * What a store's answer adds to the losses: the seqs it no longer had, less those the hub holds
 * contiguously already (an operator may ask for a resync from a seq the hub still holds).
 */
export function reportedLoss(
  report: { fromSeq: number; availableFrom: number; through: number },
  heldThrough: number,
  at: number,
): SeqRange | null {
  const range = unrecoverableRange({
    fromSeq: report.fromSeq,
    reportedAt: at,
    availableFrom: report.availableFrom,
    storeThrough: report.through,
  });
  if (!range || range.to <= heldThrough) return null;
  return { from: Math.max(range.from, heldThrough + 1), to: range.to };
}

export type ResendDecision =
  /** The hub holds everything the store says was acknowledged: nothing to ask. */
  | { action: 'none' }
  /** No hub asked from this seq yet: claim the row and ask. */
  | { action: 'ask'; fromSeq: number }
  /**
   * Asked, unanswered for longer than the bound (the store was offline, or the command was lost); or
   * answered that it had these seqs, yet they never arrived (lost with a hub that stopped): ask again.
   */
  | { action: 'reask'; fromSeq: number; request: ResendRequestFacts }
  /** Asked recently, or answered: wait for the events (or accept what the answer said is lost). */
  | { action: 'wait'; fromSeq: number; request: ResendRequestFacts };

/**
 * What to do about a store's claim that head office acknowledged an epoch through `ackedThrough`, when
 * the hub holds it contiguously through `heldThrough` (counting seqs reported unrecoverable as held: they
 * will never come). `request` is the row for fromSeq = heldThrough + 1, if any hub asked already.
 */
export function decideResend(facts: {
  ackedThrough: number;
  heldThrough: number;
  request: ResendRequestFacts | undefined;
  now: number;
  reaskAfterMs: number;
}): ResendDecision {
  if (facts.ackedThrough <= facts.heldThrough) return { action: 'none' };
  const fromSeq = facts.heldThrough + 1;
  const { request } = facts;
  if (!request) return { action: 'ask', fromSeq };
  // An answer that covers fromSeq with a loss was stepped over by the caller: an answered request here
  // said the store still had fromSeq, so it was sent and is late, or was lost.
  const since = request.reportedAt ?? request.lastAskedAt;
  if (facts.now - since >= facts.reaskAfterMs) return { action: 'reask', fromSeq, request };
  return { action: 'wait', fromSeq, request };
}

/**
 * Splits the missing ranges above contiguous-through into those still in flight (`gaps`) and those the
 * store said it no longer had (`unrecoverable`), so nobody waits for seqs that will never arrive. Lost
 * seqs above the highest one held are no gap (nothing after them arrived) but are unrecoverable all the same.
 */
export function splitGaps(
  gaps: readonly SeqRange[],
  lost: readonly SeqRange[],
  highestSeq: number,
): { gaps: SeqRange[]; unrecoverable: SeqRange[] } {
  const sorted = [...lost].sort((a, b) => a.from - b.from);
  const inFlight: SeqRange[] = [];
  const unrecoverable: SeqRange[] = [];
  const lostBeyond = Math.max(highestSeq, ...sorted.map((l) => l.to));
  const spans = [
    ...gaps.map((g) => ({ ...g, gap: true })),
    ...(lostBeyond > highestSeq ? [{ from: highestSeq + 1, to: lostBeyond, gap: false }] : []),
  ];
  for (const span of spans) {
    let at = span.from;
    for (const l of sorted) {
      if (l.to < at || l.from > span.to) continue;
      if (l.from > at && span.gap) inFlight.push({ from: at, to: l.from - 1 });
      const to = Math.min(l.to, span.to);
      unrecoverable.push({ from: Math.max(l.from, at), to });
      at = to + 1;
      if (at > span.to) break;
    }
    if (at <= span.to && span.gap) inFlight.push({ from: at, to: span.to });
  }
  return { gaps: inFlight, unrecoverable };
}

/** Seqs in the ranges. */
export const rangeSize = (ranges: readonly SeqRange[]): number =>
  ranges.reduce((n, r) => n + r.to - r.from + 1, 0);
