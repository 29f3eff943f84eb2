import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { eventually } from '../support/agent-promotions.js';
import { DAY, tillSale } from '../support/day-close-fixtures.js';
import { FakeHeadOffice } from '../support/fake-head-office.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * A store agent asked by head office to send an epoch again (its database was restored from a backup):
 * on a real private Mosquitto, the real agent publishes again, as ordinary events messages, every event
 * of the epoch from the seq asked that it still holds, changing nothing in its outbox and taking only part
 * of its in-flight window, then answers with what it had. Head office is played by the test.
 */

const STORE = 'S-RESYNC';
const TILL = { id: 'T1', token: 'till-one-secret-token-0001' };
const MAX_IN_FLIGHT = 4;

let broker: TestMosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function setUp(): Promise<{ agent: RunningAgent; office: FakeHeadOffice }> {
  const office = await FakeHeadOffice.connect(broker.url, STORE);
  cleanups.push(() => office.close());
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: STORE,
      dataDir: makeTempDir('agent-resync'),
      api: { host: '127.0.0.1', port: 0, terminals: [TILL] },
      mqtt: { url: broker.url },
      sync: {
        batchMaxEvents: 2,
        maxInFlightBatches: MAX_IN_FLIGHT,
        lingerMs: 1,
        reconnectInitialMs: 50,
        reconnectMaxMs: 200,
        ackTimeoutMs: 3000,
      },
    }),
    { logger: silentLogger() },
  );
  cleanups.push(() => agent.stop());
  await eventually('the agent online', () => office.latestStatus()?.state === 'online');
  return { agent, office };
}

