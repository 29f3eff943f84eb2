import type { StoreStatusMessage } from '../contracts/sync-messages.js';

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
  /** The body re-serialised from the parsed message: deep-equal to what the POS submitted. */
  bodyText: string;
  /** textDigest of bodyText. */
  bodyHash: string;
  /** Why the hub refuses this event, or undefined when it is valid. */
  invalidReason: string | undefined;
}

export type EventStatus = 'stored' | 'rejected' | 'duplicate' | 'quarantined';

export interface SeqReason {
  seq: number;
  reason: string;
}

export interface InsertOutcome {
  ackedThrough: number;
  highestSeq: number;
  rejected: SeqReason[];
  conflicts: SeqReason[];
  stored: number;
  duplicates: number;
}

export interface StoreSummary {
  storeId: string;
  currentEpoch: string | null;
  online: boolean;
  lastSeen: string | null;
  reportedBacklog: number | null;
  agentVersion: string | null;
  quarantined: number;
  epochs: {
    epoch: string;
    firstSeen: string;
    lastSeen: string;
    lastSeq: number;
    contiguousThrough: number;
    gaps: { from: number; to: number }[];
    stored: number;
    rejected: number;
    duplicates: number;
  }[];
}

export interface StoredEvent {
  storeId: string;
  epoch: string;
  seq: number;
  eventId: string;
  type: string;
  status: EventStatus;
  reason: string | null;
  terminalId: string | null;
  transactionId: string | null;
  businessDay: string | null;
  capturedAt: string;
  receivedAt: string;
  body: unknown;
}

export interface QuarantinedEvent {
  storeId: string;
  epoch: string;
  seq: number;
  eventId: string;
  reason: string;
  receivedAt: string;
  body: unknown;
}

/**
 * The hub's database, behind one interface with a SQLite and a PostgreSQL implementation that pass the
 * same test suite. Every write is one transaction; `insertEventsOnce` returns only after its commit, so
 * an acknowledgement built from its outcome never claims more than is durable.
 */
export interface HubStore {
  readonly kind: 'sqlite' | 'postgres';
  insertEventsOnce(
    storeId: string,
    epoch: string,
    events: IncomingEvent[],
    receivedAt: number,
  ): Promise<InsertOutcome>;
  recordStoreStatus(storeId: string, status: StoreStatusMessage, at: number): Promise<void>;
  listStores(): Promise<StoreSummary[]>;
  /** Events in seq order; epoch defaults to the store's current one. */
  listTransactions(
    storeId: string,
    query: { epoch?: string; after?: number; limit: number },
  ): Promise<{ epoch: string | null; events: StoredEvent[] }>;
  /** Stored transactions of one business day, every epoch, in capture order: the ERP export. */
  exportDay(storeId: string, businessDay: string): Promise<StoredEvent[]>;
  listQuarantine(storeId: string, limit: number): Promise<QuarantinedEvent[]>;
  counts(): Promise<{ stored: number; rejected: number; duplicates: number; quarantined: number }>;
  close(): Promise<void>;
}
