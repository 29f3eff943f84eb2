import type Database from 'better-sqlite3';
import type { CommandAnswer, StoreCommand } from '../contracts/sync-messages.js';
import { NotFoundError } from '../lib/errors.js';
import type { DeadLetters } from './dead-letters.js';

export type DeadLetterCommand = Extract<StoreCommand, { kind: 'retry-dead-letter' | 'discard-dead-letter' }>;

/** What became of a dead-letter command: the answer the status lists, and whether it was handled just now. */
export interface HandledCommand {
  answer: CommandAnswer;
  /** False when the command had been handled before (same requestId): its recorded answer, nothing done again. */
  handledNow: boolean;
  /** Where a retried event went. */
  retriedAs?: { epoch: string; seq: number };
}

export interface CommandAnswers {
  /**
   * Acts on a command from head office exactly as the store manager's Retry or Discard does (the same
   * dead-letter functions), once per requestId: the action and its answer commit together, so a command
   * repeated after a crash or a lost answer gets the recorded answer and is not applied twice.
   */
  handle(command: DeadLetterCommand, at: number): HandledCommand;
  /** The latest answers, newest first. */
  latest(limit: number): CommandAnswer[];
}

/** An event's state in this outbox, for the words of a refusal. */
export type HeldState = 'pending' | 'acked' | 'dead' | 'discarded' | undefined;

/** Why the store cannot act on a dead-letter command, in words head office's operator reads. Pure. */
export function refusalMessage(eventId: string, held: HeldState): string {
  switch (held) {
    case 'pending':
      return `event ${eventId} is not a dead letter here: it is queued to be sent (already retried)`;
    case 'acked':
      return `event ${eventId} is not a dead letter here: head office acknowledged it`;
    case 'discarded':
      return `event ${eventId} was already discarded at the store`;
    case 'dead':
      return `event ${eventId} is still a dead letter here, but the store could not act on it`;
    default:
      return `this store holds no event ${eventId} (never captured here, or pruned after delivery)`;
  }
}

interface AnswerRow {
  request_id: string;
  kind: CommandAnswer['kind'];
  outcome: CommandAnswer['outcome'];
  message: string;
  at: number;
}

const answerOf = (row: AnswerRow): CommandAnswer => ({
  requestId: row.request_id,
  kind: row.kind,
  outcome: row.outcome,
  message: row.message,
  at: new Date(row.at).toISOString(),
});

export function prepareCommandAnswers(db: Database.Database, deadLetters: DeadLetters): CommandAnswers {
  const stmt = {
    get: db.prepare<[string], AnswerRow>(
      'SELECT request_id, kind, outcome, message, at FROM command_answers WHERE request_id = ?',
    ),
    insert: db.prepare<[string, string, string, string, string, string | null, number]>(
      `INSERT INTO command_answers (request_id, kind, event_id, outcome, message, note, at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    latest: db.prepare<[number], AnswerRow>(
      'SELECT request_id, kind, outcome, message, at FROM command_answers ORDER BY at DESC, rowid DESC LIMIT ?',
    ),
    stateOf: db.prepare<[string], HeldState>('SELECT state FROM events WHERE event_id = ?').pluck(),
  };

  const handle = db.transaction((command: DeadLetterCommand, at: number): HandledCommand => {
    const recorded = stmt.get.get(command.requestId);
    if (recorded) return { answer: answerOf(recorded), handledNow: false };
    let outcome: CommandAnswer['outcome'] = 'done';
    let message: string;
    let retriedAs: { epoch: string; seq: number } | undefined;
    try {
      if (command.kind === 'retry-dead-letter') {
        retriedAs = deadLetters.retry(command.eventId);
        message = `queued again as seq ${retriedAs.seq}`;
      } else {
        deadLetters.discard(command.eventId, command.note);
        message = 'discarded; kept on record with the note';
      }
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      outcome = 'refused';
      message = refusalMessage(command.eventId, stmt.stateOf.get(command.eventId));
    }
    stmt.insert.run(
      command.requestId,
      command.kind,
      command.eventId,
      outcome,
      message,
      command.note ?? null,
      at,
    );
    const answer = answerOf({ request_id: command.requestId, kind: command.kind, outcome, message, at });
    return { answer, handledNow: true, ...(retriedAs ? { retriedAs } : {}) };
  });

  return {
    handle: (command, at) => handle.immediate(command, at),
    latest: (limit) => stmt.latest.all(limit).map(answerOf),
  };
}
