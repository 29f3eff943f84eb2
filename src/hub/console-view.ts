import type { ConsoleSnapshot, ConsoleStore, EpochView, StoreDetail } from '../contracts/console-api.js';
import { NotFoundError } from '../lib/errors.js';
import { attentionOf, compareByAttention, needsAttention } from './console-attention.js';
import { commandView, deadLetterViews } from './command-rules.js';
import type { HubStore, KnownStore, StoreSummary } from './hub-store.js';
import { dayWindow, storeHealth, type StoreHealth } from './store-health.js';

/**
 * What the operator's console shows, read from the hub database: every store with its state and why it
 * needs attention (sorted so those come first), and one store in detail. The reads run one after the
 * other: on PostgreSQL the operator API has one pooled connection to itself while ingest commits.
 */

const DEAD_LETTERS_SHOWN = 200;
const COMMANDS_SHOWN = 100;

interface StoreExtras {
  statusAt: string | null;
  pending: number;
  deadLetters: number;
}

export function consoleStore(summary: StoreSummary, health: StoreHealth, extras: StoreExtras): ConsoleStore {
  const current = summary.epochs.find((e) => e.epoch === summary.currentEpoch) ?? summary.epochs.at(-1);
  const facts = {
    storeId: summary.storeId,
    online: summary.online,
    since: extras.statusAt,
    lastSeen: summary.lastSeen,
    agentVersion: summary.agentVersion,
    currentEpoch: summary.currentEpoch,
    backlog: summary.reportedBacklog,
    oldestUnsentAt: summary.oldestUnsentAt,
    lastSeq: current?.lastSeq ?? 0,
    contiguousThrough: current?.contiguousThrough ?? 0,
    lag: health.contiguousLag,
    gaps: health.openGaps,
    unrecoverable: health.unrecoverable,
    quarantined: summary.quarantined,
    deadLetters: extras.deadLetters,
    days: { mismatched: health.daysMismatched, notClosed: health.daysNotConfirmed - health.daysMismatched },
    pendingCommands: extras.pending,
  };
  return { ...facts, attention: attentionOf(facts) };
}

async function storeRows(
  store: HubStore,
  now: number,
  storeId?: string,
): Promise<{ stores: ConsoleStore[]; summaries: StoreSummary[]; window: { from: string; to: string } }> {
  const window = dayWindow(now);
  const summaries = await store.listStores(storeId);
  const known: KnownStore[] = await store.knownStores();
  const unconfirmed = await store.unconfirmedDays(window.from, window.to);
  const pending = new Map((await store.commands.pendingCounts()).map((p) => [p.storeId, p.pending]));
  const dead = new Map((await store.commands.openDeadLetterCounts()).map((d) => [d.storeId, d.open]));
  const statusAt = new Map(known.map((k) => [k.storeId, k.statusAt]));
  const health = new Map(storeHealth(summaries, unconfirmed, now).map((h) => [h.storeId, h]));
  const stores = summaries.map((s) =>
    consoleStore(s, health.get(s.storeId)!, {
      statusAt: statusAt.get(s.storeId) ?? null,
      pending: pending.get(s.storeId) ?? 0,
      deadLetters: dead.get(s.storeId) ?? 0,
    }),
  );
  return { stores, summaries, window };
}

/** Every store, those needing attention first. */
export async function consoleSnapshot(store: HubStore, hubId: string, now: number): Promise<ConsoleSnapshot> {
  const { stores, window } = await storeRows(store, now);
  stores.sort(compareByAttention);
  return {
    hubId,
    now: new Date(now).toISOString(),
    dayWindow: window,
    stores,
    counts: {
      stores: stores.length,
      online: stores.filter((s) => s.online).length,
      needAttention: stores.filter(needsAttention).length,
    },
  };
}

function epochView(e: StoreSummary['epochs'][number], current: string | null): EpochView {
  return {
    epoch: e.epoch,
    current: e.epoch === current,
    firstSeen: e.firstSeen,
    lastSeen: e.lastSeen,
    lastSeq: e.lastSeq,
    contiguousThrough: e.contiguousThrough,
    gaps: e.gaps,
    unrecoverable: e.unrecoverable,
    stored: e.stored,
    rejected: e.rejected,
    duplicates: e.duplicates,
    moved: e.moved,
    closed: e.closed,
    complete: e.complete,
  };
}

/** One store: its row, its epochs, its dead letters with what became of them, and the commands sent to it. */
export async function storeDetail(store: HubStore, storeId: string, now: number): Promise<StoreDetail> {
  const { stores, summaries } = await storeRows(store, now, storeId);
  const [row, summary] = [stores[0], summaries[0]];
  if (!row || !summary)
    throw new NotFoundError(`store ${storeId} is not known to this hub (it never sent a status or an event)`);
  const letters = await store.commands.deadLetters(storeId, DEAD_LETTERS_SHOWN);
  const commands = await store.commands.forStore(storeId, COMMANDS_SHOWN);
  return {
    store: row,
    epochs: summary.epochs
      .map((e) => epochView(e, summary.currentEpoch))
      .sort((a, b) => (a.firstSeen < b.firstSeen ? 1 : a.firstSeen > b.firstSeen ? -1 : 0)),
    deadLetters: deadLetterViews(letters, commands),
    commands: commands.map(commandView),
  };
}
