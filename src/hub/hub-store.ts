import type { PromotionState, PromotionTarget } from '../contracts/promotion.js';
import type { EpochClose, StoreStatusMessage } from '../contracts/sync-messages.js';

/**
 * What a store's `promotion-applied` or `promotion-refused` event says about one promotion version
 * (read from its body by parse-event-batch.ts): the hub's rollout view is built from these.
 */
export interface RolloutFact {
  promotionId: string;
  version: number;
  outcome: 'applied' | 'refused';
  /** applied: new, update, withdrawal or no-longer-targeted. */
  change: string | null;
  previousVersion: number | null;
  /** refused: the store's reason (unsigned, bad-signature, …) and its plain-language message. */
  reason: string | null;
  message: string | null;
  digest: string | null;
  keyId: string | null;
  /** When the store applied or refused it (its own clock, ISO-8601). */
  at: string;
}

/** One event of an incoming batch, already judged against the transaction schema. */
export interface IncomingEvent {
  seq: number;
  eventId: string;
  type: string;
  capturedAt: string;
  /** Null when the body is too broken to name them. */
  terminalId: string | null;
  transactionId: string | null;
  businessDay: string | null;
  /** The body's text exactly as the POS submitted it (the agent forwards it unchanged). */
  bodyText: string;
  /** Whether bodyText is JSON; a text that is not is rejected, and kept as a JSON string of it. */
  bodyIsJson: boolean;
  /** textDigest of bodyText: a redelivery carries the very same text. */
  bodyHash: string;
  /** Why the hub refuses this event, or undefined when it is valid. */
  invalidReason: string | undefined;
  /** For a valid promotion-applied/refused event: what it says, written to the rollout with the event. */
  rollout?: RolloutFact;
}

export type EventStatus = 'stored' | 'rejected' | 'duplicate' | 'quarantined' | 'moved';

export interface SeqReason {
  seq: number;
  reason: string;
}

/** Where an event of a closed epoch went: its seq in the store's next epoch. */
export interface MovedTo {
  epoch: string;
  seq: number;
}

export interface InsertOutcome {
  ackedThrough: number;
  highestSeq: number;
  rejected: SeqReason[];
  conflicts: SeqReason[];
  stored: number;
  duplicates: number;
}

export interface CloseOutcome {
  ackedThrough: number;
  highestSeq: number;
  /** `moved` rows written by this part (0 on a redelivery). */
  moved: number;
  /** Quarantined copies of this writer's events that now point to their new place. */
  markedInQuarantine: number;
  /** Moves where the hub already stores that very event at the seq: nothing to record. */
  alreadyHeld: number;
  /** Moves the hub cannot record: another writer's event holds the seq and no copy of this one was ever received. */
  unmatched: SeqReason[];
  /** The epoch is closed at this seq (max of the writers' last seq and the highest seq held at the close). */
  closedAtSeq: number;
}

export type EpochSummary = {
  epoch: string;
  firstSeen: string;
  lastSeen: string;
  /** Highest seq the hub holds a row for. */
  lastSeq: number;
  contiguousThrough: number;
  /** The first missing ranges above contiguousThrough (at most 20, found among the next 10,000 seqs held). */
  gaps: { from: number; to: number }[];
  stored: number;
  rejected: number;
  duplicates: number;
  moved: number;
  /** Set once a writer of this epoch closed it: it will publish nothing more under it. */
  closed: { lastSeq: number; nextEpoch: string; at: string } | null;
  /** Closed, and a row for every seq up to max(closed.lastSeq, lastSeq): every seq accounted for. */
  complete: boolean;
};

export interface StoreSummary {
  storeId: string;
  currentEpoch: string | null;
  online: boolean;
  lastSeen: string | null;
  reportedBacklog: number | null;
  agentVersion: string | null;
  quarantined: number;
  epochs: EpochSummary[];
}

/**
 * One hub_events row as the store hands it out. The body is kept as JSON text and never re-serialised:
 * the operator API and the export splice `bodyJson` into their output as it is.
 */
export interface EventRecord {
  storeId: string;
  epoch: string;
  seq: number;
  eventId: string;
  /** Null for a `moved` row: the close names only the event's id and new place. */
  type: string | null;
  status: EventStatus;
  reason: string | null;
  terminalId: string | null;
  transactionId: string | null;
  businessDay: string | null;
  capturedAt: string | null;
  receivedAt: string;
  /** The POS's exact text; for a rejected text that is not JSON, a JSON string holding it; null when moved. */
  bodyJson: string | null;
  movedTo: MovedTo | null;
}

export interface QuarantineRecord {
  storeId: string;
  epoch: string;
  seq: number;
  eventId: string;
  reason: string;
  receivedAt: string;
  bodyJson: string;
  /** Set when the writer of this copy closed the epoch and said where the event went. */
  movedTo: MovedTo | null;
}

/** An event row as the operator API serves it (`GET /v1/stores/S/transactions`), once decoded by a client. */
export type StoredEvent = Omit<EventRecord, 'bodyJson'> & { body: unknown };
/** A quarantined copy as the operator API serves it (`GET /v1/stores/S/quarantine`), once decoded. */
export type QuarantinedEvent = Omit<QuarantineRecord, 'bodyJson'> & { body: unknown };

