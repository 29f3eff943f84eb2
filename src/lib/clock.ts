/**
 * Injected wherever time matters, so tests can make time pass (and step the wall clock back).
 * `now()` is the wall clock: for timestamps people read and for retention by date. `monotonic()` only
 * ever moves forward: every elapsed-time decision (timeouts, backoff, stall detection) uses it, so an
 * NTP step of the PC's clock can neither freeze nor hasten them.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as the PC's clock says. */
  now(): number;
  /** Milliseconds from an arbitrary origin, never decreasing. */
  monotonic(): number;
}

export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };
