import { describe, expect, it } from 'vitest';
import { classifyClose, closedBounds, closeProblem, type CloseFacts } from '../../src/hub/classify-close.js';
import { closeFactsOf } from '../../src/hub/hub-rows.js';

const EPOCH = 'aaaabbbbccccdddd';
const NEXT = 'eeeeffff00001111';
const id = (seq: number, writer = 'A') => `01${writer}EVENT${String(seq).padStart(10, '0')}`;
const move = (seq: number, toSeq: number, writer = 'A') => ({ seq, eventId: id(seq, writer), toSeq });
const close = (moved: ReturnType<typeof move>[], lastSeq = 100) => ({
  lastSeq,
  nextEpoch: NEXT,
  reason: 'restored from a backup',
  part: 1,
  parts: 1,
  moved,
});
const noFacts = (): CloseFacts => ({ bySeq: new Map(), quarantinedBySeq: new Map() });

describe('classifyClose', () => {
  it('records a moved row for every seq the hub holds nothing for', () => {
    const plan = classifyClose(close([move(61, 1), move(62, 2)]), noFacts());
    expect(plan).toEqual({
      movedRows: [move(61, 1), move(62, 2)],
      markInQuarantine: [],
      alreadyHeld: 0,
      unmatched: [],
    });
  });

  it('writes nothing where the hub already holds that very event, stored or already moved', () => {
    const facts = noFacts();
    facts.bySeq.set(61, { eventId: id(61), status: 'stored', movedTo: null });
    facts.bySeq.set(62, { eventId: id(62), status: 'moved', movedTo: { epoch: NEXT, seq: 2 } });
    const plan = classifyClose(close([move(61, 1), move(62, 2)]), facts);
    expect(plan).toEqual({ movedRows: [], markInQuarantine: [], alreadyHeld: 2, unmatched: [] });
  });

  it("marks this writer's quarantined copy where another writer's event holds the seq, once", () => {
    const facts = noFacts();
    facts.bySeq.set(61, { eventId: id(61, 'B'), status: 'stored', movedTo: null });
    facts.bySeq.set(62, { eventId: id(62, 'B'), status: 'stored', movedTo: null });
    facts.quarantinedBySeq.set(61, [{ eventId: id(61), movedTo: null }]);
    facts.quarantinedBySeq.set(62, [
      { eventId: id(62, 'C'), movedTo: null },
      { eventId: id(62), movedTo: { epoch: NEXT, seq: 2 } },
    ]);
    const plan = classifyClose(close([move(61, 1), move(62, 2)]), facts);
    expect(plan.markInQuarantine).toEqual([move(61, 1)]);
    expect(plan.alreadyHeld).toBe(1);
    expect(plan.movedRows).toEqual([]);
  });

  it("names a move it cannot place: another writer holds the seq and this writer's event never arrived", () => {
    const facts = noFacts();
    facts.bySeq.set(70, { eventId: id(70, 'B'), status: 'stored', movedTo: null });
    const plan = classifyClose(close([move(70, 10)]), facts);
    expect(plan.unmatched).toEqual([
      { seq: 70, reason: expect.stringContaining(`holds event ${id(70, 'B')} of another writer`) as string },
    ]);
    expect(plan.movedRows).toEqual([]);
  });
});

describe('closeProblem', () => {
  it('accepts a sound part, and a close without moves', () => {
    expect(closeProblem(EPOCH, close([move(61, 1)]))).toBeUndefined();
    expect(closeProblem(EPOCH, close([], 0))).toBeUndefined();
  });

  it.each([
    ['a move beyond the last seq', close([move(101, 1)], 100), /beyond the closed epoch's last seq 100/],
    ['the same seq twice', close([move(61, 1), move(61, 2)]), /moved twice/],
    ['a close into itself', { ...close([]), nextEpoch: EPOCH }, /into itself/],
    ['a part beyond the count', { ...close([]), part: 3, parts: 2 }, /part 3 of 2/],
  ])('refuses %s', (_what, part, reason) => {
    expect(closeProblem(EPOCH, part)).toMatch(reason);
  });
});

describe('what a close part leaves behind', () => {
  it("closes the epoch at the highest of the writers' last seq, every seq held, and an earlier part", () => {
    const plan = classifyClose(close([move(61, 1), move(70, 2)], 65), noFacts());
    expect(closedBounds({ highestSeq: 50, closedAtSeq: null }, close([], 65), plan)).toEqual({
      highestSeq: 70,
      closedAtSeq: 70,
    });
    const none = classifyClose(close([], 65), noFacts());
    expect(closedBounds({ highestSeq: 50, closedAtSeq: null }, close([], 65), none)).toEqual({
      highestSeq: 50,
      closedAtSeq: 65,
    });
    expect(closedBounds({ highestSeq: 50, closedAtSeq: 90 }, close([], 65), none).closedAtSeq).toBe(90);
  });

  it('reads the facts the same from either database (BIGINT as strings, numbers as numbers)', () => {
    const facts = closeFactsOf(
      [
        { seq: '61', event_id: id(61), status: 'moved', moved_to_epoch: NEXT, moved_to_seq: '1' },
        { seq: 62, event_id: id(62), status: 'stored', moved_to_epoch: null, moved_to_seq: null },
      ],
      [
        { seq: '62', event_id: id(62, 'B'), moved_to_epoch: null, moved_to_seq: null },
        { seq: 62, event_id: id(62, 'C'), moved_to_epoch: NEXT, moved_to_seq: 3 },
      ],
    );
    expect(facts.bySeq.get(61)).toEqual({
      eventId: id(61),
      status: 'moved',
      movedTo: { epoch: NEXT, seq: 1 },
    });
    expect(facts.bySeq.get(62)).toEqual({ eventId: id(62), status: 'stored', movedTo: null });
    expect(facts.quarantinedBySeq.get(62)).toEqual([
      { eventId: id(62, 'B'), movedTo: null },
      { eventId: id(62, 'C'), movedTo: { epoch: NEXT, seq: 3 } },
    ]);
  });
});