/** How a promotion version came to be: pushed by an operator, or derived from the one before it. */
export type PromotionOrigin = 'push' | 'activate' | 'auto-activate' | 'withdraw';

/** One signed promotion version as the hub stored and published it. */
export interface PromotionVersionRecord {
  promotionId: string;
  version: number;
  name: string;
  state: PromotionState;
  target: PromotionTarget;
  /** The signed envelope's text exactly as published: what is sent again, byte for byte. */
  signedText: string;
  /** documentDigest of the document: what stores report in their rollout events. */
  digest: string;
  keyId: string;
  origin: PromotionOrigin;
  /** Who made it, e.g. "operator via hub-1" or "automatic (2 of 3 stores applied version 1) via hub-2". */
  createdBy: string;
  createdAt: string;
  /** A staged push's option: activate once this share (0–1] of its targeted stores has applied it. */
  activateWhenShare: number | null;
  /** When a hub last had every audience topic of it acknowledged by the broker; null until then. */
  publishedAt: string | null;
}

export type NewPromotionVersion = Omit<PromotionVersionRecord, 'createdAt' | 'publishedAt'> & {
  createdAt: number;
};

/** What one store did with one promotion version, from its rollout events. */
export interface RolloutRecord {
  promotionId: string;
  version: number;
  storeId: string;
  outcome: 'applied' | 'refused';
  change: string | null;
  previousVersion: number | null;
  reason: string | null;
  message: string | null;
  digest: string | null;
  keyId: string | null;
  /** When the store applied or refused it, by its own clock. */
  at: string;
  eventId: string;
  receivedAt: string;
}

/** A store the hub has heard of (status, catalogue or events), as promotion targeting needs it. */
export interface KnownStore {
  storeId: string;
  /** From its latest catalogue message; null until it sent one (or when it has no region). */
  region: string | null;
  online: boolean;
  lastSeen: string | null;
  /** When its retained status last changed (online/offline since). */
  statusAt: string | null;
  /** When a hub last handled its catalogue statement. */
  catalogueAt: string | null;
}

/** What a commit is waiting for right now, so a stuck one can be named (see ingest-health.ts). */
export type CommitPhase = 'a database connection' | 'the store epoch lock' | 'its statements' | 'the commit';

/** Told where a commit stands; the PostgreSQL store reports each phase, the synchronous SQLite one need not. */
export type CommitWatch = (phase: CommitPhase) => void;

/**
 * The hub's database, behind one interface with a SQLite and a PostgreSQL implementation that pass the
 * same test suite. Every write is one transaction; `insertEventsOnce` and `closeEpoch` return only after
 * their commit, so an acknowledgement built from their outcome never claims more than is durable.
 */
export interface HubStore {
  readonly kind: 'sqlite' | 'postgres';
  insertEventsOnce(
    storeId: string,
    epoch: string,
    events: IncomingEvent[],
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<InsertOutcome>;
  /** Records one part of an epoch close (docs/protocol.md, "Closing an epoch"); redelivered parts change nothing. */
  closeEpoch(
    storeId: string,
    epoch: string,
    close: EpochClose['close'],
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<CloseOutcome>;
  recordStoreStatus(storeId: string, status: StoreStatusMessage, at: number): Promise<void>;
  listStores(): Promise<StoreSummary[]>;
  /** Events in seq order; epoch defaults to the store's current one. */
  listTransactions(
    storeId: string,
    query: { epoch?: string; after?: number; limit: number },
  ): Promise<{ epoch: string | null; events: EventRecord[] }>;
  /** Stored transactions of one business day, every epoch, in capture order: the ERP export. */
  exportDay(storeId: string, businessDay: string): Promise<EventRecord[]>;
  listQuarantine(storeId: string, limit: number): Promise<QuarantineRecord[]>;
  /**
   * Inserts a signed promotion version unless (promotionId, version) exists: true when this call
   * inserted it. Hubs sharing the database race here safely; the loser learns it lost.
   */
  insertPromotionVersion(version: NewPromotionVersion): Promise<boolean>;
  /** Every version of one promotion, oldest first (empty when unknown). */
  promotionVersions(promotionId: string): Promise<PromotionVersionRecord[]>;
  /** The latest version of every promotion, by promotionId. */
  latestPromotionVersions(): Promise<PromotionVersionRecord[]>;
  /** How many versions exist: versions are never updated in what they say, so an unchanged count means no news. */
  promotionVersionCount(): Promise<number>;
  markPromotionPublished(promotionId: string, version: number, at: number): Promise<void>;
  /** Latest versions no hub has published yet (a hub stopped between storing and publishing). */
  unpublishedPromotionVersions(): Promise<PromotionVersionRecord[]>;
  /** Rollout rows of every version of one promotion. */
  promotionRollout(promotionId: string): Promise<RolloutRecord[]>;
  /** Rollout rows of each promotion's latest version (for the list). */
  latestPromotionRollout(): Promise<RolloutRecord[]>;
  /** Records a store's catalogue message: its region (null when it states none), and that it was heard. */
  recordStoreCatalogue(storeId: string, region: string | null, at: number): Promise<void>;
  knownStores(): Promise<KnownStore[]>;
  /** Hub-wide totals, from the per-epoch counters (no scan of the events). */
  counts(): Promise<{
    stored: number;
    rejected: number;
    duplicates: number;
    moved: number;
    quarantined: number;
  }>;
  close(): Promise<void>;
}
