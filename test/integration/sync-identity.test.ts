import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTerminals, type AgentProcess, type TerminalCredential } from '../support/spawn-agent.js';
import {
  agentStatus,
  deliveryViolations,
  snapshotStore,
  spawnHub,
  spawnSyncAgent,
  storedCount,
  streamViolations,
  submitSales,
  waitFor,
  type HubProcess,
  type SubmittedSale,
} from '../support/spawn-hub.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * DESIGN.md, "Event identity": a store database that is wiped, restored from an old backup or cloned
 * onto a second PC must never make head office merge two stores' worth of sales under one seq, and
 * must never cost a sale. The store's epoch is what keeps them apart.
 */

const TERMINALS = makeTerminals(['T1', 'T2']);
const salesOf = (terminal: TerminalCredential, from: number, count: number) =>
  Array.from({ length: count }, (_, i) => numberedSale(terminal.id, from + i));
const [T1, T2] = TERMINALS as [TerminalCredential, TerminalCredential];

let broker: TestMosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});

function newHub(): Promise<HubProcess> {
  return spawnHub({ dbUrl: `sqlite:${path.join(makeTempDir('hub-db'), 'hub.sqlite')}`, mqttUrl: broker.url });
}

/** Waits until the hub stores `count` sales of the store and the agent has nothing left to send. */
async function waitSynced(hub: HubProcess, storeId: string, count: number, agents: AgentProcess[]) {
  try {
    await waitFor(`${count} sales of ${storeId} stored at the hub`, async () =>
      (await storedCount(hub.api, storeId)) >= count ? true : undefined,
    );
  } catch (error) {
    // What each side believes, so a failure says where the sales got stuck.
    const seen = {
      hub: await hub.api.store(storeId),
      quarantine: (await hub.api.quarantine(storeId)).length,
      agents: await Promise.all(agents.map((a) => agentStatus(a.url).catch(String))),
    };
    throw new Error(`${String(error)}\n${JSON.stringify(seen, null, 2)}`, { cause: error });
  }
  for (const agent of agents) {
    await waitFor(`agent ${agent.url} to have its backlog acknowledged`, async () =>
      (await agentStatus(agent.url)).backlog.count === 0 ? true : undefined,
    );
  }
}

const bySeq = (sales: readonly SubmittedSale[]) => [...sales].sort((a, b) => a.seq - b.seq);

/**
 * Every seq of every epoch of the store is accounted for at the hub, and an epoch is shown closed only
 * once no PC writes in it any more: each epoch the store left is closed and complete (a row, stored or
 * moved, for every seq its writers handed out), each epoch a PC still writes in is open and has no gap,
 * and `closedEpoch` is one the PCs left. Waits for the closes to be acknowledged, then returns the summary.
 */
async function expectEveryEpochAccountedFor(
  hub: HubProcess,
  storeId: string,
  agents: AgentProcess[],
  closedEpoch: string,
) {
  const currentEpochs = async () =>
    new Set(await Promise.all(agents.map(async (a) => (await agentStatus(a.url)).epoch)));
  const settled = await waitFor(
    'every epoch the store left to be closed and complete at the hub, and no epoch a PC writes in closed',
    async () => {
      const current = await currentEpochs();
      const store = await hub.api.store(storeId);
      if (!store || current.has(closedEpoch) || !store.epochs.some((e) => e.epoch === closedEpoch)) return;
      const accounted = store.epochs.every((e) =>
        current.has(e.epoch) ? e.closed === null : e.closed !== null && e.complete,
      );
      return accounted ? { store, current } : undefined;
    },
  ).catch(async (error: unknown) => {
    const seen = { hub: await hub.api.store(storeId), agents: [...(await currentEpochs())] };
    throw new Error(`${String(error)}\n${JSON.stringify(seen, null, 2)}`, { cause: error });
  });
  const { store: summary, current } = settled;
  for (const e of summary.epochs) {
    expect(e.gaps, `epoch ${e.epoch}`).toEqual([]);
    expect(e.contiguousThrough, `epoch ${e.epoch}`).toBe(e.lastSeq);
    if (current.has(e.epoch)) {
      expect(e.closed, `epoch ${e.epoch} is shown closed while a PC still writes in it`).toBeNull();
    } else {
      expect(e, `epoch ${e.epoch}`).toMatchObject({
        closed: { nextEpoch: expect.any(String) },
        complete: true,
      });
      expect(e.closed!.lastSeq).toBeLessThanOrEqual(e.lastSeq);
    }
  }
  return summary;
}

