import { setTimeout as sleep } from 'node:timers/promises';

/** A failure the bench reports in its own words (no stack): a check that did not hold, a process that did not start. */
export class BenchFailure extends Error {}

/**
 * What a bench does around its measurements: it cleans up after itself in reverse order (each step
 * bounded, a failing one never hiding the failure), stops at a watchdog, and exits with what `main`
 * returns: 1 when it throws, 2 at the watchdog, 130 on SIGINT/SIGTERM.
 */
export class BenchRun {
  private readonly cleanups: (() => void | Promise<void>)[] = [];

  onCleanUp(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  async cleanUp(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await Promise.race([fn(), sleep(10_000)]);
      } catch {
        // best effort: cleaning up after a failure must not hide the failure
      }
    }
  }

  async run(main: () => Promise<number>, watchdogMs: number): Promise<never> {
    const watchdog = setTimeout(() => {
      console.error(`BENCH FAILED: still running after ${watchdogMs / 1000}s; stopped.`);
      void this.cleanUp().finally(() => process.exit(2));
    }, watchdogMs);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void this.cleanUp().finally(() => process.exit(130)));
    }
    let exitCode: number;
    try {
      exitCode = await main();
    } catch (error) {
      const message =
        error instanceof BenchFailure
          ? error.message
          : error instanceof Error
            ? (error.stack ?? error.message)
            : String(error);
      console.error(`\nBENCH FAILED: ${message}`);
      exitCode = 1;
    }
    clearTimeout(watchdog);
    await this.cleanUp();
    process.exit(exitCode);
  }
}
