import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import type { CommandAnswer } from '../../src/contracts/sync-messages.js';
import { Outbox } from '../../src/sync/index.js';
import { eventually } from '../support/agent-promotions.js';
import { tillSale } from '../support/day-close-fixtures.js';
import { FakeHeadOffice } from '../support/fake-head-office.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { recordingLogger } from '../support/store-simulator.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Head office's console retries or discards a store's dead letter without anyone at the store: a command
 * on the store's commands topic. On a real private Mosquitto, the real agent does what its window's Retry
 * and Discard do (the same outbox functions), once per requestId, logs who asked and why, and answers in
 * its retained status. Head office is played by the test.
 */

const STORE = 'S-CMD';
const TILL = { id: 'T1', token: 'till-one-secret-token-0001' };

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

async function setUp() {
  const office = await FakeHeadOffice.connect(broker.url, STORE);
  cleanups.push(() => office.close());
  const logs = recordingLogger();
  const agent: RunningAgent = await startAgent(
    agentConfigSchema.parse({
      storeId: STORE,
      dataDir: makeTempDir('agent-commands'),
      api: { host: '127.0.0.1', port: 0, terminals: [TILL] },
      mqtt: { url: broker.url },
      sync: { lingerMs: 1, reconnectInitialMs: 50, reconnectMaxMs: 200, ackTimeoutMs: 3000 },
    }),
    { logger: logs.logger },
  );
  cleanups.push(() => agent.stop());
  await eventually('the agent online', () => office.latestStatus()?.state === 'online');
  // Three sales; head office refuses the second and the third.
  office.refuse.set(2, 'totals.total: does not add up');
  office.refuse.set(3, 'unknown sku');
  for (let n = 1; n <= 3; n++) {
    const response = await fetch(`${agent.url}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TILL.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(tillSale('T1', n)),
    });
    expect(response.status).toBe(201);
  }
  await eventually('two dead letters', () => agent.outbox.deadLetters().length === 2);
  const [second, third] = agent.outbox.deadLetters();
  return { agent, office, logs, second: second!, third: third! };
}

const answerIn = (office: FakeHeadOffice, requestId: string) => () =>
  office.latestStatus()?.commands?.find((c) => c.requestId === requestId);

describe('head office’s commands on dead letters', () => {
  it('retries one as the window’s Retry does, once, and says so in the status', async () => {
    const { agent, office, logs, second } = await setUp();
    office.refuse.clear();
    await office.command({
      v: 1,
      kind: 'retry-dead-letter',
      requestId: 'req-retry',
      eventId: second.eventId,
      note: 'an operator at head office: price list fixed',
    });
    const answer = await eventually('the answer in the status', answerIn(office, 'req-retry'));
    expect(answer).toEqual<CommandAnswer>({
      requestId: 'req-retry',
      kind: 'retry-dead-letter',
      outcome: 'done',
      message: 'queued again as seq 4',
      at: expect.any(String),
    });
    // Queued again under the next seq of the epoch, with its own eventId, and head office took it.
    const epoch = agent.outbox.epoch;
    await eventually('the retried sale at head office', () => office.held.get(epoch)?.get(4));
    expect(office.held.get(epoch)!.get(4)!.eventId).toBe(second.eventId);
    await eventually('the retried sale acknowledged', () => agent.outbox.deliveryFacts().backlog === 0);
    expect(agent.outbox.deadLetters().map((d) => d.eventId)).not.toContain(second.eventId);

    // Asked again (the hub did not see the answer): the same answer again, nothing done twice.
    const statuses = office.statuses.length;
    await office.command({
      v: 1,
      kind: 'retry-dead-letter',
      requestId: 'req-retry',
      eventId: second.eventId,
    });
    await eventually('the status published again', () => office.statuses.length > statuses);
    expect(answerIn(office, 'req-retry')()).toEqual(answer);
    expect(agent.outbox.stats().lastSeq).toBe(4);

    // Who asked and why, in the store's log.
    expect(logs.entries).toContainEqual(
      expect.objectContaining({
        message: 'dead letter retried at head office’s request',
        storeId: STORE,
        requestId: 'req-retry',
        eventId: second.eventId,
        note: 'an operator at head office: price list fixed',
        seq: 4,
      }),
    );
  });

  it('discards one with the note, and refuses what is not a dead letter here, in words', async () => {
    const { agent, office, second, third } = await setUp();
    await office.command({
      v: 1,
      kind: 'discard-dead-letter',
      requestId: 'req-discard',
      eventId: third.eventId,
      note: 'an operator at head office: duplicate of T1-0002',
    });
    expect(await eventually('the discard answered', answerIn(office, 'req-discard'))).toMatchObject({
      kind: 'discard-dead-letter',
      outcome: 'done',
    });
    const row = agent.outbox.deadLetters().find((d) => d.eventId === third.eventId)!;
    expect(row.state).toBe('discarded');
    expect(row.reason).toContain('discarded: an operator at head office: duplicate of T1-0002');

    // Already discarded; never refused; unknown here: refused, each saying why.
    await office.command({
      v: 1,
      kind: 'retry-dead-letter',
      requestId: 'req-late',
      eventId: third.eventId,
    });
    const first = agent.outbox.database
      .prepare('SELECT event_id FROM events WHERE seq = 1')
      .pluck()
      .get() as string;
    await office.command({
      v: 1,
      kind: 'discard-dead-letter',
      requestId: 'req-acked',
      eventId: first,
      note: 'why',
    });
    await office.command({
      v: 1,
      kind: 'retry-dead-letter',
      requestId: 'req-unknown',
      eventId: '01UNKNOWNEVENT00000000000',
    });
    expect(await eventually('the late retry refused', answerIn(office, 'req-late'))).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('already discarded'),
    });
    expect(await eventually('the acked one refused', answerIn(office, 'req-acked'))).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('head office acknowledged it'),
    });
    expect(await eventually('the unknown one refused', answerIn(office, 'req-unknown'))).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('holds no event'),
    });
    // Newest first, each once.
    expect(office.latestStatus()!.commands!.map((c) => c.requestId)).toEqual([
      'req-unknown',
      'req-acked',
      'req-late',
      'req-discard',
    ]);
    // The other dead letter is untouched.
    expect(agent.outbox.deadLetters().find((d) => d.eventId === second.eventId)!.state).toBe('dead');
  });

  it('keeps its answers across a restart, so a command repeated later is not applied twice', async () => {
    const { agent, office, second } = await setUp();
    office.refuse.clear();
    await office.command({ v: 1, kind: 'retry-dead-letter', requestId: 'req-once', eventId: second.eventId });
    await eventually('the answer', answerIn(office, 'req-once'));
    const answers = agent.outbox.commandAnswers();
    expect(answers).toHaveLength(1);
    await agent.stop();
    const reopened = new Outbox({ file: agent.outbox.file, storeId: STORE });
    try {
      const repeated = reopened.handleDeadLetterCommand({
        v: 1,
        kind: 'retry-dead-letter',
        requestId: 'req-once',
        eventId: second.eventId,
      });
      expect(repeated).toEqual({ handledNow: false, answer: answers[0] });
      expect(reopened.stats().lastSeq).toBe(4);
    } finally {
      reopened.close();
    }
  });
});
