/**
 * A hub job's sweep: one pass every `everyMs` (on a timer that never keeps the process alive), and at
 * most one pass at a time, a call while one runs getting that one. A pass that throws is handed to
 * `onFailure` (to be logged) and the next pass tries again. `stop()` ends the timer and waits for the
 * pass under way, which checks `stopped` to end early; no pass starts after it.
 */
export class PeriodicSweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private ended = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** True once `stop()` was called: a pass or a loop over stores ends at the next item. */
  get stopped(): boolean {
    return this.ended;
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.run(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.ended = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass now, unless one is running (then that one); none once stopped, as the store may be closing. */
  run(): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.running ??= (async () => {
      try {
        await this.pass();
      } catch (error) {
        this.onFailure(error);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
