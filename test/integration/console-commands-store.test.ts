import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewStoreCommand } from '../../src/hub/command-store.js';
import type { HubStore, IncomingEvent } from '../../src/hub/hub-store.js';
import { PostgresHubStore } from '../../src/hub/postgres-hub-store.js';
import { SqliteHubStore } from '../../src/hub/sqlite-hub-store.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { sale } from '../support/pos-payloads.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The operator-command table and the dead-letter reads the console relies on, held to one behaviour on
 * both hub databases: commands recorded pending, sent once across hubs (the claim), settled only by an
 * answer to a pending command of the same store, expired when forgotten; a refused event counted open
 * until head office stores it (a retry) or the store confirms a discard.
 */

const STORE = 'S-CMD';
const OTHER = 'S-OTHER';
const EPOCH = '0c0c0c0c0c0c0c0c';
const T0 = Date.parse('2026-11-23T10:00:00Z');

const eventIdOf = (n: number) => `01DL${String(n).padStart(20, '0')}`;

function incoming(seq: number, eventId: string, invalidReason?: string): IncomingEvent {
  const body = sale({ transactionId: `T1-${eventId.slice(-6)}` }, seq);
  const bodyText = JSON.stringify(body);
  return {
    seq,
    eventId,
    type: 'sale',
    capturedAt: '2026-11-23T10:15:01+01:00',
    terminalId: String(body.terminalId),
    transactionId: String(body.transactionId),
    businessDay: String(body.businessDay),
    bodyText,
    bodyIsJson: true,
    bodyHash: textDigest(bodyText),
    invalidReason,
  };
}

const command = (requestId: string, overrides: Partial<NewStoreCommand> = {}): NewStoreCommand => ({
  requestId,
  storeId: STORE,
  kind: 'retry-dead-letter',
  commandText: JSON.stringify({ v: 1, kind: 'retry-dead-letter', requestId, eventId: eventIdOf(1) }),
  eventId: eventIdOf(1),
  epoch: EPOCH,
  fromSeq: null,
  note: null,
  requestedBy: 'operator via hub-test',
  requestedAt: T0,
  ...overrides,
});

const kinds: { kind: string; open: () => Promise<{ store: HubStore; drop: () => Promise<void> }> }[] = [
  {
    kind: 'sqlite',
    open: async () => ({
      store: new SqliteHubStore(path.join(makeTempDir('console-commands'), 'hub.db')),
      drop: async () => {},
    }),
  },
  {
    kind: 'postgres',
    open: async () => {
      const database = await createTempPostgresDatabase();
      return { store: await PostgresHubStore.open(database.url), drop: database.drop };
    },
  },
];

