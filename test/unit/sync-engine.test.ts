import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mqttConfigSchema } from '../../src/contracts/agent-config.js';
import {
  epochCloseSchema,
  eventBatchSchema,
  type BatchAck,
  type CloseAck,
  type EpochClose,
  type EventBatch,
} from '../../src/contracts/sync-messages.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import type { Clock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import {
  DeliveryThread,
  Outbox,
  SyncEngine,
  type CaptureInput,
  type DeliveryStore,
  type SyncTuning,
} from '../../src/sync/index.js';
import { eventsToPublish, seqsToPublish } from '../support/outbox-delivery.js';

const PACKET_TOO_LARGE = 0x95;
const ACKS = 'outpost/v1/stores/S1/acks';

/**
 * Just enough of an MQTT broker and mqtt.js clients to drive the engine: records what is published,
 * answers PUBACKs, can announce a Maximum Packet Size, refuse large packets (PUBACK 0x95, or DISCONNECT
 * 0x95 as Mosquitto does), and drop the link. A fresh client per connection, as ReconnectingMqtt makes.
 */
class FakeBroker {
  readonly clients: FakeClient[] = [];
  readonly published: { topic: string; payload: string; connection: number }[] = [];
  maximumPacketSize: number | undefined;
  refuseOver: { bytes: number; how: 'puback' | 'disconnect' } | undefined;

  readonly connect = (): MqttClient => {
    const client = new FakeClient(this, this.clients.length);
    this.clients.push(client);
    setImmediate(() => {
      client.connected = true;
      client.emit('connect', {
        cmd: 'connack',
        returnCode: 0,
        ...(this.maximumPacketSize ? { properties: { maximumPacketSize: this.maximumPacketSize } } : {}),
      });
    });
    return client as unknown as MqttClient;
  };

  get current(): FakeClient {
    return this.clients.at(-1)!;
  }

  batches(): EventBatch[] {
    return this.published
      .filter((p) => p.topic.endsWith('/events') && p.payload.includes('"events"'))
      .map((p) => eventBatchSchema.parse(JSON.parse(p.payload)));
  }

  closes(): (EpochClose & { connection: number })[] {
    return this.published
      .filter((p) => p.topic.endsWith('/events') && p.payload.includes('"close"'))
      .map((p) => ({ ...epochCloseSchema.parse(JSON.parse(p.payload)), connection: p.connection }));
  }

  /** Answers as the hub would, from the acks topic. */
  answer(ack: BatchAck | CloseAck): void {
    this.current.emit('message', ACKS, Buffer.from(JSON.stringify(ack)));
  }
}

class FakeClient extends EventEmitter {
  connected = false;
  constructor(
    private readonly broker: FakeBroker,
    private readonly connection: number,
  ) {
    super();
  }
  publish(topic: string, payload: string | Buffer, _options?: unknown, callback?: (error?: Error) => void) {
    const text = typeof payload === 'string' ? payload : payload.toString('utf8');
    const refuse = this.broker.refuseOver;
    if (refuse && Buffer.byteLength(text) > refuse.bytes) {
      if (refuse.how === 'puback') {
        const error = Object.assign(new Error('Publish error: Packet too large'), { code: PACKET_TOO_LARGE });
        setImmediate(() => callback?.(error));
      } else setImmediate(() => this.drop(PACKET_TOO_LARGE));
      return this;
    }
    this.broker.published.push({ topic, payload: text, connection: this.connection });
    if (callback) setImmediate(() => callback());
    return this;
  }
  async publishAsync(topic: string, payload: string) {
    this.publish(topic, payload);
  }
  async subscribeAsync() {
    return [];
  }
  /** The link goes down, after a DISCONNECT with this reason when given. */
  drop(reasonCode?: number) {
    if (!this.connected) return;
    if (reasonCode !== undefined) this.emit('disconnect', { cmd: 'disconnect', reasonCode });
    this.connected = false;
    this.emit('close');
  }
  end() {
    this.connected = false;
    return this;
  }
  async endAsync() {
    this.connected = false;
  }
}

