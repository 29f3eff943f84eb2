import mqtt, { type MqttClient } from 'mqtt';
import { ackSchema, topics, type Ack, type EpochClose } from '../../src/contracts/sync-messages.js';
import { waitFor } from './sync-harness.js';

export interface HandBuiltEvent {
  seq: number;
  eventId: string;
  /** The body's text, sent as it is (a JSON string on the wire). */
  text: string;
  type?: 'sale' | 'return' | 'void';
}

/**
 * Stands in for store agents on the broker: publishes hand-built events and close messages exactly as
 * docs/protocol.md describes them, and collects every acknowledgement the hub sends back. Lets a hub test
 * control what arrives and when, independently of the agent's sync engine.
 */
export class StorePublisher {
  readonly acks: { storeId: string; ack: Ack }[] = [];
  private readonly topic = topics('outpost/v1');

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const storeId = this.topic.storeIdOf(topic);
      if (!storeId) return;
      this.acks.push({ storeId, ack: ackSchema.parse(JSON.parse(payload.toString('utf8'))) });
    });
  }

  static async connect(url: string): Promise<StorePublisher> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 });
    await client.subscribeAsync('outpost/v1/stores/+/acks', { qos: 1 });
    return new StorePublisher(client);
  }

  async publishBatch(storeId: string, epoch: string, events: readonly HandBuiltEvent[]): Promise<void> {
    const message = {
      v: 1,
      storeId,
      epoch,
      events: events.map((e) => ({
        seq: e.seq,
        eventId: e.eventId,
        type: e.type ?? 'sale',
        capturedAt: '2026-11-23T10:15:00.000Z',
        body: e.text,
      })),
    };
    await this.client.publishAsync(this.topic.events(storeId), JSON.stringify(message), { qos: 1 });
  }

  async publishClose(storeId: string, epoch: string, close: EpochClose['close']): Promise<void> {
    await this.client.publishAsync(
      this.topic.events(storeId),
      JSON.stringify({ v: 1, storeId, epoch, close }),
      { qos: 1 },
    );
  }

  /** The first acknowledgement for `storeId` that satisfies `matches`, waiting for it within a bound. */
  waitForAck(
    storeId: string,
    matches: (ack: Ack) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<Ack> {
    return waitFor(
      `an acknowledgement to ${storeId}: ${what}`,
      () => this.acks.find((a) => a.storeId === storeId && matches(a.ack))?.ack,
      { timeoutMs, describe: () => this.acks.map((a) => ({ storeId: a.storeId, ...a.ack })).slice(-5) },
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