describe.each(kinds)('operator commands and dead letters in the $kind hub store', ({ open }) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });
  const fresh = async () => {
    const { store, drop } = await open();
    cleanup = async () => {
      await store.close();
      await drop();
    };
    return store;
  };

  it('counts a refused event open until head office stores it under a new seq, and once however often it was refused', async () => {
    const store = await fresh();
    await store.insertEventsOnce(
      STORE,
      EPOCH,
      [
        incoming(1, eventIdOf(1), 'totals.total: does not add up'),
        incoming(2, eventIdOf(2)),
        incoming(3, eventIdOf(3), 'bad'),
      ],
      T0,
    );
    expect(await store.commands.openDeadLetterCounts()).toEqual([{ storeId: STORE, open: 2 }]);
    expect(await store.commands.hasDeadLetter(STORE, eventIdOf(1))).toBe(true);
    expect(await store.commands.hasDeadLetter(STORE, eventIdOf(2))).toBe(false);
    expect(await store.commands.hasDeadLetter(OTHER, eventIdOf(1))).toBe(false);

    // Event 3 retried and refused again (new seq, same eventId); event 1 retried and accepted.
    await store.insertEventsOnce(
      STORE,
      EPOCH,
      [incoming(4, eventIdOf(3), 'still bad'), incoming(5, eventIdOf(1))],
      T0 + 1000,
    );
    expect(await store.commands.openDeadLetterCounts()).toEqual([{ storeId: STORE, open: 1 }]);
    const letters = await store.commands.deadLetters(STORE, 10);
    expect(letters.map((l) => [l.seq, l.eventId, l.storedAt])).toEqual([
      [4, eventIdOf(3), null],
      [3, eventIdOf(3), null],
      [1, eventIdOf(1), { epoch: EPOCH, seq: 5 }],
    ]);
    expect(letters[0]).toMatchObject({ reason: 'still bad', terminalId: 'T1', receivedAt: T0 + 1000 });
  });

  it('takes a dead letter out of the open count once the store confirms its discard, not before', async () => {
    const store = await fresh();
    await store.insertEventsOnce(STORE, EPOCH, [incoming(1, eventIdOf(1), 'refused')], T0);
    await store.commands.record(
      command('req-discard', { kind: 'discard-dead-letter', note: 'duplicate of T1-0009' }),
    );
    expect(await store.commands.openDeadLetterCounts()).toEqual([{ storeId: STORE, open: 1 }]);
    // An answer for another store, or for an unknown request, settles nothing.
    expect(
      await store.commands.settle(OTHER, [{ requestId: 'req-discard', state: 'done', answer: 'x', at: T0 }]),
    ).toEqual([]);
    expect(
      await store.commands.settle(STORE, [{ requestId: 'nope', state: 'done', answer: 'x', at: T0 }]),
    ).toEqual([]);
    expect(
      await store.commands.settle(STORE, [
        { requestId: 'req-discard', state: 'done', answer: 'discarded', at: T0 + 5 },
      ]),
    ).toEqual(['req-discard']);
    expect(await store.commands.openDeadLetterCounts()).toEqual([]);
    // Settled once: the same answer again (the status repeats it) changes nothing.
    expect(
      await store.commands.settle(STORE, [
        { requestId: 'req-discard', state: 'refused', answer: 'again', at: T0 + 9 },
      ]),
    ).toEqual([]);
    expect(await store.commands.get('req-discard')).toMatchObject({
      state: 'done',
      answer: 'discarded',
      answeredAt: T0 + 5,
      note: 'duplicate of T1-0009',
    });
  });

  it('sends a pending command once across hubs, again when due while the store is online, never once settled', async () => {
    const store = await fresh();
    await store.recordStoreStatus(STORE, { v: 1, state: 'online' }, T0);
    await store.recordStoreStatus(OTHER, { v: 1, state: 'offline' }, T0);
    await store.commands.record(command('req-1'));
    await store.commands.record(command('req-2', { storeId: OTHER, requestedAt: T0 + 1 }));
    expect(await store.commands.pendingCounts()).toEqual(
      expect.arrayContaining([
        { storeId: STORE, pending: 1 },
        { storeId: OTHER, pending: 1 },
      ]),
    );
    // Never sent and online: due. The offline store's command waits for it to come back.
    expect((await store.commands.due(T0, 10)).map((c) => c.requestId)).toEqual(['req-1']);
    // Two hubs read the same row and both try: one wins.
    const [a, b] = await Promise.all([
      store.commands.claimSend('req-1', null, T0 + 10),
      store.commands.claimSend('req-1', null, T0 + 11),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const sent = (await store.commands.get('req-1'))!;
    expect(sent.sends).toBe(1);
    expect(await store.commands.due(T0 + 5, 10)).toEqual([]);
    // The broker did not take it: released, due again.
    await store.commands.releaseSend('req-1', sent.lastSentAt!, null);
    expect((await store.commands.get('req-1'))!).toMatchObject({ sends: 0, lastSentAt: null });
    expect(await store.commands.claimSend('req-1', null, T0 + 20)).toBe(true);
    expect((await store.commands.due(T0 + 21, 10)).map((c) => c.requestId)).toEqual(['req-1']);
    await store.commands.settle(STORE, [
      { requestId: 'req-1', state: 'refused', answer: 'no such dead letter', at: T0 + 30 },
    ]);
    expect(await store.commands.due(T0 + 100, 10)).toEqual([]);
    expect(await store.commands.claimSend('req-1', T0 + 20, T0 + 40)).toBe(false);
    expect((await store.commands.forStore(STORE, 10)).map((c) => [c.requestId, c.state])).toEqual([
      ['req-1', 'refused'],
    ]);
  });

  it('expires commands pending past the bound, and lists a store’s newest first', async () => {
    const store = await fresh();
    await store.commands.record(command('old', { requestedAt: T0 }));
    await store.commands.record(
      command('new', { requestedAt: T0 + 60_000, kind: 'resend', eventId: null, fromSeq: 7, epoch: EPOCH }),
    );
    expect(await store.commands.expire(T0 + 1)).toBe(1);
    expect((await store.commands.forStore(STORE, 10)).map((c) => [c.requestId, c.state, c.fromSeq])).toEqual([
      ['new', 'pending', 7],
      ['old', 'expired', null],
    ]);
    expect((await store.commands.pending(STORE)).map((c) => c.requestId)).toEqual(['new']);
  });
});