/** Wall time the test can step; monotonic time that only moves forward, as the PC's would. */
class SteppableClock implements Clock {
  wallOffsetMs = 0;
  now() {
    return Date.now() + this.wallOffsetMs;
  }
  monotonic() {
    return performance.now();
  }
}

let dir: string;
let outbox: Outbox;
let engine: SyncEngine | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-engine-'));
  outbox = new Outbox({ file: path.join(dir, 'outbox.sqlite'), storeId: 'S1' });
});
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  outbox.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

let captured = 0;
function capture(count: number, bodyBytes = 0): void {
  const items: CaptureInput[] = Array.from({ length: count }, () => {
    captured += 1;
    const body = JSON.stringify({ n: captured, padding: 'x'.repeat(bodyBytes) });
    return {
      terminalId: 'T1',
      transactionId: `t${captured}`,
      type: 'sale',
      currency: 'EUR',
      signedTotal: 1,
      body,
      bodyHash: textDigest(body),
    };
  });
  for (const result of outbox.appendBatch(items)) if (result instanceof Error) throw result;
  engine?.notifyCaptured();
}

function startEngine(
  broker: FakeBroker,
  tuning: Partial<SyncTuning>,
  clock: Clock = new SteppableClock(),
  delivery?: DeliveryStore,
) {
  engine = new SyncEngine({
    ...(delivery ? { delivery } : {}),
    storeId: 'S1',
    outbox,
    mqtt: mqttConfigSchema.parse({ url: 'mqtt://127.0.0.1:1', protocolVersion: 5 }),
    logger: silentLogger(),
    version: 'test',
    clock,
    connect: broker.connect,
    tuning: { lingerMs: 0, reconnect: { initialMs: 20, maxMs: 50 }, ...tuning },
  });
  engine.start();
  return engine;
}

/** The hub's answer to a published batch: everything in it stored. */
function ackOf(batch: EventBatch, extra: Partial<BatchAck> = {}): BatchAck {
  const first = batch.events[0]!;
  const last = batch.events.at(-1)!;
  return {
    v: 1,
    kind: 'batch',
    epoch: batch.epoch,
    ackedThrough: last.seq,
    highestSeq: last.seq,
    batch: { firstSeq: first.seq, lastSeq: last.seq, lastEventId: last.eventId },
    rejected: [],
    conflicts: [],
    ...extra,
  };
}

const seqsOf = (batch: EventBatch) => batch.events.map((e) => e.seq);
const seqRange = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const pendingSeqs = () => seqsToPublish(outbox.file);

/**
 * The hub's answer to a published batch, as parse-event-batch.ts and classify-events.ts would give it:
 * every event stored, except a withheld one (a marker without its body), which is refused with the
 * store's reason.
 */
function hubAnswer(batch: EventBatch): BatchAck {
  const rejected = batch.events.flatMap((e) =>
    e.withheld ? [{ seq: e.seq, reason: `withheld by the store: ${e.withheld.reason}` }] : [],
  );
  return ackOf(batch, { rejected });
}

/** Events published as withheld markers (without their body). */
const markers = (broker: FakeBroker) => broker.batches().flatMap((b) => b.events.filter((e) => e.withheld));

