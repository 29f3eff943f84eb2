import type { CommandKind, CommandState } from '../contracts/console-api.js';

/**
 * Operator commands to stores (resync, retry or discard a dead letter) and the dead letters they act on,
 * in the hub database (hub-migrations.ts, migration 5), so every hub on it shows the same pending
 * commands and any of them can send one again. One implementation per hub store, behind this interface.
 */

/** A command as recorded, with the store's answer once it came. Times are milliseconds. */
export interface StoreCommandRow {
  requestId: string;
  storeId: string;
  kind: CommandKind;
  /** The command's JSON text as first published: sent again byte for byte. */
  commandText: string;
  eventId: string | null;
  epoch: string | null;
  fromSeq: number | null;
  note: string | null;
  requestedBy: string;
  requestedAt: number;
  lastSentAt: number | null;
  sends: number;
  state: CommandState;
  answeredAt: number | null;
  answer: string | null;
}

export type NewStoreCommand = Omit<
  StoreCommandRow,
  'lastSentAt' | 'sends' | 'state' | 'answeredAt' | 'answer'
>;

/** What settles a pending command: the store's answer in its status, or its resend report. */
export interface CommandSettlement {
  requestId: string;
  state: 'done' | 'refused';
  answer: string;
  at: number;
}

/** A `rejected` event row: one of the store's dead letters as head office sees it. */
export interface DeadLetterRow {
  epoch: string;
  seq: number;
  eventId: string;
  type: string | null;
  terminalId: string | null;
  transactionId: string | null;
  reason: string | null;
  receivedAt: number;
  /** Where head office now stores this very event (a retry it accepted), or null. */
  storedAt: { epoch: string; seq: number } | null;
}

export interface CommandStore {
  /** Records a new command (pending, not yet sent). */
  record(command: NewStoreCommand): Promise<void>;
  get(requestId: string): Promise<StoreCommandRow | undefined>;
  /** A store's commands, newest first. */
  forStore(storeId: string, limit: number): Promise<StoreCommandRow[]>;
  /** A store's pending commands, oldest first. */
  pending(storeId: string): Promise<StoreCommandRow[]>;
  /** Pending commands of online stores not sent since `before` (or never), oldest first. */
  due(before: number, limit: number): Promise<StoreCommandRow[]>;
  /**
   * Claims the next send of a pending command: true when this call moved `last_sent_at` from
   * `lastSentAt` to `now`. Hubs sharing the database race here; the loser does not send.
   */
  claimSend(requestId: string, lastSentAt: number | null, now: number): Promise<boolean>;
  /** A claimed send the broker did not take: the command becomes due again. */
  releaseSend(requestId: string, claimedAt: number, lastSentAt: number | null): Promise<void>;
  /** Settles pending commands of a store; answers for unknown or already settled ones change nothing. Returns those settled. */
  settle(storeId: string, settlements: readonly CommandSettlement[]): Promise<string[]>;
  /** Pending commands requested before `before` become `expired`; returns how many. */
  expire(before: number): Promise<number>;
  /** Pending commands per store (stores without any are left out). */
  pendingCounts(): Promise<{ storeId: string; pending: number }[]>;
  /** A store's refused events, newest first, with where each is stored since, if it is. */
  deadLetters(storeId: string, limit: number): Promise<DeadLetterRow[]>;
  /**
   * Per store: refused events (counted once per eventId) that are neither stored since nor discarded
   * on a command the store confirmed. Stores without any are left out.
   */
  openDeadLetterCounts(): Promise<{ storeId: string; open: number }[]>;
  /** Whether the store has a refused event with this eventId. */
  hasDeadLetter(storeId: string, eventId: string): Promise<boolean>;
}

/** The command row as both databases hand it out (snake_case; PostgreSQL BIGINTs arrive as strings). */
export interface CommandDbRow {
  request_id: string;
  store_id: string;
  kind: string;
  command: string;
  event_id: string | null;
  epoch: string | null;
  from_seq: number | string | null;
  note: string | null;
  requested_by: string;
  requested_at: number | string;
  last_sent_at: number | string | null;
  sends: number | string;
  state: string;
  answered_at: number | string | null;
  answer: string | null;
}

const numberOrNull = (value: number | string | null): number | null =>
  value === null ? null : Number(value);

export function toCommandRow(r: CommandDbRow): StoreCommandRow {
  return {
    requestId: r.request_id,
    storeId: r.store_id,
    kind: r.kind as CommandKind,
    commandText: r.command,
    eventId: r.event_id,
    epoch: r.epoch,
    fromSeq: numberOrNull(r.from_seq),
    note: r.note,
    requestedBy: r.requested_by,
    requestedAt: Number(r.requested_at),
    lastSentAt: numberOrNull(r.last_sent_at),
    sends: Number(r.sends),
    state: r.state as CommandState,
    answeredAt: numberOrNull(r.answered_at),
    answer: r.answer,
  };
}

export interface DeadLetterDbRow {
  epoch: string;
  seq: number | string;
  event_id: string;
  type: string | null;
  terminal_id: string | null;
  transaction_id: string | null;
  reason: string | null;
  received_at: number | string;
  stored_epoch: string | null;
  stored_seq: number | string | null;
}

export function toDeadLetterRow(r: DeadLetterDbRow): DeadLetterRow {
  return {
    epoch: r.epoch,
    seq: Number(r.seq),
    eventId: r.event_id,
    type: r.type,
    terminalId: r.terminal_id,
    transactionId: r.transaction_id,
    reason: r.reason,
    receivedAt: Number(r.received_at),
    storedAt:
      r.stored_epoch !== null && r.stored_seq !== null
        ? { epoch: r.stored_epoch, seq: Number(r.stored_seq) }
        : null,
  };
}
