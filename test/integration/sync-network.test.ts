import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { ackSchema, SYNC_LIMITS, topics, type Ack } from '../../src/contracts/sync-messages.js';
import type { EpochSummary, EventRecord } from '../../src/hub/index.js';
import { canonicalHash } from '../../src/lib/canonical-hash.js';
import { createEventIdFactory, newEpoch } from '../../src/lib/ids.js';
import {
  buildEventBatch,
  Outbox,
  type BuiltBatch,
  type CaptureInput,
  type UnsentEvent,
} from '../../src/sync/index.js';
import { numberedSale } from '../support/pos-payloads.js';
import {
  findDeliveryProblems,
  SyncHarness,
  waitFor,
  type BrokerKind,
  type ExpectedEvent,
  type SyncHarnessOptions,
} from '../support/sync-harness.js';

/**
 * Promise 1 of DESIGN.md over a network that misbehaves: a sale answered 201 reaches head office exactly
 * once, in seq order and unchanged, whatever the link or the broker does in between (outage, restart
 * without persistence, RST in the middle of a batch, a stalled or slow link, redelivery out of order,
 * a poisoned event). Every scenario runs against a real Mosquitto and against the embedded broker.
 */

const SALE_TOTAL = 609; // totals.total of numberedSale, in cents
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForAgentState(
  h: SyncHarness,
  state: 'online' | 'offline',
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    `the agent to report ${state}`,
    async () => (await h.agentStatus()).connection.state === state,
    {
      timeoutMs,
      describe: async () => (await h.agentStatus()).connection,
    },
  );
}

async function waitForHubOnline(h: SyncHarness, online: boolean, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    `the hub to see ${h.storeId} ${online ? 'online' : 'offline'}`,
    async () => (await h.hubStoreSummary())?.online === online,
    { timeoutMs, describe: () => h.hubStoreSummary() },
  );
}

/** A capture as the API would hand it to the outbox, with the arithmetic broken on purpose when asked. */
function seededCapture(n: number, poison = false): CaptureInput {
  const sale: Record<string, unknown> = { ...numberedSale('T1', n), transactionId: `seeded-${n}` };
  if (poison) sale.totals = { gross: 729, discount: 120, tax: 62, total: 608 };
  const body = JSON.stringify(sale);
  return {
    terminalId: 'T1',
    transactionId: `seeded-${n}`,
    type: 'sale',
    currency: 'EUR',
    signedTotal: poison ? 608 : SALE_TOTAL,
    body,
    bodyHash: canonicalHash(sale),
  };
}

describe('the delivery check', () => {
  const event = (seq: number, text = `{"n": ${seq}}`): EventRecord => ({
    storeId: 's',
    epoch: 'e',
    seq,
    eventId: `event-${seq}`,
    type: 'sale',
    status: 'stored',
    reason: null,
    terminalId: 'T1',
    transactionId: `T1-${seq}`,
    businessDay: '2026-11-23',
    capturedAt: '2026-11-23T10:00:00Z',
    receivedAt: '2026-11-23T10:00:01Z',
    bodyJson: text,
    movedTo: null,
  });
  const expected: ExpectedEvent[] = [1, 2, 3].map((seq) => ({
    seq,
    eventId: `event-${seq}`,
    text: `{"n": ${seq}}`,
  }));
  const summary = (lastSeq: number, contiguousThrough: number, stored: number): EpochSummary => ({
    epoch: 'e',
    firstSeen: '',
    lastSeen: '',
    lastSeq,
    contiguousThrough,
    gaps: contiguousThrough < lastSeq ? [{ from: contiguousThrough + 1, to: lastSeq - 1 }] : [],
    stored,
    rejected: 0,
    duplicates: 0,
    moved: 0,
    closed: null,
    complete: false,
    unrecoverable: [],
    resend: null,
  });

  it('passes a complete delivery and catches a lost, a doubled, a reordered and a changed event', () => {
    expect(findDeliveryProblems(expected, [event(1), event(2), event(3)], summary(3, 3, 3))).toEqual([]);
    expect(findDeliveryProblems(expected, [event(1), event(3)], summary(3, 1, 2))).not.toEqual([]);
    expect(
      findDeliveryProblems(expected, [event(1), event(2), event(2), event(3)], summary(3, 3, 4)),
    ).not.toEqual([]);
    expect(findDeliveryProblems(expected, [event(2), event(1), event(3)], summary(3, 3, 3))).not.toEqual([]);
    expect(
      findDeliveryProblems(expected, [event(1), event(2, '{"n": 9}'), event(3)], summary(3, 3, 3)),
    ).not.toEqual([]);
    // The same JSON value in other text is a change too: head office must hold the bytes the POS sent.
    expect(
      findDeliveryProblems(expected, [event(1), event(2, '{"n":2}'), event(3)], summary(3, 3, 3)),
    ).not.toEqual([]);
    expect(
      findDeliveryProblems(expected.slice(0, 2), [event(1), event(2), event(3)], summary(3, 3, 3)),
    ).not.toEqual([]);
  });
});