describe('sync engine: the in-flight window', () => {
  it('publishes again a batch whose own acknowledgement was lost, even when a later one covers its seqs', async () => {
    capture(6);
    const broker = new FakeBroker();
    startEngine(broker, { batch: { maxEvents: 2, maxBytes: 1 << 20 }, ackTimeoutMs: 300 });
    await until('three batches are out', () => broker.batches().length === 3);
    const sent = broker.batches();
    // The answer to batch 1 is lost; those to batches 2 and 3 arrive, and ackedThrough covers batch 1 too.
    broker.answer(ackOf(sent[1]!, { ackedThrough: 4 }));
    broker.answer(ackOf(sent[2]!, { ackedThrough: 6 }));
    await until('batches 2 and 3 are recorded', () => pendingSeqs().join() === '1,2');

    await until('batch 1 is published again', () => broker.batches().length > 3);
    const again = broker.batches()[3]!;
    expect(seqsOf(again)).toEqual([1, 2]);
    broker.answer(ackOf(again));
    await until('everything is acknowledged', () => outbox.unsentCount() === 0);
  });

  it('ignores an acknowledgement of a batch another database sent under the same epoch', async () => {
    capture(1);
    const broker = new FakeBroker();
    startEngine(broker, { ackTimeoutMs: 10_000 });
    await until('the batch is out', () => broker.batches().length === 1);
    const theirs = ackOf(broker.batches()[0]!);
    broker.answer({ ...theirs, batch: { ...theirs.batch, lastEventId: '01SOMEONEELSE0000000000000' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(outbox.unsentCount()).toBe(1);
    expect(engine!.inFlight()).toHaveLength(1);
  });

  it('does not let a late acknowledgement of an old batch retire a newer one', async () => {
    const broker = new FakeBroker();
    startEngine(broker, { batch: { maxEvents: 3, maxBytes: 1 << 20 }, ackTimeoutMs: 400 });
    capture(1);
    await until('seq 1 is out alone', () => broker.batches().length === 1);
    capture(2);
    await until('seqs 2..3 are out', () => broker.batches().length === 2);
    const old = broker.batches()[1]!;
    expect(seqsOf(old)).toEqual([2, 3]);
    // No answers: after the timeout everything goes again, now as one batch 1..3.
    await until('1..3 is published after the timeout', () =>
      broker.batches().some((b) => seqsOf(b).join() === '1,2,3'),
    );

    // The answer to the old 2..3 arrives late. It settles 2 and 3, but 1..3 (ending at the same seq)
    // stays in flight: seq 1 is still unacknowledged.
    const publishedBefore = broker.batches().length;
    broker.answer(ackOf(old));
    await until('2 and 3 are recorded', () => pendingSeqs().join() === '1');
    expect(engine!.inFlight()).toContainEqual(expect.objectContaining({ firstSeq: 1, lastSeq: 3 }));
    // So the timeout still covers seq 1, and it goes again.
    await until('seq 1 is published again', () =>
      broker
        .batches()
        .slice(publishedBefore)
        .some((b) => seqsOf(b)[0] === 1),
    );
  });

  it('still publishes again on ack timeout when the PC’s clock is stepped back an hour mid-flight', async () => {
    const clock = new SteppableClock();
    capture(2);
    const broker = new FakeBroker();
    startEngine(broker, { ackTimeoutMs: 300 }, clock);
    await until('the batch is out', () => broker.batches().length === 1);
    // NTP steps the wall clock back an hour while the batch waits for its acknowledgement.
    clock.wallOffsetMs = -60 * 60 * 1000;
    await until('the batch is published again', () => broker.batches().length >= 2, 3000);
    expect(seqsOf(broker.batches()[1]!)).toEqual([1, 2]);
  });
});

describe('sync engine: leaving an epoch', () => {
  it('closes the old epoch with every move, publishes the close on every connection until its own acknowledgement', async () => {
    capture(3);
    const oldEpoch = outbox.epoch;
    const broker = new FakeBroker();
    startEngine(broker, { ackTimeoutMs: 10_000 });
    await until('the batch is out', () => broker.batches().length === 1);
    const first = broker.batches()[0]!;
    // Head office holds another writer's event at seq 2: this database was cloned.
    broker.answer(ackOf(first, { conflicts: [{ seq: 2, reason: 'different event' }] }));
    await until('a new epoch', () => outbox.epoch !== oldEpoch);
    const newEpoch = outbox.epoch;

    await until(
      'the close and the moved event are out',
      () => broker.closes().length === 1 && broker.batches().length === 2,
    );
    const close = broker.closes()[0]!;
    expect(close).toMatchObject({
      epoch: oldEpoch,
      close: {
        lastSeq: 3,
        nextEpoch: newEpoch,
        part: 1,
        parts: 1,
        moved: [{ seq: 2, eventId: first.events[1]!.eventId, toSeq: 1 }],
      },
    });
    const moved = broker.batches()[1]!;
    expect(moved.epoch).toBe(newEpoch);
    expect(moved.events.map((e) => [e.seq, e.eventId])).toEqual([[1, first.events[1]!.eventId]]);

    // The link drops before head office answers the close: the next connection sends it again.
    broker.current.drop();
    await until('the close goes again on the new connection', () => broker.closes().length === 2);
    expect(broker.closes()[1]!.connection).toBe(1);

    // An answer about another writer's close of the same epoch changes nothing.
    const closeAck = (nextEpoch: string): CloseAck => ({
      v: 1,
      kind: 'close',
      epoch: oldEpoch,
      ackedThrough: 3,
      highestSeq: 3,
      close: { nextEpoch, part: 1, parts: 1 },
    });
    broker.answer(closeAck('ffffffffffffffff'));
    await new Promise((r) => setTimeout(r, 50));
    const unacked = () =>
      outbox.database.prepare('SELECT count(*) FROM epoch_close_parts WHERE acked_at IS NULL').pluck().get();
    expect(unacked()).toBe(1);
    broker.answer(closeAck(newEpoch));
    await until('the close part is acknowledged', () => unacked() === 0);
    expect(engine!.inFlight().some((f) => f.kind === 'close')).toBe(false);

    broker.current.drop();
    await until('a third connection', () => broker.clients.length === 3 && broker.current.connected);
    await new Promise((r) => setTimeout(r, 100));
    expect(broker.closes()).toHaveLength(2);
  });
});

describe('sync engine: closes within what brokers and hubs take', () => {
  /** Captures `count` events, gets the first batch answered with a conflict: the outbox leaves its epoch. */
  async function leaveEpochWith(count: number, broker: FakeBroker, tuning: Partial<SyncTuning>) {
    capture(count);
    const oldEpoch = outbox.epoch;
    startEngine(broker, { batch: { maxEvents: 100, maxBytes: 1 << 20 }, ackTimeoutMs: 10_000, ...tuning });
    await until('the first batch is out', () => broker.batches().length >= 1);
    broker.answer(ackOf(broker.batches()[0]!, { conflicts: [{ seq: 1, reason: 'different event' }] }));
    await until('a new epoch', () => outbox.epoch !== oldEpoch);
    return oldEpoch;
  }
  const closeAckOf = (close: EpochClose): CloseAck => ({
    v: 1,
    kind: 'close',
    epoch: close.epoch,
    ackedThrough: close.close.lastSeq,
    highestSeq: close.close.lastSeq,
    close: { nextEpoch: close.close.nextEpoch, part: close.close.part, parts: close.close.parts },
  });

  it('sends a close of hundreds of moves in parts a broker with a 32 KB packet limit takes', async () => {
    const broker = new FakeBroker();
    broker.maximumPacketSize = 32 * 1024;
    const oldEpoch = await leaveEpochWith(700, broker, {});
    // Seq 1 (the conflict) and 101..700 were unacknowledged: 601 moves.
    await until('every part is out', () => broker.closes().length === 3);
    const closes = broker.closes();
    expect(closes.map((c) => [c.epoch, c.close.part, c.close.parts])).toEqual([
      [oldEpoch, 1, 3],
      [oldEpoch, 2, 3],
      [oldEpoch, 3, 3],
    ]);
    expect(closes.flatMap((c) => c.close.moved.map((m) => m.seq))).toEqual([1, ...seqRange(101, 700)]);
    for (const p of broker.published.filter((p) => p.payload.includes('"close"')))
      expect(Buffer.byteLength(p.payload)).toBeLessThan(32 * 1024 - 100);
  });

  it('tries a close part the broker could not take again on the next connection, when the limit may have been raised', async () => {
    const broker = new FakeBroker();
    await leaveEpochWith(3, broker, {});
    await until('the close is out', () => broker.closes().length === 1);
    const closeBytes = Buffer.byteLength(
      broker.published.find((p) => p.payload.includes('"close"'))!.payload,
    );
    // The link comes back on a broker that takes less than the close (but still the events one by one).
    broker.maximumPacketSize = closeBytes;
    broker.current.drop();
    await until('a second connection publishes again', () =>
      broker.published.some((p) => p.connection === 1 && p.payload.includes('"events"')),
    );
    expect(broker.closes().filter((c) => c.connection === 1)).toEqual([]);
    // The broker's limit is raised: the next connection sends the close.
    broker.maximumPacketSize = undefined;
    broker.current.drop();
    await until('the close goes out on the third connection', () =>
      broker.closes().some((c) => c.connection === 2),
    );
  });

  it('counts close parts in the in-flight window, reads them one at a time, and sends the new epoch’s events after them', async () => {
    const broker = new FakeBroker();
    const oldEpoch = await leaveEpochWith(700, broker, { maxInFlightBatches: 2 });
    await until('two parts are out', () => broker.closes().length === 2);
    await new Promise((r) => setTimeout(r, 100));
    // The window is full: no third part, and no event of the new epoch before the closes.
    expect(broker.closes()).toHaveLength(2);
    expect(broker.batches().filter((b) => b.epoch !== oldEpoch)).toEqual([]);
    expect(engine!.inFlight()).toHaveLength(2);

    broker.answer(closeAckOf(broker.closes()[0]!));
    await until('the third part is out', () => broker.closes().length === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(broker.batches().filter((b) => b.epoch !== oldEpoch)).toEqual([]);
    for (const close of broker.closes().slice(1)) broker.answer(closeAckOf(close));
    await until('the new epoch’s events flow', () => broker.batches().some((b) => b.epoch === outbox.epoch));
  });
});

describe('sync engine: the agent’s clock', () => {
  it('records acknowledgements and epoch closes at the time of its injected clock, on the delivery thread too', async () => {
    const at = Date.UTC(2020, 0, 1);
    const clock: Clock = { now: () => at, monotonic: () => performance.now() };
    capture(3);
    const broker = new FakeBroker();
    const delivery = new DeliveryThread({ file: outbox.file, storeId: 'S1', writeTurns: outbox.writeTurns });
    startEngine(broker, { ackTimeoutMs: 10_000 }, clock, delivery);
    await until('the batch is out', () => broker.batches().length === 1);
    const oldEpoch = outbox.epoch;
    broker.answer(ackOf(broker.batches()[0]!, { conflicts: [{ seq: 3, reason: 'different event' }] }));
    await until('a new epoch', () => outbox.epoch !== oldEpoch);
    const db = outbox.database;
    expect(db.prepare("SELECT DISTINCT acked_at FROM events WHERE state = 'acked'").pluck().all()).toEqual([
      at,
    ]);
    expect(db.prepare('SELECT acked_at FROM epochs WHERE epoch = ?').pluck().get(oldEpoch)).toBe(at);
    expect(db.prepare('SELECT closed_at FROM epoch_closes').pluck().all()).toEqual([at]);
    expect(db.prepare('SELECT started_at FROM epochs WHERE epoch = ?').pluck().get(outbox.epoch)).toBe(at);
  });
});

describe('sync engine: events too large to deliver', () => {
  it('withholds an event larger than the broker announces it takes: its marker goes in its place, it becomes a dead letter on the answer, and the events behind it flow', async () => {
    capture(1);
    capture(1, 10_000);
    capture(2);
    const big = eventsToPublish(outbox.file).events[1]!;
    const broker = new FakeBroker();
    broker.maximumPacketSize = 5000;
    startEngine(broker, { ackTimeoutMs: 10_000 });
    await until('all four seqs are out', () => broker.batches().flatMap(seqsOf).includes(4));
    // Every seq goes out, the big one as a marker without its body: head office gets no gap.
    expect(broker.batches().flatMap(seqsOf)).toEqual([1, 2, 3, 4]);
    expect(markers(broker)).toEqual([
      expect.objectContaining({
        seq: big.seq,
        eventId: big.eventId,
        withheld: {
          reason: expect.stringMatching(/too large.*maximum packet size/) as string,
          terminalId: 'T1',
          transactionId: expect.stringMatching(/^t\d+$/) as string,
        },
      }),
    ]);
    expect(markers(broker)[0]).not.toHaveProperty('body');
    for (const batch of broker.batches()) broker.answer(hubAnswer(batch));
    await until('everything is settled', () => outbox.unsentCount() === 0);
    expect(outbox.deadLetters()).toEqual([
      expect.objectContaining({
        seq: big.seq,
        eventId: big.eventId,
        state: 'dead',
        reason: expect.stringMatching(/^withheld by the store: too large.*maximum packet size/) as string,
      }),
    ]);
  });

  it('splits a batch the broker refuses as too large instead of withholding its events', async () => {
    capture(6, 1500);
    const broker = new FakeBroker();
    broker.refuseOver = { bytes: 5000, how: 'puback' };
    startEngine(broker, { ackTimeoutMs: 10_000 });
    await until('all six are out in smaller batches', () => broker.batches().flatMap(seqsOf).length === 6);
    expect(broker.batches().flatMap(seqsOf)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(
      Math.max(
        ...broker
          .batches()
          .map(seqsOf)
          .map((s) => s.length),
      ),
    ).toBeLessThan(6);
    expect(markers(broker)).toEqual([]);
  });

  it.each(['puback', 'disconnect'] as const)(
    'sends the marker of a single event the broker refuses as too large (%s 0x95), and the rest flow',
    async (how) => {
      capture(1);
      capture(1, 10_000);
      capture(1);
      const broker = new FakeBroker();
      broker.refuseOver = { bytes: 5000, how };
      startEngine(broker, { batch: { maxEvents: 1, maxBytes: 1 << 20 }, ackTimeoutMs: 10_000 });
      await until('every seq is out', () => broker.batches().flatMap(seqsOf).includes(3));
      // Seq 1 may go twice: the refusal makes the engine publish again from the outbox.
      expect([...new Set(broker.batches().flatMap(seqsOf))]).toEqual([1, 2, 3]);
      expect(markers(broker)).toEqual([
        expect.objectContaining({
          seq: 2,
          withheld: expect.objectContaining({
            reason: expect.stringMatching(/refused it as too large/) as string,
          }) as unknown,
        }),
      ]);
      for (const batch of broker.batches()) broker.answer(hubAnswer(batch));
      await until('everything is settled', () => outbox.unsentCount() === 0);
      expect(outbox.deadLetters()).toEqual([
        expect.objectContaining({
          seq: 2,
          state: 'dead',
          reason: expect.stringMatching(/refused it as too large/),
        }),
      ]);
    },
  );

  it('takes an acknowledgement of a withheld event as delivered: head office already held it', async () => {
    capture(1, 10_000);
    const broker = new FakeBroker();
    broker.maximumPacketSize = 5000;
    startEngine(broker, { ackTimeoutMs: 10_000 });
    await until('the marker is out', () => markers(broker).length === 1);
    // The event was stored from an earlier connection whose acknowledgement was lost: the hub
    // acknowledges the marker as a redelivery, with nothing refused.
    broker.answer(ackOf(broker.batches()[0]!));
    await until('it is acknowledged', () => outbox.unsentCount() === 0);
    expect(outbox.deadLetters()).toEqual([]);
    expect(outbox.database.prepare('SELECT state, dead_reason FROM events').all()).toEqual([
      { state: 'acked', dead_reason: null },
    ]);
  });

  it('never withholds on a timeout alone: a down hub looks the same', async () => {
    capture(1, 10_000);
    const broker = new FakeBroker();
    startEngine(broker, { ackTimeoutMs: 100 });
    await until('published several times without an answer', () => broker.batches().length >= 3);
    expect(markers(broker)).toEqual([]);
    expect(
      outbox.database.prepare('SELECT count(*) FROM events WHERE dead_reason IS NOT NULL').pluck().get(),
    ).toBe(0);
  });
});
