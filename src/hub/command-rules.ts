import type { CommandView, DeadLetterState, DeadLetterView } from '../contracts/console-api.js';
import type { CommandAnswer, ResendReport } from '../contracts/sync-messages.js';
import type { CommandSettlement, DeadLetterRow, StoreCommandRow } from './command-store.js';

/**
 * The rules of operator commands to stores (docs/protocol.md, "Operator commands"), pure: what settles a
 * pending command, and what became of a dead letter given the commands on it.
 */

/** A pending command nobody answered for this long is given up (`expired`): the store is gone or never upgraded. */
export const COMMAND_EXPIRES_AFTER_MS = 7 * 24 * 3600_000;

/**
 * The store's answers in its status that settle pending commands: same requestId and same kind (an
 * answer naming another kind is not an answer to this command). Answers to commands already settled,
 * or unknown here, are left alone: a status lists the latest answers again and again.
 */
export function settlementsFromStatus(
  pending: readonly StoreCommandRow[],
  answers: readonly CommandAnswer[],
  receivedAt: number,
): CommandSettlement[] {
  const byId = new Map(pending.map((c) => [c.requestId, c]));
  const settlements: CommandSettlement[] = [];
  for (const answer of answers) {
    const command = byId.get(answer.requestId);
    if (!command || command.kind !== answer.kind) continue;
    byId.delete(answer.requestId);
    const at = Date.parse(answer.at);
    settlements.push({
      requestId: answer.requestId,
      state: answer.outcome,
      answer:
        answer.message ??
        (answer.outcome === 'done'
          ? answer.kind === 'retry-dead-letter'
            ? 'the store queued the event again'
            : 'the store discarded the event, keeping it on record with the note'
          : 'the store refused the command'),
      at: Number.isNaN(at) ? receivedAt : at,
    });
  }
  return settlements;
}

/** The store's resend report settles the operator's resync with the same requestId, in words. */
export function settlementFromResendReport(
  command: StoreCommandRow | undefined,
  report: ResendReport,
  receivedAt: number,
): CommandSettlement | undefined {
  const { resend, epoch } = report;
  if (!command || command.kind !== 'resend' || command.state !== 'pending') return undefined;
  if (command.requestId !== resend.requestId || command.epoch !== epoch) return undefined;
  let answer: string;
  if (resend.availableFrom > resend.through)
    answer = `the store had no event of epoch ${epoch} from seq ${resend.fromSeq} (its last seq is ${resend.through})`;
  else if (resend.availableFrom > resend.fromSeq)
    answer = `the store re-sent seqs ${resend.availableFrom}–${resend.through}; it no longer had seqs ${resend.fromSeq}–${resend.availableFrom - 1}`;
  else answer = `the store re-sent seqs ${resend.fromSeq}–${resend.through}`;
  return { requestId: command.requestId, state: 'done', answer, at: receivedAt };
}

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function commandView(c: StoreCommandRow): CommandView {
  return {
    requestId: c.requestId,
    storeId: c.storeId,
    kind: c.kind,
    state: c.state,
    eventId: c.eventId,
    epoch: c.epoch,
    fromSeq: c.fromSeq,
    note: c.note,
    requestedBy: c.requestedBy,
    requestedAt: new Date(c.requestedAt).toISOString(),
    lastSentAt: isoOrNull(c.lastSentAt),
    sends: c.sends,
    answeredAt: isoOrNull(c.answeredAt),
    answer: c.answer,
  };
}

/**
 * What became of a refused event (its latest refusal). Head office storing it since (a retry it accepted)
 * settles it whatever the commands say; otherwise the latest command on it decides, unless the refusal
 * came after it (retried, and refused again): pending → `…-pending`; a discard done → `discarded`; a
 * retry done → `retried` (queued again at the store, on its way); refused or expired → `open`.
 */
export function deadLetterState(
  letter: Pick<DeadLetterRow, 'storedAt' | 'receivedAt'>,
  latest: Pick<StoreCommandRow, 'kind' | 'state' | 'requestedAt'> | undefined,
): DeadLetterState {
  if (letter.storedAt) return 'stored';
  if (!latest || latest.kind === 'resend' || latest.requestedAt < letter.receivedAt) return 'open';
  const retry = latest.kind === 'retry-dead-letter';
  if (latest.state === 'pending') return retry ? 'retry-pending' : 'discard-pending';
  if (latest.state === 'done') return retry ? 'retried' : 'discarded';
  return 'open';
}

/** Whether an operator may send a command on a dead letter in this state: not while one is pending or once settled. */
export const deadLetterActionable = (state: DeadLetterState): boolean => state === 'open';

/**
 * The dead letters of a store as the console lists them: an event refused several times (retried and
 * refused again) once, by its latest refusal; open ones first, then the newest.
 */
export function deadLetterViews(
  letters: readonly DeadLetterRow[],
  commands: readonly StoreCommandRow[],
): DeadLetterView[] {
  const latestCommand = new Map<string, StoreCommandRow>();
  // Newest first: the first command seen per event is its latest.
  for (const c of [...commands].sort((a, b) => b.requestedAt - a.requestedAt))
    if (c.eventId && !latestCommand.has(c.eventId)) latestCommand.set(c.eventId, c);
  const seen = new Set<string>();
  const views: DeadLetterView[] = [];
  for (const letter of [...letters].sort((a, b) => b.receivedAt - a.receivedAt || b.seq - a.seq)) {
    if (seen.has(letter.eventId)) continue;
    seen.add(letter.eventId);
    const command = latestCommand.get(letter.eventId);
    views.push({
      epoch: letter.epoch,
      seq: letter.seq,
      eventId: letter.eventId,
      type: letter.type,
      terminalId: letter.terminalId,
      transactionId: letter.transactionId,
      reason: letter.reason,
      receivedAt: new Date(letter.receivedAt).toISOString(),
      state: deadLetterState(letter, command),
      storedAt: letter.storedAt,
      command: command ? commandView(command) : null,
    });
  }
  const open = (v: DeadLetterView) => (v.state === 'stored' || v.state === 'discarded' ? 1 : 0);
  return views.sort((a, b) => open(a) - open(b));
}
