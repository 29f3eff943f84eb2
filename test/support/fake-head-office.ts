import mqtt, { type MqttClient } from 'mqtt';
import type { DayResult } from '../../src/contracts/day-close.js';
import {
  storeMessageSchema,
  storeStatusSchema,
  topics,
  type BatchAck,
  type EventBatch,
  type ResendReport,
  type StoreCommand,
  type StoreStatusMessage,
  type SyncEvent,
} from '../../src/contracts/sync-messages.js';

const topic = topics('outpost/v1');

/**
 * Head office as a store agent's tests of resync, commands and day verdicts need it, on a private broker:
 * it holds what the store publishes per seq (as a hub would: once per seq, the first body kept),
 * acknowledges batches after "storing" them (unless held back), refuses the seqs it is told to, records
 * resend reports and retained statuses, and publishes commands and day verdicts as a hub does. Free of vitest.
 */
export class FakeHeadOffice {
  /** Every events message, in arrival order. */
  readonly batches: EventBatch[] = [];
  /** What it holds per epoch and seq (the first copy, as a hub keeps it). */
  readonly held = new Map<string, Map<number, SyncEvent>>();
  /** How many times each (epoch, seq) arrived. */
  readonly arrivals = new Map<string, number>();
  readonly reports: ResendReport[] = [];
  readonly statuses: StoreStatusMessage[] = [];
  /** Batches received and not yet acknowledged (while `holdAcks`). */
  readonly unacked: EventBatch[] = [];
  /** The most batches ever waiting for an acknowledgement at once. */
  maxUnacked = 0;
  /** Seqs refused (as invalid) with this reason. */
  readonly refuse = new Map<number, string>();
  holdAcks = false;

  private constructor(
    private readonly client: MqttClient,
    readonly storeId: string,
  ) {
    client.on('message', (t, payload) => this.onMessage(t, payload));
  }

  static async connect(url: string, storeId: string): Promise<FakeHeadOffice> {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clientId: `fake-head-office-${storeId}-${Math.random().toString(16).slice(2)}`,
    });
    const office = new FakeHeadOffice(client, storeId);
    await client.subscribeAsync([topic.events(storeId), topic.status(storeId)], { qos: 1 });
    return office;
  }

  heldSeqs(epoch: string): number[] {
    return [...(this.held.get(epoch)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Forgets what it holds of an epoch from `fromSeq` (its database was restored from an older backup). */
  forget(epoch: string, fromSeq: number): void {
    for (const seq of this.heldSeqs(epoch)) if (seq >= fromSeq) this.held.get(epoch)!.delete(seq);
  }

  latestStatus(): StoreStatusMessage | undefined {
    return this.statuses.at(-1);
  }

  async command(command: StoreCommand): Promise<void> {
    await this.client.publishAsync(topic.commands(this.storeId), JSON.stringify(command), { qos: 1 });
  }

  async verdict(day: DayResult): Promise<void> {
    await this.client.publishAsync(topic.acks(this.storeId), JSON.stringify({ v: 1, kind: 'day', day }), {
      qos: 1,
    });
  }

  async publishRawAck(payload: string): Promise<void> {
    await this.client.publishAsync(topic.acks(this.storeId), payload, { qos: 1 });
  }

  /** Acknowledges every batch held back, in order. */
  async releaseAcks(): Promise<void> {
    this.holdAcks = false;
    for (const batch of this.unacked.splice(0)) await this.ack(batch);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => {});
  }

  private onMessage(t: string, payload: Buffer): void {
    const json = JSON.parse(payload.toString('utf8')) as unknown;
    if (t === topic.status(this.storeId)) {
      this.statuses.push(storeStatusSchema.parse(json));
      return;
    }
    const message = storeMessageSchema.parse(json);
    if ('resend' in message) {
      this.reports.push(message);
      return;
    }
    if (!('events' in message)) return;
    this.batches.push(message);
    const held = this.held.get(message.epoch) ?? new Map<number, SyncEvent>();
    this.held.set(message.epoch, held);
    for (const e of message.events) {
      const key = `${message.epoch}/${e.seq}`;
      this.arrivals.set(key, (this.arrivals.get(key) ?? 0) + 1);
      if (!held.has(e.seq)) held.set(e.seq, e);
    }
    if (this.holdAcks) {
      this.unacked.push(message);
      this.maxUnacked = Math.max(this.maxUnacked, this.unacked.length);
      return;
    }
    void this.ack(message);
  }

  private async ack(batch: EventBatch): Promise<void> {
    const held = this.held.get(batch.epoch)!;
    let through = 0;
    while (held.has(through + 1)) through++;
    const first = batch.events[0]!;
    const last = batch.events.at(-1)!;
    const ack: BatchAck = {
      v: 1,
      kind: 'batch',
      epoch: batch.epoch,
      ackedThrough: through,
      highestSeq: Math.max(...held.keys()),
      batch: { firstSeq: first.seq, lastSeq: last.seq, lastEventId: last.eventId },
      // As a hub: what it refuses, and every withheld event (a marker without its body).
      rejected: batch.events
        .filter((e) => this.refuse.has(e.seq) || e.withheld !== undefined)
        .map((e) => ({
          seq: e.seq,
          reason: e.withheld ? `withheld by the store: ${e.withheld.reason}` : this.refuse.get(e.seq)!,
        })),
      conflicts: [],
    };
    await this.client.publishAsync(topic.acks(this.storeId), JSON.stringify(ack), { qos: 1 });
  }
}
