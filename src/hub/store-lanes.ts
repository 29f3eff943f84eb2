/**
 * One lane per store: a store's messages are committed one after the other, in arrival order (the
 * order its agent published them), while different stores' commits run side by side, at most
 * `concurrency` at once (each holds a database connection). One store whose commit hangs on a lock
 * therefore holds up its own lane only; and since a lane takes at most `perLaneLimit` messages, a stuck
 * store cannot fill the hub with its retransmissions either: beyond that the caller drops them (the
 * store publishes again whatever stays unacknowledged).
 */
export class StoreLanes {
  private readonly lanes = new Map<string, { queue: (() => Promise<void>)[]; running: boolean }>();
  /** Lanes with work queued and none running, in the order they became ready. */
  private readonly ready: string[] = [];
  private running = 0;
  private pending = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly options: {
      concurrency: number;
      perLaneLimit: number;
      /** Called whenever a piece of work ends (the caller may take more from its source). */
      onSettled?: () => void;
      /** Work is expected to handle its own errors; anything that still escapes ends up here. */
      onError: (error: unknown) => void;
    },
  ) {}

  /** Messages queued or being committed, over all lanes. */
  get size(): number {
    return this.pending;
  }

  hasRoom(key: string): boolean {
    const lane = this.lanes.get(key);
    return !lane || lane.queue.length + (lane.running ? 1 : 0) < this.options.perLaneLimit;
  }

  push(key: string, work: () => Promise<void>): void {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { queue: [], running: false };
      this.lanes.set(key, lane);
    }
    lane.queue.push(work);
    this.pending++;
    if (!lane.running && lane.queue.length === 1) this.ready.push(key);
    this.pump();
  }

  /** Resolves once nothing is queued or running. */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const lane = this.lanes.get(key)!;
      const work = lane.queue.shift()!;
      lane.running = true;
      this.running++;
      void Promise.resolve()
        .then(work)
        .catch(this.options.onError)
        .finally(() => {
          lane.running = false;
          this.running--;
          this.pending--;
          if (lane.queue.length > 0) this.ready.push(key);
          else this.lanes.delete(key);
          this.pump();
          this.options.onSettled?.();
          if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
  }
}
