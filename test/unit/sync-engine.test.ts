import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mqttConfigSchema } from '../../src/contracts/agent-config.js';
import { eventBatchSchema, type AckInput } from '../../src/contracts/sync-messages.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { silentLogger } from '../../src/lib/logger.js';
import { Outbox, SyncEngine } from '../../src/sync/index.js';

/** Just enough of an mqtt.js client to drive the engine: records publishes, lets the test answer. */
class FakeClient extends EventEmitter {
  connected = false;
  published: { topic: string; payload: string }[] = [];
  publish(topic: string, payload: string) {
    this.published.push({ topic, payload });
    return this;
  }
  async publishAsync(topic: string, payload: string) {
    this.publish(topic, payload);
  }
  async subscribeAsync() {
    return [];
  }
  end() {
    this.connected = false;
    return this;
  }
  async endAsync() {
    this.connected = false;
  }
}

let dir: string;
let outbox: Outbox;
let engine: SyncEngine | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-engine-'));
  outbox = new Outbox({ file: path.join(dir, 'outbox.sqlite') });
});
afterEach(async () => {
  await engine?.stop();
  outbox.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, condition: () => boolean) => {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting until ${what}`);
};

function startEngine(client: FakeClient, ackTimeoutMs: number) {
  engine = new SyncEngine({
    storeId: 'S1',
    outbox,
    mqtt: mqttConfigSchema.parse({ url: 'mqtt://127.0.0.1:1' }),
    logger: silentLogger(),
    version: 'test',
    connect: () => {
      setImmediate(() => {
        client.connected = true;
        client.emit('connect');
      });
      return client as unknown as MqttClient;
    },
    tuning: { batch: { maxEvents: 2, maxBytes: 1 << 20 }, ackTimeoutMs, lingerMs: 0 },
  });
  engine.start();
}

const batches = (client: FakeClient) =>
  client.published
    .filter((p) => p.topic.endsWith('/events'))
    .map((p) => eventBatchSchema.parse(JSON.parse(p.payload)));

function ack(client: FakeClient, body: Omit<AckInput, 'v' | 'rejected' | 'conflicts'>) {
  client.emit(
    'message',
    'outpost/v1/stores/S1/acks',
    Buffer.from(JSON.stringify({ v: 1, rejected: [], conflicts: [], ...body })),
  );
}

describe('sync engine', () => {
  it('publishes again a batch whose own acknowledgement was lost, even when a later one covers its seqs', async () => {
    outbox.appendBatch(
      Array.from({ length: 6 }, (_, i) => {
        const body = JSON.stringify({ n: i });
        return {
          terminalId: 'T1',
          transactionId: `t${i}`,
          type: 'sale' as const,
          currency: 'EUR',
          signedTotal: 1,
          body,
          bodyHash: textDigest(body),
        };
      }),
    );
    const client = new FakeClient();
    startEngine(client, 300);
    await until('three batches are out', () => batches(client).length === 3);
    const sent = batches(client);
    const epoch = outbox.epoch;
    const lastEventId = (i: number) => sent[i]!.events.at(-1)!.eventId;
    // The answer to batch 1 is lost; those to batches 2 and 3 arrive, and ackedThrough covers batch 1 too.
    ack(client, {
      epoch,
      ackedThrough: 4,
      highestSeq: 4,
      batch: { firstSeq: 3, lastSeq: 4, lastEventId: lastEventId(1) },
    });
    ack(client, {
      epoch,
      ackedThrough: 6,
      highestSeq: 6,
      batch: { firstSeq: 5, lastSeq: 6, lastEventId: lastEventId(2) },
    });
    expect(outbox.unsentAfter(0, 10).map((e) => e.seq)).toEqual([1, 2]);

    await until('batch 1 is published again', () => batches(client).length > 3);
    const again = batches(client)[3]!;
    expect(again.events.map((e) => e.seq)).toEqual([1, 2]);
    ack(client, {
      epoch,
      ackedThrough: 6,
      highestSeq: 6,
      batch: { firstSeq: 1, lastSeq: 2, lastEventId: again.events[1]!.eventId },
    });
    expect(outbox.unsentCount()).toBe(0);
  });

  it('ignores an acknowledgement of a batch another database sent under the same epoch', async () => {
    const body = JSON.stringify({ n: 1 });
    outbox.appendBatch([
      {
        terminalId: 'T1',
        transactionId: 't1',
        type: 'sale',
        currency: 'EUR',
        signedTotal: 1,
        body,
        bodyHash: textDigest(body),
      },
    ]);
    const client = new FakeClient();
    startEngine(client, 10_000);
    await until('the batch is out', () => batches(client).length === 1);
    ack(client, {
      epoch: outbox.epoch,
      ackedThrough: 1,
      highestSeq: 1,
      batch: { firstSeq: 1, lastSeq: 1, lastEventId: '01SOMEONEELSE0000000000000' },
    });
    expect(outbox.unsentCount()).toBe(1);
  });
});
