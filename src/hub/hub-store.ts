import type { DayClose, DayDifferences, DayResult, ZTotal } from '../contracts/day-close.js';
import type { PromotionState, PromotionTarget } from '../contracts/promotion.js';
import type { EpochClose, ResendReport, StoreStatusMessage } from '../contracts/sync-messages.js';
import type { CommandStore } from './command-store.js';

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

/** What a valid sale, return or void adds to its till's day: the tally head office compares a Z-report with. */
export interface TallyFact {
  type: 'sale' | 'return' | 'void';
  currency: string;
  /** totals.total as submitted (a void without totals counts 0), as the Z-report counts it. */
  amount: number;
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
  /** For a valid sale, return or void: what it adds to its till's day (written with the event). */
  tally?: TallyFact;
  /** For a valid day-close event: the till's close, judged against the day in the same transaction. */
  dayClose?: DayClose;
  /**
   * Head office already held its seq when it arrived (a redelivery, usually): only its text's digest was
   * taken, not its names nor its validity, which it needs only if it must be written. Classification
   * asks for a full judgement (UnjudgedEventError) before writing such an event.
   */
  unjudged?: true;
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

/** An event of a batch whose copy head office keeps in quarantine (hub_quarantine) for the operator. */
export interface QuarantinedSeq extends SeqReason {
  /** The same copy was already there (a redelivery of the conflicting event): nothing new was written. */
  alreadyHeld: boolean;
}

export interface InsertOutcome {
  ackedThrough: number;
  highestSeq: number;
  rejected: SeqReason[];
  conflicts: SeqReason[];
  stored: number;
  duplicates: number;
  /**
   * Set once a writer closed this epoch: the epoch it moved to. Told to the store in the batch's
   * acknowledgement, so a second writer still in the epoch (a cloned PC) leaves it too.
   */
  closedTowards?: string;
  /**
   * Verdicts on business days this commit made or changed (a close arrived, or a late sale of a closed
   * day): published on the store's acks topic after the commit. Absent when none changed.
   */
  days?: DayResult[];
  /**
   * Events quarantined: a different event under a held seq (also among `conflicts`), or a POS
   * transaction already stored with another body. Conflicts not listed here were refused without a copy
   * (another writer moved the seq away, or head office no longer holds it). Absent when none.
   */
  quarantined?: QuarantinedSeq[];
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
  /**
   * Seqs head office lost (its database was restored from a backup) that the store no longer had when
   * asked to send them again: they will never arrive, and are not listed in `gaps` (which are in flight).
   */
  unrecoverable: { from: number; to: number }[];
  /** The latest resend head office asked of this epoch, and the store's answer; null when none. */
  resend: ResendState | null;
};

/** A resend head office asked of a store (docs/protocol.md, "Resync"), as /v1/stores shows it. */
export interface ResendState {
  requestId: string;
  fromSeq: number;
  /** How far the store said head office had acknowledged the epoch when it was asked. */
  ackedThrough: number;
  askedAt: string;
  lastAskedAt: string;
  asks: number;
  /** The store's answer, null until it came. */
  answeredAt: string | null;
  availableFrom: number | null;
  storeThrough: number | null;
}

export interface StoreSummary {
  storeId: string;
  currentEpoch: string | null;
  online: boolean;
  lastSeen: string | null;
  reportedBacklog: number | null;
  agentVersion: string | null;
  quarantined: number;
  /** From its last online status: when its oldest unsent event was captured; null when nothing waits or it did not say. */
  oldestUnsentAt: string | null;
  /** From its last online status: unsent sales, returns and voids per business day; null when it did not say. */
  unsentByDay: { businessDay: string; count: number }[] | null;
  /** From its last online status: how far it says head office acknowledged each epoch; null when it did not say. */
  acked: { epoch: string; through: number }[] | null;
  epochs: EpochSummary[];
}

/** A till's business day at head office: `not-closed` while it sold but sent no close. */
export type TillDayState = 'not-closed' | 'confirmed' | 'mismatch';

/** One close of a till's day as the hub received it (a corrected Z-report is a second one). */
export interface DayCloseRecord {
  epoch: string;
  seq: number;
  eventId: string;
  closedAt: string;
  receivedAt: string;
  /** The close's exact text (a dayCloseSchema document). */
  bodyJson: string;
}

/** Everything head office holds about one till's business day. */
export interface TillDayRecord {
  terminalId: string;
  state: TillDayState;
  /** Stored sales, returns and voids of the till that day, per type and currency. */
  headOffice: ZTotal[];
  /** The close in force (latest closedAt); null while none arrived. */
  close: DayCloseRecord | null;
  /** Every close received, oldest first (the one in force included). */
  history: DayCloseRecord[];
  differences: DayDifferences | null;
  /** When head office last judged it (ISO), null while not closed. */
  judgedAt: string | null;
}

export interface StoreDayRecord {
  storeId: string;
  businessDay: string;
  tills: TillDayRecord[];
}

/** One till of one store on a business day, chain-wide. */
export interface ChainTillDay {
  storeId: string;
  terminalId: string;
  state: TillDayState;
}

/** A verdict waiting for the broker to take it, or sent again to a store that came back online. */
export interface StoreDayVerdict {
  storeId: string;
  result: DayResult;
}

/** Per store: business days of a period that are not confirmed (for /metrics). */
export interface UnconfirmedDays {
  storeId: string;
  /** Days with a till whose close disagrees with head office. */
  mismatched: number;
  /** Days with a till that sold and never closed (and none mismatched). */
  notClosed: number;
}

/** What a hub decided on a store's report of how far head office acknowledged an epoch. */
export interface ResendAsk {
  requestId: string;
  fromSeq: number;
  /** 1 for the first ask of this (store, epoch, fromSeq), more when asked again. */
  asks: number;
}

export interface ResendReportOutcome {
  /** Seqs the store no longer had: fromSeq … min(availableFrom − 1, through); null when it had them all. */
  unrecoverable: { from: number; to: number } | null;
  /** False when no hub asked for this resend (another database, or the row was lost): recorded anyway. */
  asked: boolean;
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

/** One pass of storage upkeep (postgres-partitions.ts): months made, dropped, and kept past retention. */
export interface StorageMaintenance {
  /** Months (YYYY-MM-01) whose partition this pass made. */
  created: string[];
  /** Rows of those months the default partition had caught, moved into them. */
  movedFromDefault: number;
  /** Months past `db.retentionMonths` this pass dropped. */
  dropped: string[];
  /** Months past retention kept because something still needs their rows, and what. */
  kept: { month: string; reason: string }[];
  /** Months it could not create or drop this time (a lock not had in time): tried again next pass. */
  failed: { month: string; error: string }[];
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
  /** Operator commands to stores and the dead letters they act on (command-store.ts). */
  readonly commands: CommandStore;
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
  /** Records a retained status; `cameOnline` is true for the hub whose write turned the store online. */
  recordStoreStatus(
    storeId: string,
    status: StoreStatusMessage,
    at: number,
  ): Promise<{ cameOnline: boolean }>;
  /** Every store the hub has heard of (status, catalogue or events), or only `storeId` (none when unknown). */
  listStores(storeId?: string): Promise<StoreSummary[]>;
  /** One store's business day, till by till (docs/protocol.md, "Business days"). */
  storeDay(storeId: string, businessDay: string): Promise<StoreDayRecord>;
  /** Every till of every store that sold or closed on a business day. */
  chainDay(businessDay: string): Promise<ChainTillDay[]>;
  /** Verdicts no broker took yet (a hub stopped between commit and publish), judged before `before`. */
  unsentDayVerdicts(before: number, limit: number): Promise<StoreDayVerdict[]>;
  /** A store's verdicts judged since `since`: sent again when it comes back online. */
  recentDayVerdicts(storeId: string, since: number, limit: number): Promise<DayResult[]>;
  /** Marks verdicts as taken by the broker, unless a newer judgement replaced them meanwhile. */
  markDayVerdictsSent(storeId: string, results: readonly DayResult[], sentAt: number): Promise<void>;
  /** Per store, the days from `fromDay` to `toDay` (inclusive) that are not confirmed. */
  unconfirmedDays(fromDay: string, toDay: string): Promise<UnconfirmedDays[]>;
  /**
   * Given a store's word that head office acknowledged `epoch` through `ackedThrough`: whether this hub
   * asks it to send again from what the hub holds contiguously + 1. Once per (store, epoch, fromSeq)
   * across every hub on the database, again after `reaskAfterMs` while unanswered.
   */
  planResend(
    storeId: string,
    epoch: string,
    ackedThrough: number,
    options: { hubId: string; now: number; reaskAfterMs: number; requestId: string },
  ): Promise<ResendAsk | undefined>;
  /** Unanswered resends of online stores last asked before `before`, for the re-ask sweep. */
  dueResends(
    before: number,
    limit: number,
  ): Promise<{ storeId: string; epoch: string; ackedThrough: number }[]>;
  recordResendReport(
    storeId: string,
    epoch: string,
    report: ResendReport['resend'],
    at: number,
  ): Promise<ResendReportOutcome>;
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
  /**
   * Storage upkeep, run now and then by the hub (hub-maintenance.ts): PostgreSQL makes the coming months'
   * partitions and drops months past `retentionMonths` (null: keep everything) that nothing needs; the
   * embedded SQLite database is one table and has nothing to do.
   */
  maintain(options: { now: number; retentionMonths: number | null }): Promise<StorageMaintenance>;
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