describe.each<BrokerKind>(['mosquitto', 'embedded'])('sync over a failing network, through %s', (broker) => {
  const start = (options: Omit<SyncHarnessOptions, 'broker'> = {}) =>
    SyncHarness.start({ broker, ...options });

  it('delivers the exact text the POS sent: big integers, integer-like keys, escapes and whitespace', async () => {
    const h = await start();
    // Texts any JSON parser would alter on a round trip: 12345678901234567891 becomes 12345678901234567000,
    // "2" and "1" are put in numeric order, escapes are decoded and whitespace dropped.
    const exactText = (terminalId: string, n: number) =>
      JSON.stringify(numberedSale(terminalId, n), null, '\t').replace(
        /\n}$/,
        `,\r\n\t"extensions" : {"loyaltyCard": 12345678901234567891, "2": "b", "1": "a",` +
          ` "note": "Cr\\u00e8me \\"br\\u00fbl\\u00e9e\\" 🥐\\n", "ratio": 1.50}\n}  `,
      );
    JSON.parse(exactText('T1', 1));
    await h.sell(40, { text: exactText });
    expect(h.unexpected).toEqual([]);
    await h.waitUntilDelivered(40);
    expect(await h.deliveryProblems()).toEqual([]);
    const served = await h.hubTransactions();
    expect(served[0]!.bodyJson).toContain('"loyaltyCard": 12345678901234567891, "2": "b", "1": "a"');
  });

  it('keeps selling through a broker outage and drains the backlog by itself, exactly once, in seq order', async () => {
    const h = await start();
    await h.sell(20);
    await h.waitUntilDelivered(20);

    await h.broker.down();
    const outageStarted = Date.now();
    await waitForAgentState(h, 'offline');
    // Capture never waits on the network: every sale of the outage is answered 201.
    const sold = await h.sell(300);
    expect(h.unexpected).toEqual([]);
    expect(sold).toHaveLength(300);
    const during = await h.agentStatus();
    expect(during.connection.state).toBe('offline');
    expect(during.backlog.count).toBe(300);
    expect(during.backlog.atRisk).toEqual([{ currency: 'EUR', amount: 300 * SALE_TOTAL }]);
    expect(during.problems.map((p) => p.code)).toContain('head-office-unreachable');

    // The tills have stopped; the broker stays away a little longer, then returns with nothing remembered.
    await sleep(Math.max(0, 2500 - (Date.now() - outageStarted)));
    const soldBeforeReturn = h.sent.length;
    await h.broker.up();
    await h.waitUntilDelivered(320);
    expect(h.sent).toHaveLength(soldBeforeReturn);
    expect(await h.deliveryProblems()).toEqual([]);

    const after = await h.agentStatus();
    expect(after.connection.state).toBe('online');
    expect(after.backlog).toMatchObject({ count: 0, atRisk: [] });
    expect(after.lastAck?.seq).toBe(320);
  });

  it('loses and doubles nothing when the broker restarts without persistence in the middle of a drain', async () => {
    const h = await start({ sync: { batchMaxEvents: 50 } });
    h.proxy.drop({ resetExisting: true });
    await waitForAgentState(h, 'offline');
    await h.sell(600);
    expect(h.unexpected).toEqual([]);

    // After the hub's third commit and before its acknowledgement: the broker dies with the ack, the
    // sessions and every queued batch, and comes back empty.
    let restart: Promise<void> | undefined;
    let storedAtRestart = 0;
    h.onHubCommit = () => {
      if (h.hubCommits < 3 || restart) return;
      restart = h.broker.restart();
      void h.hubStoreSummary().then((s) => (storedAtRestart = s?.epochs[0]?.stored ?? 0));
    };
    h.proxy.pass();
    await waitFor('the broker restart in the middle of the drain', () => restart !== undefined, {
      describe: async () => ({
        commits: h.hubCommits,
        hub: await h.hubStoreSummary(),
        link: h.agent.sync?.connection(),
        proxy: h.proxy.stats(),
        unsent: h.agent.outbox.stats().unsent.count,
      }),
    });
    await restart;
    await h.waitUntilDelivered(600);
    expect(storedAtRestart).toBeGreaterThan(0);
    expect(storedAtRestart).toBeLessThan(600);
    expect(await h.deliveryProblems()).toEqual([]);
  });

  it('keeps every sale exactly once when the link is cut in the middle of batches', async () => {
    const h = await start({ sync: { batchMaxEvents: 200 } });
    h.proxy.drop({ resetExisting: true });
    await waitForAgentState(h, 'offline');
    await h.sell(600);
    expect(h.unexpected).toEqual([]);

    // Each cut lands inside a batch of ~150 kB: the broker sees a publish that stops halfway.
    const firstCut = h.proxy.cutAfterBytes(60_000);
    h.proxy.pass();
    await within(firstCut, 10_000, 'the first cut');
    await within(h.proxy.cutAfterBytes(250_000), 10_000, 'the second cut');
    // Then an RST of the store's link after a commit at the hub and before its acknowledgement.
    let resets = 0;
    h.onHubCommit = () => {
      if (resets === 0) resets = h.proxy.reset();
    };
    await h.waitUntilDelivered(600);
    expect(h.proxy.stats().cuts).toBe(2);
    expect(resets).toBe(1);
    expect(await h.deliveryProblems()).toEqual([]);
  });

  it('recovers from a link stalled for longer than the keep-alive, exactly once', async () => {
    const h = await start();
    await h.sell(50);
    await h.waitUntilDelivered(50);
    await waitForHubOnline(h, true);

    h.proxy.blackHole();
    await h.sell(200);
    expect(h.unexpected).toEqual([]);
    // Nothing answers the keep-alive pings: the agent gives up on the link, and the broker on the
    // agent, whose last will tells head office the store is offline.
    await waitForAgentState(h, 'offline', 8000);
    await waitForHubOnline(h, false, 8000);
    h.proxy.pass();
    await h.waitUntilDelivered(250);
    expect(await h.deliveryProblems()).toEqual([]);
    await waitForHubOnline(h, true);
  });

  it('delivers exactly once over a link slower than the acknowledgement timeout', async () => {
    const h = await start();
    await waitForAgentState(h, 'online');
    // 900 ms each way: every acknowledgement comes after the agent's 1.5 s timeout, so batches go twice.
    h.proxy.delay(900);
    await h.sell(300);
    expect(h.unexpected).toEqual([]);
    await h.waitUntilDelivered(300, 30_000);
    expect(await h.deliveryProblems()).toEqual([]);
  });

  it('resends what a slow link lost when it is cut between an acknowledgement and the next batch', async () => {
    const h = await start({ sync: { batchMaxEvents: 25 } });
    h.proxy.drop({ resetExisting: true });
    await waitForAgentState(h, 'offline');
    await h.sell(300);
    expect(h.unexpected).toEqual([]);

    // 300 ms each way: the first acknowledgements come back while the batches they release are still on
    // the wire. Cutting then loses batches whose predecessors are already acknowledged.
    h.proxy.delay(300);
    await waitFor(
      'a first acknowledgement over the slow link',
      () => h.agent.outbox.stats().lastAck !== null,
    );
    await within(h.proxy.cutAfterBytes(5000), 10_000, 'the cut');
    const ackedAtCut = h.agent.outbox.stats().lastAck?.seq ?? 0;
    h.proxy.pass();
    await h.waitUntilDelivered(300);
    expect(ackedAtCut).toBeGreaterThan(0);
    expect(ackedAtCut).toBeLessThan(300);
    expect(await h.deliveryProblems()).toEqual([]);
  });

  it('stores each event once when batches arrive twice and out of order, and acknowledges only contiguous seqs', async () => {
    const h = await start();
    const storeId = `raw-${broker}`;
    const topic = topics('outpost/v1');
    const epoch = newEpoch();
    const ids = createEventIdFactory();
    const events: UnsentEvent[] = Array.from({ length: 10 }, (_, i) => ({
      seq: i + 1,
      eventId: ids(),
      type: 'sale',
      capturedAt: Date.now(),
      body: JSON.stringify(numberedSale('T9', i + 1)),
    }));
    const limits = { maxEvents: 100, maxBytes: 1024 * 1024, maxMessageBytes: SYNC_LIMITS.maxBatchBytes };
    const first = buildEventBatch(storeId, epoch, events.slice(0, 5), limits) as BuiltBatch;
    const second = buildEventBatch(storeId, epoch, events.slice(5), limits) as BuiltBatch;

    const client = await mqtt.connectAsync(h.broker.url, { clean: true, reconnectPeriod: 0 });
    try {
      const acks: Ack[] = [];
      client.on('message', (_topic, payload) => acks.push(ackSchema.parse(JSON.parse(payload.toString()))));
      await client.subscribeAsync(topic.acks(storeId), { qos: 1 });
      for (const batch of [second, second, first, first]) {
        await client.publishAsync(topic.events(storeId), batch.payload, { qos: 1 });
      }
      await waitFor('four acknowledgements', () => acks.length >= 4, { describe: () => acks });
      expect(acks.map((a) => a.ackedThrough)).toEqual([0, 0, 10, 10]);
      expect(acks.map((a) => a.highestSeq)).toEqual([10, 10, 10, 10]);
      expect(
        acks.every(
          (a) =>
            a.kind === 'batch' && a.epoch === epoch && a.rejected.length === 0 && a.conflicts.length === 0,
        ),
      ).toBe(true);
    } finally {
      await client.endAsync(true);
    }
    const expected = events.map((e) => ({ seq: e.seq, eventId: e.eventId, text: e.body! }));
    const summary = (await h.hub.store.listStores()).find((s) => s.storeId === storeId);
    expect(findDeliveryProblems(expected, await h.hubTransactions(storeId), summary?.epochs[0])).toEqual([]);
    expect(summary?.epochs).toHaveLength(1);
  });

  it('dead-letters a poisoned event alone, stores everything behind it, and lets support retry or discard it', async () => {
    let poisonId = '';
    const seeded: ExpectedEvent[] = [];
    const h = await start({
      seedOutbox: (outbox: Outbox) => {
        const captures = Array.from({ length: 9 }, (_, i) => seededCapture(i + 1, i + 1 === 5));
        outbox.appendBatch(captures).forEach((result, i) => {
          if (result instanceof Error) throw result;
          if (i + 1 === 5) poisonId = result.eventId;
          seeded.push({
            seq: result.seq,
            eventId: result.eventId,
            text: captures[i]!.body,
            status: i + 1 === 5 ? 'rejected' : 'stored',
          });
        });
      },
    });
    await h.sell(20);
    expect(h.unexpected).toEqual([]);
    await h.waitUntilDelivered(28);

    const status = await h.agentStatus();
    expect(status.deadLetters.count).toBe(1);
    expect(status.deadLetters.items).toEqual([
      expect.objectContaining({
        seq: 5,
        eventId: poisonId,
        state: 'dead',
        reason: expect.stringMatching(/totals\.total/),
      }),
    ]);
    expect(status.backlog.atRisk).toEqual([{ currency: 'EUR', amount: 608 }]);
    expect(status.problems.map((p) => p.code)).toContain('dead-letters');
    const rejectedAtHub = (await h.hubTransactions()).find((e) => e.seq === 5);
    expect(rejectedAtHub).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/totals\.total/),
    });
    expect(await h.deliveryProblems([...seeded, ...h.expectedFromSent()])).toEqual([]);

    // Support retries it from the command line, beside the running agent: it goes again as seq 30 and,
    // still wrong, is refused again. Then support discards it, on record.
    const cli = new Outbox({ file: h.agent.outbox.file, storeId: h.storeId });
    try {
      expect(cli.retryDeadLetter(poisonId)).toEqual({ epoch: h.agent.outbox.epoch, seq: 30 });
    } finally {
      cli.close();
    }
    await waitFor(
      'the retried event to be refused again',
      async () => {
        const s = await h.agentStatus();
        return s.backlog.count === 0 && s.deadLetters.items[0]?.seq === 30;
      },
      { describe: () => h.agentStatus() },
    );
    const retried = [
      ...seeded,
      ...h.expectedFromSent(),
      { seq: 30, eventId: poisonId, text: seeded[4]!.text, status: 'rejected' as const },
    ];
    expect(await h.deliveryProblems(retried)).toEqual([]);

    const support = new Outbox({ file: h.agent.outbox.file, storeId: h.storeId });
    try {
      support.discardDeadLetter(poisonId, 'customer refunded at the till; ticket 42');
      expect(() => support.retryDeadLetter(poisonId)).toThrow(/no dead-lettered event/);
    } finally {
      support.close();
    }
    const discarded = await h.agentStatus();
    expect(discarded.deadLetters.count).toBe(0);
    expect(discarded.deadLetters.items).toEqual([
      expect.objectContaining({
        seq: 30,
        eventId: poisonId,
        state: 'discarded',
        reason: expect.stringMatching(/totals\.total.*discarded: customer refunded at the till; ticket 42/),
      }),
    ]);
    expect(discarded.backlog.atRisk).toEqual([]);
    expect(discarded.problems.map((p) => p.code)).not.toContain('dead-letters');
  });

  it('shows the link and the backlog on the status page, and the store online or offline at head office', async () => {
    const h = await start();
    await waitForHubOnline(h, true);
    const online = await h.agentStatus();
    expect(online.connection.state).toBe('online');
    expect(online.backlog.count).toBe(0);

    // The link dies with an RST: the broker publishes the agent's last will.
    h.proxy.drop({ resetExisting: true });
    await waitForAgentState(h, 'offline');
    await waitForHubOnline(h, false);
    await h.sell(40);
    const offline = await h.agentStatus();
    expect(offline.connection.state).toBe('offline');
    expect(offline.backlog.count).toBe(40);
    expect(offline.backlog.oldestCapturedAt).not.toBeNull();
    expect(offline.backlog.atRisk).toEqual([{ currency: 'EUR', amount: 40 * SALE_TOTAL }]);

    h.proxy.pass();
    await h.waitUntilDelivered(40);
    await waitForAgentState(h, 'online');
    const back = await h.agentStatus();
    expect(back.backlog).toMatchObject({ count: 0, oldestCapturedAt: null, atRisk: [] });
    expect(back.lastAck?.seq).toBe(40);
    expect(back.problems.filter((p) => p.severity !== 'info')).toEqual([]);
    await waitForHubOnline(h, true);
    expect(await h.deliveryProblems()).toEqual([]);

    // A clean stop says goodbye with a retained offline status, without waiting for the broker's keep-alive.
    await h.agent.stop();
    await waitForHubOnline(h, false, 2000);
  });
});
