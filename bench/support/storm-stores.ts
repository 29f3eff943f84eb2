import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import {
  ackSchema,
  SYNC_PROTOCOL_VERSION,
  topics,
  type BatchAck,
} from '../../src/contracts/sync-messages.js';
import { ackTimedOut } from '../../src/sync/ack-rules.js';
import {
  stormBodyJson,
  stormCapturedAt,
  stormEpoch,
  stormEventId,
  stormStoreId,
  type StormRun,
} from './storm-bodies.js';

/**
 * 500 lightweight stores for the storm bench: each an MQTT client speaking the sync protocol as an agent
 * does (docs/protocol.md), with its own epoch and backlog, none of an agent's outbox or capture. Like
 * the agent's sync engine (src/sync/sync-engine.ts, ack-rules.ts), a store keeps at most `window`
 * batches unacknowledged, retires a batch only on the acknowledgement that names it, and when its oldest
 * batch has waited too long (ackTimedOut: `ackTimeoutMs` since the last acknowledgement that retired
 * something, doubling with each timeout in a row) publishes everything unacknowledged again, in seq order.
 */

export interface StormTuning {
  /** Events per batch (the agent's sync.batchMaxEvents). */
  batchEvents: number;
  /** Batches a store keeps unacknowledged (the agent's maxInFlightBatches). */
  window: number;
  /** The agent's ack timeout. */
  ackTimeoutMs: number;
  /**
   * Messages being handed to the broker at once, over all stores of this process: the stores stand in
   * for 500 PCs with links of their own, and this process must not build a gigabyte of payloads at once
   * to imitate them. A store's batch counts as sent (its ack timeout runs) from the moment it goes out.
   */
  handOffs: number;
}

export interface StoreResult {
  storeId: string;
  /** Connected and subscribed, ms after the storm began. */
  connectedMs: number;
  /** Every batch acknowledged, ms after the storm began (null: not within the run). */
  doneMs: number | null;
  /** Batches published again after an ack timeout or a reconnection. */
  republished: number;
  /** Acknowledgements that named no batch in flight (an answer to a copy already retired). */
  staleAcks: number;
  acks: number;
}

export interface StormResult {
  stores: StoreResult[];
  /** Publish → its acknowledgement, ms, one per acknowledged batch. */
  ackLatencyMs: number[];
  batchesPublished: number;
  eventsPublished: number;
  reconnects: number;
}

interface Batch {
  firstSeq: number;
  lastSeq: number;
  lastEventId: string;
}

