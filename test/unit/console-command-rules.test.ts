import { describe, expect, it } from 'vitest';
import type { CommandAnswer, ResendReport } from '../../src/contracts/sync-messages.js';
import {
  deadLetterState,
  deadLetterViews,
  settlementFromResendReport,
  settlementsFromStatus,
} from '../../src/hub/command-rules.js';
import type { DeadLetterRow, StoreCommandRow } from '../../src/hub/command-store.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

const command = (requestId: string, overrides: Partial<StoreCommandRow> = {}): StoreCommandRow => ({
  requestId,
  storeId: 'S1',
  kind: 'retry-dead-letter',
  commandText: '{}',
  eventId: 'EV-0000000001',
  epoch: 'aaaaaaaaaaaaaaaa',
  fromSeq: null,
  note: null,
  requestedBy: 'operator via hub-1',
  requestedAt: T0,
  lastSentAt: T0,
  sends: 1,
  state: 'pending',
  answeredAt: null,
  answer: null,
  ...overrides,
});

const answer = (requestId: string, overrides: Partial<CommandAnswer> = {}): CommandAnswer => ({
  requestId,
  kind: 'retry-dead-letter',
  outcome: 'done',
  at: '2026-11-23T10:00:05Z',
  ...overrides,
});

const letter = (seq: number, overrides: Partial<DeadLetterRow> = {}): DeadLetterRow => ({
  epoch: 'aaaaaaaaaaaaaaaa',
  seq,
  eventId: `EV-${String(seq).padStart(10, '0')}`,
  type: 'sale',
  terminalId: 'T1',
  transactionId: `T1-${seq}`,
  reason: 'totals do not add up',
  receivedAt: T0 - 1000,
  storedAt: null,
  ...overrides,
});

describe('what settles an operator command', () => {
  it('settles a pending command with the answer of the same id and kind, once, in the store’s words', () => {
    const pending = [command('r1'), command('r2', { kind: 'discard-dead-letter' }), command('r3')];
    expect(
      settlementsFromStatus(
        pending,
        [
          answer('r1', { message: 'queued again as seq 9' }),
          answer('r2', { kind: 'retry-dead-letter' }), // names another kind: not an answer to r2
          answer('r1', { outcome: 'refused' }), // listed twice: the first (newest) counts
          answer('unknown'),
          answer('r3', { outcome: 'refused', at: 'not a date' }),
        ],
        T0 + 99,
      ),
    ).toEqual([
      { requestId: 'r1', state: 'done', answer: 'queued again as seq 9', at: T0 + 5000 },
      { requestId: 'r3', state: 'refused', answer: 'the store refused the command', at: T0 + 99 },
    ]);
  });

  it('settles the resync a resend report answers, saying what the store no longer had', () => {
    const resync = command('rs', { kind: 'resend', eventId: null, fromSeq: 5 });
    const report = (availableFrom: number, through: number, requestId = 'rs'): ResendReport => ({
      v: 1,
      storeId: 'S1',
      epoch: 'aaaaaaaaaaaaaaaa',
      resend: { requestId, fromSeq: 5, availableFrom, through },
    });
    expect(settlementFromResendReport(resync, report(5, 40), T0)?.answer).toBe('the store re-sent seqs 5–40');
    expect(settlementFromResendReport(resync, report(12, 40), T0)?.answer).toBe(
      'the store re-sent seqs 12–40; it no longer had seqs 5–11',
    );
    expect(settlementFromResendReport(resync, report(41, 40), T0)?.answer).toBe(
      'the store had no event of epoch aaaaaaaaaaaaaaaa from seq 5 (its last seq is 40)',
    );
    // Not this command's report, or not a pending resync: nothing to settle (the hub's own resync keeps it).
    expect(settlementFromResendReport(resync, report(5, 40, 'other'), T0)).toBeUndefined();
    expect(settlementFromResendReport({ ...resync, state: 'done' }, report(5, 40), T0)).toBeUndefined();
    expect(settlementFromResendReport(undefined, report(5, 40), T0)).toBeUndefined();
  });
});

describe('what became of a dead letter', () => {
  it('follows the latest command on it, unless head office stores it since or refused it again after', () => {
    const refused = { storedAt: null, receivedAt: T0 - 1000 };
    const cases: [Partial<StoreCommandRow> | undefined, string][] = [
      [undefined, 'open'],
      [{ kind: 'retry-dead-letter', state: 'pending' }, 'retry-pending'],
      [{ kind: 'discard-dead-letter', state: 'pending' }, 'discard-pending'],
      [{ kind: 'retry-dead-letter', state: 'done' }, 'retried'],
      [{ kind: 'discard-dead-letter', state: 'done' }, 'discarded'],
      [{ kind: 'discard-dead-letter', state: 'refused' }, 'open'],
      [{ kind: 'retry-dead-letter', state: 'expired' }, 'open'],
    ];
    for (const [latest, state] of cases)
      expect(
        deadLetterState(refused, latest ? command('c', latest) : undefined),
        JSON.stringify(latest),
      ).toBe(state);
    expect(
      deadLetterState(
        { storedAt: { epoch: 'e', seq: 9 }, receivedAt: T0 },
        command('c', { state: 'pending' }),
      ),
    ).toBe('stored');
    // Retried, then refused again: the refusal is newer than the command.
    expect(deadLetterState({ storedAt: null, receivedAt: T0 + 1 }, command('c', { state: 'done' }))).toBe(
      'open',
    );
  });

  it('lists each event once (its latest refusal), open ones first, with its latest command', () => {
    const views = deadLetterViews(
      [
        letter(1, { storedAt: { epoch: 'aaaaaaaaaaaaaaaa', seq: 7 } }),
        letter(2),
        letter(3, { receivedAt: T0 - 500 }),
        letter(8, { eventId: letter(3).eventId, receivedAt: T0 + 10 }), // event 3 retried, refused again
      ],
      [
        command('old', {
          eventId: letter(2).eventId,
          kind: 'retry-dead-letter',
          state: 'refused',
          requestedAt: T0 - 10,
        }),
        command('new', {
          eventId: letter(2).eventId,
          kind: 'discard-dead-letter',
          state: 'done',
          requestedAt: T0,
        }),
        command('r3', { eventId: letter(3).eventId, state: 'done', requestedAt: T0 }),
      ],
    );
    expect(views.map((v) => [v.seq, v.state, v.command?.requestId ?? null])).toEqual([
      [8, 'open', 'r3'],
      [2, 'discarded', 'new'],
      [1, 'stored', null],
    ]);
  });
});
