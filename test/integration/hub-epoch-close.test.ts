import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { startHub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { startMosquitto } from '../support/mosquitto.js';
import { sale } from '../support/pos-payloads.js';
import { recordingLogger } from '../support/store-simulator.js';
import { StorePublisher } from '../support/store-publisher.js';
import { waitFor } from '../support/sync-harness.js';
import { makeTempDir } from '../support/temp-dir.js';

const TOKEN = 'operator-token-0123456789';
const STORE = 'S-CLOSE';
const E = '1e1e1e1e1e1e1e1e';
const F = '2f2f2f2f2f2f2f2f';
const idOf = (n: number) => `01CLOSE${String(n).padStart(12, '0')}`;
const sold = (n: number, seq = n) => ({
  seq,
  eventId: idOf(n),
  text: JSON.stringify(sale({ transactionId: `close-${n}` }, n)),
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe('an epoch close through the broker', () => {
  it('is recorded, answered with a close acknowledgement, and shows the epoch closed and complete', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const hub = await startHub(
      hubConfigSchema.parse({
        hubId: 'hub-close',
        db: { url: `sqlite:${path.join(makeTempDir('hub-close'), 'hub.sqlite')}` },
        mqtt: { url: broker.url, shareGroup: 'outpost-hubs', keepaliveSeconds: 5 },
        api: { host: '127.0.0.1', port: 0, token: TOKEN },
      }),
      { logger: silentLogger() },
    );
    cleanups.push(() => hub.stop());
    const stores = await StorePublisher.connect(broker.url);
    cleanups.push(() => stores.close());
    const api = async <T>(pathAndQuery: string) =>
      (await (
        await fetch(`${hub.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as T;

    await stores.publishBatch(STORE, E, [sold(1), sold(2), sold(3)]);
    expect(await stores.waitForAck(STORE, (a) => a.ackedThrough === 3, 'seqs 1–3')).toMatchObject({
      kind: 'batch',
      batch: { firstSeq: 1, lastSeq: 3, lastEventId: idOf(3) },
    });

    // Seqs 4 and 5 were answered to tills under E but never acknowledged: they move to F as 1 and 2.
    const close = {
      lastSeq: 5,
      nextEpoch: F,
      reason: 'the hub holds seqs this database never handed out',
      part: 1,
      parts: 1,
      moved: [
        { seq: 4, eventId: idOf(4), toSeq: 1 },
        { seq: 5, eventId: idOf(5), toSeq: 2 },
      ],
    };
    await stores.publishClose(STORE, E, close);
    expect(await stores.waitForAck(STORE, (a) => a.kind === 'close', 'the close')).toEqual({
      v: 1,
      kind: 'close',
      epoch: E,
      ackedThrough: 5,
      highestSeq: 5,
      close: { nextEpoch: F, part: 1, parts: 1 },
    });
    await stores.publishBatch(STORE, F, [sold(4, 1), sold(5, 2)]);
    await stores.waitForAck(
      STORE,
      (a) => a.epoch === F && a.ackedThrough === 2,
      'seqs 1–2 of the next epoch',
    );

    const { stores: summaries } = await api<{
      stores: { currentEpoch: string; epochs: Record<string, unknown>[] }[];
    }>('/v1/stores');
    expect(summaries[0]!.currentEpoch).toBe(F);
    expect(summaries[0]!.epochs).toEqual([
      expect.objectContaining({
        epoch: E,
        lastSeq: 5,
        contiguousThrough: 5,
        stored: 3,
        moved: 2,
        closed: { lastSeq: 5, nextEpoch: F, at: expect.any(String) as string },
        complete: true,
      }),
      expect.objectContaining({ epoch: F, lastSeq: 2, stored: 2, moved: 0, closed: null, complete: false }),
    ]);
    const { events } = await api<{ events: Record<string, unknown>[] }>(
      `/v1/stores/${STORE}/transactions?epoch=${E}&after=3`,
    );
    expect(events).toEqual([
      expect.objectContaining({ seq: 4, status: 'moved', body: null, movedTo: { epoch: F, seq: 1 } }),
      expect.objectContaining({ seq: 5, status: 'moved', body: null, movedTo: { epoch: F, seq: 2 } }),
    ]);

    // A close that claims seqs beyond its own last one is refused whole, and not answered.
    const acksBefore = stores.acks.length;
    await stores.publishClose(STORE, F, {
      ...close,
      nextEpoch: E,
      lastSeq: 1,
      moved: [{ seq: 2, eventId: idOf(5), toSeq: 1 }],
    });
    const refused = await waitFor('the refusal to be counted', async () => {
      const metrics = await (
        await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).text();
      return /^outpost_hub_refused_messages_total 1$/m.test(metrics) || undefined;
    });
    expect(refused).toBe(true);
    expect(stores.acks.length).toBe(acksBefore);
  });

  it('logs what it did with each conflict: a quarantined copy once, a moved-away copy as refused without one', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const logs = recordingLogger();
    const hub = await startHub(
      hubConfigSchema.parse({
        hubId: 'hub-conflict-log',
        db: { url: `sqlite:${path.join(makeTempDir('hub-conflict-log'), 'hub.sqlite')}` },
        mqtt: { url: broker.url, shareGroup: 'outpost-hubs', keepaliveSeconds: 5 },
        api: { host: '127.0.0.1', port: 0, token: TOKEN },
      }),
      { logger: logs.logger },
    );
    cleanups.push(() => hub.stop());
    const stores = await StorePublisher.connect(broker.url);
    cleanups.push(() => stores.close());
    const logged = (message: string) =>
      logs.entries.filter((e) => e.message === message).map((e) => [e.level, e.seq]);

    await stores.publishBatch(STORE, E, [sold(1), sold(2), sold(3)]);
    await stores.waitForAck(STORE, (a) => a.ackedThrough === 3, 'seqs 1–3');
    // A second writer's event at seq 2, sent twice (it retransmits): one copy kept, one incident logged.
    const clone = { seq: 2, eventId: idOf(92), text: JSON.stringify(sale({ transactionId: 'clone-2' }, 2)) };
    const conflictAnswers = () =>
      stores.acks.filter((a) => a.ack.kind === 'batch' && a.ack.conflicts.length === 1).length;
    for (let i = 1; i <= 2; i++) {
      await stores.publishBatch(STORE, E, [clone]);
      await waitFor(`answer ${i} to the clone`, () => conflictAnswers() === i);
    }
    // Another writer closed E and moved seq 4 to F; F does not hold it yet: this copy is refused, not kept.
    await stores.publishClose(STORE, E, {
      lastSeq: 4,
      nextEpoch: F,
      reason: 'restored from a backup',
      part: 1,
      parts: 1,
      moved: [{ seq: 4, eventId: idOf(4), toSeq: 1 }],
    });
    await stores.waitForAck(STORE, (a) => a.kind === 'close', 'the close');
    await stores.publishBatch(STORE, E, [sold(4)]);
    await stores.waitForAck(
      STORE,
      (a) => a.kind === 'batch' && a.conflicts.some((c) => c.seq === 4),
      'seq 4',
    );

    expect(logged('quarantined conflicting event')).toEqual([['error', 2]]);
    expect(logged('conflicting event already in quarantine')).toEqual([['debug', 2]]);
    expect(
      logged('refused a conflicting event without keeping it; its store sends it under an epoch of its own'),
    ).toEqual([['warn', 4]]);
    // The clone came after seqs 1–3 were held: parsed by its digest first, then judged in full to be kept.
    expect((await hub.store.listQuarantine(STORE, 10)).map((q) => [q.seq, q.bodyJson])).toEqual([
      [2, clone.text],
    ]);
  });
});