/** A FIFO semaphore: at most `limit` holders at once. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async enter(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

class SimulatedStore {
  readonly storeId: string;
  private readonly epoch: string;
  private readonly batches: Batch[];
  private readonly acked: boolean[];
  /** Batch index → when it was published (performance.now()). */
  private readonly window = new Map<number, number>();
  private readonly topic = topics('outpost/v1');
  private client: MqttClient | undefined;
  private pumping = false;
  private generation = 0;
  /** As the agent's (ack-rules.ts, AckPatience), on performance.now(). */
  private patience = { timeoutsInARow: 0, lastProgressAt: -Infinity };
  readonly result: StoreResult;

  constructor(
    private readonly run: StormRun,
    private readonly index: number,
    private readonly tuning: StormTuning,
    private readonly shared: {
      url: string;
      startedAt: number;
      gate: Gate;
      latencies: number[];
      counters: { batches: number; events: number; reconnects: number };
      onDone: () => void;
    },
  ) {
    this.storeId = stormStoreId(index);
    this.epoch = stormEpoch(run, index);
    this.batches = [];
    for (let first = 1; first <= run.eventsPerStore; first += tuning.batchEvents) {
      const last = Math.min(run.eventsPerStore, first + tuning.batchEvents - 1);
      this.batches.push({ firstSeq: first, lastSeq: last, lastEventId: stormEventId(run, index, last) });
    }
    this.acked = this.batches.map(() => false);
    this.result = {
      storeId: this.storeId,
      connectedMs: 0,
      doneMs: null,
      republished: 0,
      staleAcks: 0,
      acks: 0,
    };
  }

  async connect(): Promise<void> {
    const status = (state: 'online' | 'offline') =>
      JSON.stringify({
        v: SYNC_PROTOCOL_VERSION,
        state,
        epoch: this.epoch,
        ...(state === 'online' ? { backlog: this.run.eventsPerStore, version: 'storm' } : {}),
      });
    const client = await mqtt.connectAsync(this.shared.url, {
      clientId: `storm-${this.run.runId}-${this.storeId}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 30_000,
      keepalive: 30,
      will: {
        topic: this.topic.status(this.storeId),
        payload: Buffer.from(status('offline')),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on('message', (_topic, payload) => this.onAck(payload));
    // Clean session: what was published while away never arrives; start again from what is unacknowledged.
    // (connectAsync resolved on the first connection: every `connect` from here on is a reconnection.)
    client.on('connect', () => {
      this.shared.counters.reconnects++;
      void this.subscribeAndPump(status('online'), true);
    });
    await this.subscribeAndPump(status('online'), false);
    this.result.connectedMs = performance.now() - this.shared.startedAt;
  }

  private async subscribeAndPump(online: string, again: boolean): Promise<void> {
    const client = this.client!;
    await client.subscribeAsync(this.topic.acks(this.storeId), { qos: 1 });
    await client.publishAsync(this.topic.status(this.storeId), online, { qos: 1, retain: true });
    if (again) this.restart();
    else void this.pump();
  }

  /** Publishes unacknowledged batches, oldest first, while the window has room. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.window.size >= this.tuning.window) return;
        const next = this.batches.findIndex((_, i) => !this.acked[i] && !this.window.has(i));
        if (next < 0) return;
        const generation = this.generation;
        await this.shared.gate.enter();
        try {
          if (generation !== this.generation || this.acked[next] || this.window.has(next)) continue;
          this.window.set(next, performance.now());
          await this.publish(this.batches[next]!);
        } finally {
          this.shared.gate.leave();
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private publish(batch: Batch): Promise<void> {
    // The message as JSON.stringify would write it, spliced from parts made once (storm-bodies.ts).
    const events: string[] = [];
    for (let seq = batch.firstSeq; seq <= batch.lastSeq; seq++) {
      events.push(
        `{"seq":${seq},"eventId":"${stormEventId(this.run, this.index, seq)}","type":"sale",` +
          `"capturedAt":"${stormCapturedAt(seq)}","body":${stormBodyJson(this.index, seq)}}`,
      );
    }
    const payload = `{"v":${SYNC_PROTOCOL_VERSION},"storeId":"${this.storeId}","epoch":"${this.epoch}","events":[${events.join(',')}]}`;
    this.shared.counters.batches++;
    this.shared.counters.events += events.length;
    // Resolves on the broker's PUBACK (or a broken link: the ack timeout or the reconnection repairs it).
    return new Promise((resolve) =>
      this.client!.publish(this.topic.events(this.storeId), payload, { qos: 1 }, () => resolve()),
    );
  }

  private onAck(payload: Buffer): void {
    let ack;
    try {
      ack = ackSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      return;
    }
    if (ack.kind !== 'batch' || ack.epoch !== this.epoch) return;
    this.result.acks++;
    this.retire(ack);
  }

  private retire(ack: BatchAck): void {
    const index = this.batches.findIndex(
      (b) =>
        b.firstSeq === ack.batch.firstSeq &&
        b.lastSeq === ack.batch.lastSeq &&
        b.lastEventId === ack.batch.lastEventId,
    );
    const sentAt = this.window.get(index);
    if (index < 0 || sentAt === undefined) {
      this.result.staleAcks++;
      if (index >= 0) this.acked[index] = true;
    } else {
      this.shared.latencies.push(performance.now() - sentAt);
      this.window.delete(index);
      this.acked[index] = true;
      this.patience = { timeoutsInARow: 0, lastProgressAt: performance.now() };
    }
    if (this.result.doneMs === null && this.acked.every(Boolean)) {
      this.result.doneMs = performance.now() - this.shared.startedAt;
      this.shared.onDone();
      return;
    }
    void this.pump();
  }

  /** Forgets what is in flight and publishes everything unacknowledged again (the agent's restartFromOutbox). */
  private restart(): void {
    this.result.republished += [...this.window.keys()].length;
    this.window.clear();
    this.generation++;
    void this.pump();
  }

  checkTimeout(now: number): void {
    if (this.result.doneMs !== null || this.window.size === 0) return;
    const oldest = Math.min(...this.window.values());
    if (ackTimedOut(oldest, now, { timeoutMs: this.tuning.ackTimeoutMs, ...this.patience })) {
      this.patience.timeoutsInARow += 1;
      this.restart();
    }
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }
}

/**
 * Runs the storm: every store connects at once and drains its backlog. Resolves when every store is fully
 * acknowledged or `deadline` passes (stores not done then have doneMs null).
 */
export async function runStorm(
  url: string,
  run: StormRun,
  tuning: StormTuning,
  deadlineMs: number,
): Promise<StormResult> {
  const startedAt = performance.now();
  const latencies: number[] = [];
  const counters = { batches: 0, events: 0, reconnects: 0 };
  let remaining = run.stores;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const shared = {
    url,
    startedAt,
    gate: new Gate(tuning.handOffs),
    latencies,
    counters,
    onDone: () => {
      if (--remaining === 0) allDone();
    },
  };
  const stores = Array.from({ length: run.stores }, (_, i) => new SimulatedStore(run, i, tuning, shared));
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const store of stores) store.checkTimeout(now);
  }, 250);
  try {
    await Promise.all(stores.map((s) => s.connect()));
    await Promise.race([
      finished,
      new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, deadlineMs - (performance.now() - startedAt))),
      ),
    ]);
  } finally {
    clearInterval(watchdog);
    await Promise.all(stores.map((s) => s.close().catch(() => {})));
  }
  return {
    stores: stores.map((s) => s.result),
    ackLatencyMs: latencies,
    batchesPublished: counters.batches,
    eventsPublished: counters.events,
    reconnects: counters.reconnects,
  };
}
