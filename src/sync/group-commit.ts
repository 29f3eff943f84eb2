/**
 * Group commit: requests that arrive while the previous commit was being made durable are committed
 * together in one transaction, so N concurrent captures cost one fsync instead of N, while a lone
 * request still commits at once. `commitBatch` runs synchronously (better-sqlite3); it returns one
 * outcome per item (a value, or an Error for that item alone) or throws to fail the whole batch.
 */
export interface GroupCommit<I, R> {
  submit(item: I): Promise<R>;
  /** Resolves once everything submitted so far has been committed or failed. */
  drain(): Promise<void>;
  readonly pending: number;
}

interface Waiter<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<I, R>(
  commitBatch: (items: I[]) => (R | Error)[],
  options: { maxBatch: number },
): GroupCommit<I, R> {
  let queue: Waiter<I, R>[] = [];
  let scheduled = false;
  let drainWaiters: (() => void)[] = [];

  const flush = () => {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      let outcomes: (R | Error)[];
      try {
        outcomes = commitBatch(batch.map((w) => w.item));
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
        continue;
      }
      batch.forEach((waiter, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) waiter.reject(outcome);
        else waiter.resolve(outcome as R);
      });
    }
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const done of waiters) done();
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // setImmediate runs after the poll phase, so every request parsed in this turn of the
          // event loop joins the same transaction.
          setImmediate(flush);
        }
      });
    },
    drain() {
      if (queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    get pending() {
      return queue.length;
    },
  };
}
