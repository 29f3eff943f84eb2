/** Injected wherever time matters, so tests can make time pass. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