async function sell(agent: RunningAgent, from: number, to: number, day = DAY): Promise<void> {
  for (let n = from; n <= to; n++) {
    const response = await fetch(`${agent.url}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TILL.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(tillSale('T1', n, day)),
    });
    if (response.status !== 201) throw new Error(`sale ${n}: ${response.status} ${await response.text()}`);
  }
}

const snapshot = (agent: RunningAgent) =>
  agent.outbox.database
    .prepare('SELECT seq, event_id, state, acked_at, dead_reason FROM events ORDER BY seq')
    .all();

const allAcked = (agent: RunningAgent) => () =>
  agent.outbox.deliveryFacts().backlog === 0 && agent.sync!.inFlight().length === 0;

describe('a resend asked by head office', () => {
  it('publishes again what the store holds from the seq asked, exactly as before, changes nothing, and answers', async () => {
    const { agent, office } = await setUp();
    await sell(agent, 1, 12);
    await eventually('every sale acknowledged', allAcked(agent));
    const epoch = agent.outbox.epoch;
    const before = snapshot(agent);
    const original = new Map(office.heldSeqs(epoch).map((s) => [s, office.held.get(epoch)!.get(s)!]));

    // The retained status says how far head office acknowledged, so a restored hub can tell what it lost.
    await eventually('the status to report the acknowledged epoch', () =>
      office.latestStatus()?.acked?.[0]?.through === 12 ? true : undefined,
    );

    office.forget(epoch, 5);
    const batchesBefore = office.batches.length;
    await office.command({ v: 1, kind: 'resend', requestId: 'req-1', epoch, fromSeq: 5, reason: 'restored' });
    const report = await eventually('the resend answer', () => office.reports[0]);
    expect(report).toEqual({
      v: 1,
      storeId: STORE,
      epoch,
      resend: { requestId: 'req-1', fromSeq: 5, availableFrom: 5, through: 12 },
    });
    // Ordinary events messages, the same eventIds and exact bodies, seqs 5…12 and nothing else.
    const resent = office.batches.slice(batchesBefore).flatMap((b) => b.events);
    expect(resent.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    for (const e of resent) expect(e).toEqual(original.get(e.seq));
    expect(office.heldSeqs(epoch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // The answer came after every re-sent batch was acknowledged, and the outbox is as it was.
    expect(snapshot(agent)).toEqual(before);
    expect(agent.sync!.inFlight()).toEqual([]);
  });

  it('says from which seq it still had events when the oldest were pruned, and answers a repeated request again', async () => {
    const { agent, office } = await setUp();
    await sell(agent, 1, 10);
    await eventually('every sale acknowledged', allAcked(agent));
    const epoch = agent.outbox.epoch;
    // Acknowledged events older than outbox.ackedRetentionDays are gone, as pruning leaves them.
    agent.outbox.database.prepare('DELETE FROM events WHERE seq <= 6').run();

    await office.command({ v: 1, kind: 'resend', requestId: 'req-2', epoch, fromSeq: 3, reason: 'restored' });
    expect(await eventually('the answer', () => office.reports[0])).toMatchObject({
      resend: { requestId: 'req-2', fromSeq: 3, availableFrom: 7, through: 10 },
    });
    expect([...office.arrivals].filter(([, n]) => n > 1).map(([k]) => k)).toEqual(
      [7, 8, 9, 10].map((s) => `${epoch}/${s}`),
    );

    // Head office asks again with the same request (its answer was lost, or the events never arrived).
    await office.command({ v: 1, kind: 'resend', requestId: 'req-2', epoch, fromSeq: 3, reason: 'restored' });
    expect(await eventually('the second answer', () => office.reports[1])).toEqual(office.reports[0]);
    expect(office.arrivals.get(`${epoch}/10`)).toBe(3);

    // An epoch this store never had: nothing to send, said at once.
    await office.command({
      v: 1,
      kind: 'resend',
      requestId: 'req-3',
      epoch: 'abcdef0123456789',
      fromSeq: 1,
      reason: 'operator',
    });
    expect(await eventually('the answer on an unknown epoch', () => office.reports[2])).toMatchObject({
      epoch: 'abcdef0123456789',
      resend: { requestId: 'req-3', fromSeq: 1, availableFrom: 1, through: 0 },
    });
  });

  it('takes at most half the in-flight window, so live sales keep flowing, and sends refused events as head office refused them', async () => {
    const { agent, office } = await setUp();
    office.refuse.set(3, 'totals.total: does not add up');
    await sell(agent, 1, 20);
    await eventually('every sale acknowledged or refused', allAcked(agent));
    expect(agent.outbox.deadLetters().map((d) => d.seq)).toEqual([3]);
    const epoch = agent.outbox.epoch;
    const before = snapshot(agent);

    // Head office holds its answers back: what the store publishes meanwhile is what its window allows.
    office.holdAcks = true;
    const batchesBefore = office.batches.length;
    await office.command({ v: 1, kind: 'resend', requestId: 'req-4', epoch, fromSeq: 1, reason: 'restored' });
    await eventually('the resend to fill its share of the window', () =>
      office.batches.length - batchesBefore >= MAX_IN_FLIGHT / 2 ? true : undefined,
    );
    // A sale made now still goes out at once, beside the resend.
    await sell(agent, 21, 21);
    await eventually('the live sale published', () =>
      office.batches.slice(batchesBefore).some((b) => b.events.some((e) => e.seq === 21)) ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 300));
    const waiting = office.batches.slice(batchesBefore);
    expect(waiting.filter((b) => b.events[0]!.seq !== 21)).toHaveLength(MAX_IN_FLIGHT / 2);
    expect(office.maxUnacked).toBeLessThanOrEqual(MAX_IN_FLIGHT);

    await office.releaseAcks();
    const report = await eventually('the resend answer', () => office.reports[0]);
    expect(report.resend).toEqual({ requestId: 'req-4', fromSeq: 1, availableFrom: 1, through: 20 });
    const resent = office.batches.slice(batchesBefore).flatMap((b) => b.events);
    // The refused sale goes as head office recorded it, refused: a marker with the store's reason.
    const third = resent.find((e) => e.seq === 3)!;
    expect(third.body).toBeUndefined();
    expect(third.withheld).toMatchObject({ reason: 'totals.total: does not add up', terminalId: 'T1' });
    expect(resent.filter((e) => e.seq !== 3).every((e) => e.body !== undefined)).toBe(true);
    // Live delivery went on: sale 21 acknowledged; the resend changed no event.
    await eventually('the live sale acknowledged', allAcked(agent));
    expect(snapshot(agent).slice(0, 20)).toEqual(before);
  });
});

describe('the retained status head office reads', () => {
  it('says per day what is unsent, since when, and how far each epoch was acknowledged, refreshed as it changes', async () => {
    const { agent, office } = await setUp();
    await sell(agent, 1, 3);
    await eventually('every sale acknowledged', allAcked(agent));
    const epoch = agent.outbox.epoch;
    await eventually('a status with nothing unsent', () => {
      const s = office.latestStatus();
      return s?.backlog === 0 && s.acked?.[0]?.through === 3 ? s : undefined;
    });

    office.holdAcks = true;
    await sell(agent, 4, 5, DAY);
    await sell(agent, 6, 6, '2026-11-24');
    // Days with unsent sales appear without waiting for the periodic refresh.
    const waiting = await eventually('a status naming the unsent days', () => {
      const s = office.latestStatus();
      return s?.unsentByDay?.length === 2 ? s : undefined;
    });
    expect(waiting).toMatchObject({
      epoch,
      backlog: 3,
      unsentByDay: [
        { businessDay: DAY, count: 2 },
        { businessDay: '2026-11-24', count: 1 },
      ],
      acked: [{ epoch, through: 3 }],
      oldestUnsentAt: expect.any(String),
    });
    await office.releaseAcks();
    const drained = await eventually('a status once they are delivered', () => {
      const s = office.latestStatus();
      return s?.backlog === 0 ? s : undefined;
    });
    expect(drained.unsentByDay).toEqual([]);
    expect(drained.oldestUnsentAt).toBeUndefined();
  });
});
