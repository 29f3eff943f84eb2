import {
  ATTENTION_KINDS,
  type Attention,
  type AttentionKind,
  type AttentionLevel,
  type ConsoleStore,
} from '../contracts/console-api.js';

/**
 * Which stores the operator should look at first, and why. Pure: a table of rules over what the hub
 * knows of each store, in the order of how much is at stake:
 * 1. events quarantined (another writer under the store's seqs: which sale is real is in question);
 * 2. seqs lost for good, or missing ranges still open (completeness cannot be proven);
 * 3. offline with sales waiting (they are safe at the store, but head office does not have them);
 * 4. dead letters (sales head office refused: nobody gets them until someone acts);
 * 5. business days whose Z-report disagrees, or tills that sold and never closed;
 * 6. contiguous-through lag (seqs expected and not yet held in order);
 * 7. offline with nothing reported waiting.
 */

/** What the rules read of one store. */
export type AttentionFacts = Pick<
  ConsoleStore,
  'online' | 'backlog' | 'quarantined' | 'unrecoverable' | 'gaps' | 'deadLetters' | 'days' | 'lag'
>;

const LEVEL: Record<AttentionKind, AttentionLevel> = {
  quarantined: 'alert',
  unrecoverable: 'alert',
  gaps: 'alert',
  'offline-backlog': 'warning',
  'dead-letters': 'warning',
  'day-mismatch': 'warning',
  'day-not-closed': 'warning',
  lag: 'notice',
  offline: 'notice',
};

const RANK = new Map<AttentionKind, number>(ATTENTION_KINDS.map((kind, i) => [kind, i]));

export function attentionOf(f: AttentionFacts): Attention {
  const offlineBacklog = !f.online && (f.backlog ?? 0) > 0 ? f.backlog! : 0;
  const counts: [AttentionKind, number][] = [
    ['quarantined', f.quarantined],
    ['unrecoverable', f.unrecoverable],
    ['gaps', f.gaps],
    ['offline-backlog', offlineBacklog],
    ['dead-letters', f.deadLetters],
    ['day-mismatch', f.days.mismatched],
    ['day-not-closed', f.days.notClosed],
    ['lag', f.lag],
  ];
  const reasons = counts.filter(([, n]) => n > 0).map(([kind, count]) => ({ kind, count }));
  if (!f.online && offlineBacklog === 0) reasons.push({ kind: 'offline', count: 0 });
  return { level: reasons[0] ? LEVEL[reasons[0].kind] : 'ok', reasons };
}

/**
 * The console's order: by the most serious reason (rank above), then by how much of it (more events at
 * stake first), then by how many other reasons, then by store id; stores needing nothing last, by id.
 */
export function compareByAttention(
  a: Pick<ConsoleStore, 'storeId' | 'attention'>,
  b: Pick<ConsoleStore, 'storeId' | 'attention'>,
): number {
  const [ra, rb] = [a.attention.reasons, b.attention.reasons];
  const worst = (reasons: Attention['reasons']) =>
    reasons[0] ? RANK.get(reasons[0].kind)! : ATTENTION_KINDS.length;
  return (
    worst(ra) - worst(rb) ||
    (rb[0]?.count ?? 0) - (ra[0]?.count ?? 0) ||
    rb.length - ra.length ||
    (a.storeId < b.storeId ? -1 : a.storeId > b.storeId ? 1 : 0)
  );
}

export const needsAttention = (store: Pick<ConsoleStore, 'attention'>): boolean =>
  store.attention.reasons.length > 0;