/** Copies a stopped agent's outbox (database, WAL and shared-memory files) into another directory. */
function copyOutbox(fromDir: string, toDir: string): void {
  const files = readdirSync(fromDir).filter((f) => f.startsWith('outbox.sqlite'));
  expect(files).toContain('outbox.sqlite');
  for (const file of files) copyFileSync(path.join(fromDir, file), path.join(toDir, file));
}

function removeOutbox(dir: string): void {
  for (const file of readdirSync(dir).filter((f) => f.startsWith('outbox.sqlite')))
    rmSync(path.join(dir, file));
}

describe('store identity across wipes, restores and clones', () => {
  it('keeps both epochs when the store data dir is wiped and the agent starts afresh', async () => {
    const storeId = 'store-wiped';
    const hub = await newHub();
    const first = await spawnSyncAgent({ mqttUrl: broker.url, terminals: TERMINALS, storeId });
    const before = await submitSales(first.url, TERMINALS, salesOf(T1, 1, 40));
    await waitSynced(hub, storeId, 40, [first]);
    const oldEpoch = (await agentStatus(first.url)).epoch;
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    // The PC is re-installed: same config, same directory, nothing in it.
    rmSync(first.dataDir, { recursive: true, force: true });
    const second = await spawnSyncAgent({
      mqttUrl: broker.url,
      terminals: TERMINALS,
      storeId,
      dataDir: first.dataDir,
    });
    const newEpoch = (await agentStatus(second.url)).epoch;
    expect(newEpoch).not.toBe(oldEpoch);
    expect((await agentStatus(second.url)).lastSeq).toBe(0);
    const after = await submitSales(second.url, TERMINALS, salesOf(T1, 41, 40));
    await waitSynced(hub, storeId, 80, [second]);
    await waitFor('the hub to see the new epoch as current', async () =>
      (await hub.api.store(storeId))?.currentEpoch === newEpoch ? true : undefined,
    );

    const snapshot = await snapshotStore(hub.api, storeId);
    expect(snapshot.summary.epochs.map((e) => e.epoch).sort()).toEqual([oldEpoch, newEpoch].sort());
    for (const epoch of [oldEpoch, newEpoch]) expect(streamViolations(snapshot, epoch)).toEqual([]);
    // The new epoch's seqs 1..40 are new sales, not taken for the old epoch's 1..40.
    expect(snapshot.events.get(newEpoch)!.map((e) => e.status)).toEqual(Array(40).fill('stored'));
    expect(snapshot.events.get(oldEpoch)!.map((e) => e.status)).toEqual(Array(40).fill('stored'));
    expect(snapshot.events.get(oldEpoch)!.map((e) => e.eventId)).toEqual(bySeq(before).map((s) => s.eventId));
    expect(snapshot.events.get(newEpoch)!.map((e) => e.eventId)).toEqual(bySeq(after).map((s) => s.eventId));
    expect(deliveryViolations([...before, ...after], snapshot)).toEqual([]);
    expect(snapshot.summary.quarantined).toBe(0);
  }, 60_000);

  it('moves to a new epoch, losing nothing, when the store database is restored from an old backup', async () => {
    const storeId = 'store-restored';
    const hub = await newHub();
    const agent1 = await spawnSyncAgent({ mqttUrl: broker.url, terminals: TERMINALS, storeId });
    const dataDir = agent1.dataDir;
    const firstFifty = await submitSales(agent1.url, TERMINALS, salesOf(T1, 1, 50));
    await waitSynced(hub, storeId, 50, [agent1]);
    const oldEpoch = (await agentStatus(agent1.url)).epoch;
    expect(await agent1.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const backup = makeTempDir('outbox-backup');
    copyOutbox(dataDir, backup);

    const agent2 = await spawnSyncAgent({ mqttUrl: broker.url, terminals: TERMINALS, storeId, dataDir });
    const nextFifty = await submitSales(agent2.url, TERMINALS, salesOf(T1, 51, 50));
    await waitSynced(hub, storeId, 100, [agent2]);
    expect(await agent2.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    // Restore the backup taken at seq 50: head office holds 51..100, which this database never handed out.
    removeOutbox(dataDir);
    copyOutbox(backup, dataDir);
    const restored = await spawnSyncAgent({ mqttUrl: broker.url, terminals: TERMINALS, storeId, dataDir });
    expect(await agentStatus(restored.url)).toMatchObject({ epoch: oldEpoch, lastSeq: 50 });
    const afterRestore = await submitSales(restored.url, TERMINALS, salesOf(T1, 101, 30), 4);
    // The first of them took seq 51 of the old epoch, which head office already holds with another sale
    // (later ones may already be numbered in the new epoch, once the hub's answer came back).
    expect(afterRestore.map((s) => s.seq)).toContain(51);
    await waitSynced(hub, storeId, 130, [restored]);

    const status = await agentStatus(restored.url);
    expect(status.epoch, 'the restored agent starts a new epoch').not.toBe(oldEpoch);
    expect(status.deadLetters.count).toBe(0);
    const snapshot = await snapshotStore(hub.api, storeId);
    expect(snapshot.summary.epochs.map((e) => e.epoch).sort()).toEqual([oldEpoch, status.epoch].sort());
    for (const epoch of [oldEpoch, status.epoch]) expect(streamViolations(snapshot, epoch)).toEqual([]);

    // The old epoch still holds 1..100 exactly as first stored: the restored database overwrote nothing.
    const old = snapshot.events.get(oldEpoch)!;
    expect(old.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(old.map((e) => e.status)).toEqual(Array(100).fill('stored'));
    const firstHundred = bySeq([...firstFifty, ...nextFifty]);
    expect(old.map((e) => e.eventId)).toEqual(firstHundred.map((s) => s.eventId));
    old.forEach((e, i) => expect(e.body).toEqual(firstHundred[i]!.body));
    // What the restored database tried to put at 51..80 is only ever quarantined, never stored there.
    const quarantined = await hub.api.quarantine(storeId);
    expect(quarantined.length).toBeGreaterThan(0);
    expect(snapshot.summary.quarantined).toBe(quarantined.length);
    for (const q of quarantined) {
      expect(q.epoch).toBe(oldEpoch);
      expect(afterRestore.map((s) => s.eventId)).toContain(q.eventId);
    }

    // Every sale made after the restore reached head office, once, in the new epoch.
    const fresh = snapshot.events.get(status.epoch)!;
    expect(fresh.map((e) => e.status)).toEqual(Array(30).fill('stored'));
    expect(deliveryViolations([...firstFifty, ...nextFifty, ...afterRestore], snapshot)).toEqual([]);
    expect(fresh.map((e) => e.eventId).sort()).toEqual(afterRestore.map((s) => s.eventId).sort());

    // The restored database closed the old epoch, naming where each of its unsent sales went: head office
    // can account for every seq of it.
    const accounted = await expectEveryEpochAccountedFor(hub, storeId, [restored], oldEpoch);
    const closedOld = accounted.epochs.find((e) => e.epoch === oldEpoch)!;
    expect(closedOld.closed).toMatchObject({ nextEpoch: status.epoch, lastSeq: 100 });
    expect(closedOld.lastSeq).toBe(100);
  }, 60_000);

  it('never merges a cloned store PC into the original: conflicts are quarantined and no sale is lost', async () => {
    const storeId = 'store-cloned';
    const hub = await newHub();
    const original = await spawnSyncAgent({ mqttUrl: broker.url, terminals: TERMINALS, storeId });
    const shared = await submitSales(original.url, TERMINALS, salesOf(T1, 1, 20));
    await waitSynced(hub, storeId, 20, [original]);
    const epoch = (await agentStatus(original.url)).epoch;
    expect(await original.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    // The disk image is copied to a second PC; both run at once as the same store.
    const cloneDir = makeTempDir('agent-clone');
    copyOutbox(original.dataDir, cloneDir);
    // Own MQTT client ids, so both are connected at once and each reads the other's acknowledgements.
    // (With one id they would evict each other from the broker in turns: see docs/broker.md.)
    const [a, b] = await Promise.all([
      spawnSyncAgent({
        mqttUrl: broker.url,
        terminals: TERMINALS,
        storeId,
        dataDir: original.dataDir,
        clientId: 'pc-original',
      }),
      spawnSyncAgent({
        mqttUrl: broker.url,
        terminals: TERMINALS,
        storeId,
        dataDir: cloneDir,
        clientId: 'pc-clone',
      }),
    ]);
    for (const agent of [a, b]) expect(await agentStatus(agent.url)).toMatchObject({ epoch, lastSeq: 20 });
    const [soldByA, soldByB] = await Promise.all([
      submitSales(a.url, TERMINALS, salesOf(T1, 21, 60), 4),
      submitSales(b.url, TERMINALS, salesOf(T2, 1, 60), 4),
    ]);
    const all: SubmittedSale[] = [...shared, ...soldByA, ...soldByB];
    await waitSynced(hub, storeId, all.length, [a, b]);

    const snapshot = await snapshotStore(hub.api, storeId);
    // Exactly one body per seq of the original epoch, each one a sale of one of the two PCs as sold.
    const heldInOldEpoch = snapshot.events.get(epoch)!;
    expect(new Set(heldInOldEpoch.map((e) => e.seq)).size).toBe(heldInOldEpoch.length);
    for (const e of heldInOldEpoch) {
      const sale = all.find((s) => s.eventId === e.eventId);
      expect(sale, `seq ${e.seq} holds an event neither PC sold`).toBeDefined();
      // A seq the clone's epoch close moved holds no body here: its sale is stored at its new place
      // (the stream and delivery checks below find it there, once).
      if (e.status === 'moved') continue;
      expect(e.status, `seq ${e.seq}`).toBe('stored');
      expect(isDeepStrictEqual(e.body, sale!.body), `seq ${e.seq} body`).toBe(true);
    }
    for (const stream of snapshot.summary.epochs)
      expect(streamViolations(snapshot, stream.epoch)).toEqual([]);

    // The collision is flagged for head office.
    const quarantined = await hub.api.quarantine(storeId);
    expect(quarantined.length).toBeGreaterThan(0);
    expect(snapshot.summary.quarantined).toBeGreaterThan(0);
    for (const q of quarantined) {
      expect(q.epoch).toBe(epoch);
      const held = heldInOldEpoch.find((e) => e.seq === q.seq);
      expect(held, `quarantined seq ${q.seq} is held by another event`).toBeDefined();
      expect(held!.eventId).not.toBe(q.eventId);
    }

    // At least one PC moved on to a new epoch, and every sale either sold is stored exactly once.
    expect(
      [(await agentStatus(a.url)).epoch, (await agentStatus(b.url)).epoch].some((e) => e !== epoch),
    ).toBe(true);
    expect(snapshot.summary.epochs.length).toBeGreaterThanOrEqual(2);
    expect(deliveryViolations(all, snapshot)).toEqual([]);

    // Both PCs go on selling. One that never met a conflict (its seqs were stored first) may still write
    // in the shared epoch, which the other closed: head office's answers tell it so, and it leaves too.
    const [moreByA, moreByB] = await Promise.all([
      submitSales(a.url, TERMINALS, salesOf(T1, 81, 5), 1),
      submitSales(b.url, TERMINALS, salesOf(T2, 61, 5), 1),
    ]);
    all.push(...moreByA, ...moreByB);
    await waitSynced(hub, storeId, all.length, [a, b]);
    for (const agent of [a, b]) expect((await agentStatus(agent.url)).deadLetters.count).toBe(0);
    expect(deliveryViolations(all, await snapshotStore(hub.api, storeId))).toEqual([]);

    // Each PC left the shared epoch and closed it towards its own next epoch: every epoch the store left
    // is closed and complete, no epoch a PC still writes in is shown closed, and none has a gap.
    const accounted = await expectEveryEpochAccountedFor(hub, storeId, [a, b], epoch);
    const epochs = [(await agentStatus(a.url)).epoch, (await agentStatus(b.url)).epoch];
    expect(epochs).not.toContain(epoch);
    const sharedEpoch = accounted.epochs.find((e) => e.epoch === epoch)!;
    expect(epochs).toContain(sharedEpoch.closed!.nextEpoch);
  }, 60_000);
});
