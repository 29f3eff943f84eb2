import { describe, expect, it } from 'vitest';
import { ATTENTION_KINDS, type ConsoleStore } from '../../src/contracts/console-api.js';
import { attentionOf, compareByAttention, type AttentionFacts } from '../../src/hub/console-attention.js';

const calm: AttentionFacts = {
  online: true,
  backlog: 0,
  quarantined: 0,
  unrecoverable: 0,
  gaps: 0,
  deadLetters: 0,
  days: { mismatched: 0, notClosed: 0 },
  lag: 0,
};

const row = (
  storeId: string,
  facts: Partial<AttentionFacts>,
): Pick<ConsoleStore, 'storeId' | 'attention'> => ({
  storeId,
  attention: attentionOf({ ...calm, ...facts }),
});

const order = (rows: Pick<ConsoleStore, 'storeId' | 'attention'>[]) =>
  [...rows].sort(compareByAttention).map((r) => r.storeId);

describe('which stores need an operator first', () => {
  it('needs nothing of a calm store, online or with a backlog being sent', () => {
    expect(attentionOf(calm)).toEqual({ level: 'ok', reasons: [] });
    expect(attentionOf({ ...calm, backlog: 500 })).toEqual({ level: 'ok', reasons: [] });
    expect(attentionOf({ ...calm, backlog: null })).toEqual({ level: 'ok', reasons: [] });
  });

  it('names every reason, most serious first, with its count and the level of the worst', () => {
    expect(
      attentionOf({
        online: false,
        backlog: 12,
        quarantined: 2,
        unrecoverable: 3,
        gaps: 1,
        deadLetters: 4,
        days: { mismatched: 1, notClosed: 2 },
        lag: 9,
      }),
    ).toEqual({
      level: 'alert',
      reasons: [
        { kind: 'quarantined', count: 2 },
        { kind: 'unrecoverable', count: 3 },
        { kind: 'gaps', count: 1 },
        { kind: 'offline-backlog', count: 12 },
        { kind: 'dead-letters', count: 4 },
        { kind: 'day-mismatch', count: 1 },
        { kind: 'day-not-closed', count: 2 },
        { kind: 'lag', count: 9 },
      ],
    });
    expect(attentionOf({ ...calm, deadLetters: 1 }).level).toBe('warning');
    expect(attentionOf({ ...calm, lag: 1 }).level).toBe('notice');
  });

  it('tells offline with sales waiting from offline with nothing (or nothing reported) waiting', () => {
    expect(attentionOf({ ...calm, online: false, backlog: 3 }).reasons).toEqual([
      { kind: 'offline-backlog', count: 3 },
    ]);
    expect(attentionOf({ ...calm, online: false, backlog: 0 }).reasons).toEqual([
      { kind: 'offline', count: 0 },
    ]);
    expect(attentionOf({ ...calm, online: false, backlog: null }).reasons).toEqual([
      { kind: 'offline', count: 0 },
    ]);
  });

  it('sorts by the most serious reason in the documented order, whatever the store ids', () => {
    // One store per kind, named so that alphabetical order is the reverse of the expected one.
    const byKind: Record<(typeof ATTENTION_KINDS)[number], Partial<AttentionFacts>> = {
      quarantined: { quarantined: 1 },
      unrecoverable: { unrecoverable: 1 },
      gaps: { gaps: 1 },
      'offline-backlog': { online: false, backlog: 1 },
      'dead-letters': { deadLetters: 1 },
      'day-mismatch': { days: { mismatched: 1, notClosed: 0 } },
      'day-not-closed': { days: { mismatched: 0, notClosed: 1 } },
      lag: { lag: 1 },
      offline: { online: false, backlog: 0 },
    };
    const rows = ATTENTION_KINDS.map((kind, i) =>
      row(`${String.fromCharCode(90 - i)}-${kind}`, byKind[kind]),
    );
    rows.push(row('A-calm', {}));
    expect(order(rows)).toEqual([
      ...ATTENTION_KINDS.map((kind, i) => `${String.fromCharCode(90 - i)}-${kind}`),
      'A-calm',
    ]);
  });

  it('puts more at stake first within a reason, then more reasons, then the store id', () => {
    expect(
      order([
        row('S1', { online: false, backlog: 5 }),
        row('S2', { online: false, backlog: 500 }),
        row('S3', { online: false, backlog: 5, lag: 2 }),
        row('S4', { online: false, backlog: 5 }),
        row('S0', {}),
      ]),
    ).toEqual(['S2', 'S3', 'S1', 'S4', 'S0']);
  });
});
