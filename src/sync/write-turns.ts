/**
 * Takes turns at the outbox's write lock between the thread that answers the tills (captures) and the
 * sync engine's delivery thread (acknowledgements). Left to SQLite, a capture that finds the lock taken
 * polls it with growing sleeps (1, 2, 5, 10 ms…) on the tills' thread, so a 2 ms acknowledgement can cost
 * it 8 ms; here it wakes the moment the acknowledgement commits. Captures go first: the delivery thread
 * does not take a turn while a capture waits for one.
 *
 * Advisory only: SQLite's own locks still guarantee correctness. A capture waits for a turn at most
 * 100 ms (an acknowledgement takes a few): a turn held longer means the delivery thread itself waits on
 * SQLite (another program holds the lock, or that thread died), and the capture then goes ahead to
 * SQLite's lock and its own busy timeout, as it would without turns.
 */
export class WriteTurns {
  /** Memory both threads see: pass it to the other thread (worker data) and build a WriteTurns on it there. */
  static shared(): SharedArrayBuffer {
    return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  }

  private readonly state: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer);
  }

  /** Runs `write` (a synchronous transaction) in this thread's turn. */
  run<T>(who: Side, write: () => T): T {
    const held = this.take(who);
    try {
      return write();
    } finally {
      if (held) {
        Atomics.store(this.state, HELD, FREE);
        Atomics.notify(this.state, HELD);
      }
    }
  }

  /**
   * Gives back a turn the delivery thread held when it died: a worker that crashes or is terminated
   * never runs its `finally`, and every capture would then wait out its 100 ms, every acknowledgement of
   * the next worker its 5 s. Only a turn held by the delivery side is released; call it once that
   * thread is gone.
   */
  releaseDeliveryTurn(): void {
    if (Atomics.compareExchange(this.state, HELD, HOLDER.delivery, FREE) === HOLDER.delivery)
      Atomics.notify(this.state, HELD);
  }

  private take(who: Side): boolean {
    const deadline = performance.now() + MAX_WAIT_MS[who];
    const left = () => Math.max(0, deadline - performance.now());
    if (who === 'capture') Atomics.add(this.state, CAPTURES_WAITING, 1);
    try {
      for (;;) {
        if (who === 'delivery') {
          const waiting = Atomics.load(this.state, CAPTURES_WAITING);
          if (waiting > 0) {
            if (Atomics.wait(this.state, CAPTURES_WAITING, waiting, left()) === 'timed-out') return false;
            continue;
          }
        }
        if (Atomics.compareExchange(this.state, HELD, FREE, HOLDER[who]) === FREE) return true;
        const holder = Atomics.load(this.state, HELD);
        if (holder !== FREE && Atomics.wait(this.state, HELD, holder, left()) === 'timed-out') return false;
      }
    } finally {
      if (who === 'capture') {
        Atomics.sub(this.state, CAPTURES_WAITING, 1);
        Atomics.notify(this.state, CAPTURES_WAITING);
      }
    }
  }
}

type Side = 'capture' | 'delivery';

/** State slot: who holds the turn (FREE, or a HOLDER). */
const HELD = 0;
const CAPTURES_WAITING = 1;
const FREE = 0;
const HOLDER = { capture: 1, delivery: 2 } as const;
const MAX_WAIT_MS = { capture: 100, delivery: 5000 } as const;
