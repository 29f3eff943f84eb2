import { describe, expect, it } from 'vitest';
import { createGroupCommit } from '../../src/sync/group-commit.js';

/** A commit function that records every batch it was given and answers each item with `item × 10`. */
function recordingCommit(outcome: (item: number) => number | Error = (item) => item * 10) {
  const batches: number[][] = [];
  const commit = (items: number[]) => {
    batches.push([...items]);
    return items.map(outcome);
  };
  return { batches, commit };
}

describe('group commit', () => {
  it('commits submissions made in the same tick together, in one batch, in submission order', async () => {
    const { batches, commit } = recordingCommit();
    const group = createGroupCommit<number, number>(commit, { maxBatch: 100 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => group.submit(n)));
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    expect(results).toEqual([10, 20, 30, 40, 50]);
  });

  it('commits a lone submission without waiting for company', async () => {
    const { batches, commit } = recordingCommit();
    const group = createGroupCommit<number, number>(commit, { maxBatch: 100 });
    await expect(group.submit(7)).resolves.toBe(70);
    expect(batches).toEqual([[7]]);
  });

  it('commits submissions of a later tick in a later batch', async () => {
    const { batches, commit } = recordingCommit();
    const group = createGroupCommit<number, number>(commit, { maxBatch: 100 });
    const first = Promise.all([group.submit(1), group.submit(2)]);
    await first;
    await Promise.all([group.submit(3), group.submit(4)]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('splits a burst into batches of at most maxBatch, each item answered with its own result', async () => {
    const { batches, commit } = recordingCommit();
    const group = createGroupCommit<number, number>(commit, { maxBatch: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => group.submit(n)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(results).toEqual([10, 20, 30, 40, 50]);
  });

  it('rejects every item of a batch whose commit throws, and the next batch still commits', async () => {
    const failure = new Error('disk full');
    const batches: number[][] = [];
    const group = createGroupCommit<number, number>(
      (items) => {
        batches.push([...items]);
        if (items.includes(2)) throw failure;
        return items.map((n) => n * 10);
      },
      { maxBatch: 2 },
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => group.submit(n)));
    expect(outcomes).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: 30 },
    ]);
    await expect(group.submit(4)).resolves.toBe(40);
    expect(batches).toEqual([[1, 2], [3], [4]]);
  });

  it('rejects only the item whose outcome is an Error; its batch-mates succeed', async () => {
    const conflict = new Error('same key, different body');
    const { batches, commit } = recordingCommit((n) => (n === 2 ? conflict : n * 10));
    const group = createGroupCommit<number, number>(commit, { maxBatch: 100 });
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => group.submit(n)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: conflict },
      { status: 'fulfilled', value: 30 },
    ]);
    expect(batches).toHaveLength(1);
  });

  it('drain() resolves only after everything submitted so far has been committed or failed', async () => {
    const settled: string[] = [];
    const group = createGroupCommit<number, number>(
      (items) => {
        if (items[0] === 3) throw new Error('fails');
        return items.map((n) => n);
      },
      { maxBatch: 2 },
    );
    for (const n of [1, 2, 3]) {
      group.submit(n).then(
        () => settled.push(`ok ${n}`),
        () => settled.push(`failed ${n}`),
      );
    }
    expect(group.pending).toBe(3);
    await group.drain();
    // The promise callbacks run before drain's own continuation: everything is settled by now.
    expect(settled).toEqual(['ok 1', 'ok 2', 'failed 3']);
    expect(group.pending).toBe(0);
  });

  it('drain() with nothing submitted resolves at once', async () => {
    const { batches, commit } = recordingCommit();
    const group = createGroupCommit<number, number>(commit, { maxBatch: 10 });
    await group.drain();
    expect(batches).toEqual([]);
  });
});
