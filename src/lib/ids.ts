import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';

export type IdFactory = () => string;

/** ULIDs sort by creation time and stay monotonic within one millisecond, which keeps event ids in capture order. */
export function createEventIdFactory(): IdFactory {
  const next = monotonicFactory();
  return () => next();
}

/** An outbox epoch: random, so a re-installed store can never collide with its former self. */
export function newEpoch(): string {
  return randomBytes(8).toString('hex');
}
