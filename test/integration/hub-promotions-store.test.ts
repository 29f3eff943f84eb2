import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewPromotionVersion } from '../../src/hub/hub-store.js';
import { HubPromotions, parseStoreMessage, type HubStore, type IncomingEvent } from '../../src/hub/index.js';
import { PostgresHubStore } from '../../src/hub/postgres-hub-store.js';
import { SqliteHubStore } from '../../src/hub/sqlite-hub-store.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createPromotionSigner, documentDigest, generateSigningKeyPair } from '../../src/promotions/index.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { promotion } from '../support/promotion-documents.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The promotion tables of both hub databases, one suite: versions unique per (promotionId, version)
 * whichever hub writes them, rollout written in the very transaction that stores its events, regions
 * from catalogue statements, and an automatic activation created once when hubs race for it.
 */

interface TestDatabase {
  open(): Promise<HubStore>;
  exec(sql: string): Promise<void>;
  drop(): Promise<void>;
}

const sqliteDatabase = async (): Promise<TestDatabase> => {
  const file = path.join(makeTempDir('hub-promotions-store'), 'hub.db');
  return {
    open: async () => new SqliteHubStore(file),
    exec: async (sql) => {
      const db = new Database(file);
      db.exec(sql);
      db.close();
    },
    drop: async () => {},
  };
};

const postgresDatabase = async (): Promise<TestDatabase> => {
  const database = await createTempPostgresDatabase();
  return {
    open: () => PostgresHubStore.open(database.url),
    exec: async (sql) => {
      const client = new pg.Client(database.url);
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    drop: database.drop,
  };
};

const STORE = 'S042';
const EPOCH = '0a0a0a0a0a0a0a0a';
const AT = Date.parse('2026-11-23T12:00:00Z');
const key = generateSigningKeyPair();
const signer = createPromotionSigner(key.privateKeyPem);

function version(
  overrides: Record<string, unknown> = {},
  meta: Partial<NewPromotionVersion> = {},
): NewPromotionVersion {
  const signed = signer.sign(promotion(overrides));
  return {
    promotionId: signed.document.promotionId,
    version: signed.document.version,
    name: signed.document.name,
    state: signed.document.state,
    target: signed.document.target,
    signedText: JSON.stringify(signed),
    digest: documentDigest(signed.document),
    keyId: signer.keyId,
    origin: 'push',
    createdBy: 'operator via hub-1',
    createdAt: AT,
    activateWhenShare: null,
    ...meta,
  };
}

type Body = Record<string, unknown>;
const applied = (promotionId: string, v: number, extra: Body = {}): Body => ({
  v: 1,
  type: 'promotion-applied',
  promotionId,
  version: v,
  digest: 'd'.repeat(43),
  keyId: key.keyId,
  change: 'new',
  appliedAt: '2026-11-23T12:00:00+01:00',
  ...extra,
});
const refused = (promotionId: string | null, v: number | null, reason: string, extra: Body = {}): Body => ({
  v: 1,
  type: 'promotion-refused',
  promotionId,
  version: v,
  digest: null,
  keyId: null,
  reason,
  message: `refused: ${reason}`,
  refusedAt: '2026-11-23T12:05:00+01:00',
  ...extra,
});

/** Events as the hub's parser judges them from a store's batch (the real path, worker or not). */
function events(bodies: Body[], firstSeq = 1, storeId = STORE): IncomingEvent[] {
  const parsed = parseStoreMessage(
    storeId,
    Buffer.from(
      JSON.stringify({
        v: 1,
        storeId,
        epoch: EPOCH,
        events: bodies.map((body, i) => ({
          seq: firstSeq + i,
          eventId: `01EV${storeId}${String(firstSeq + i).padStart(16, '0')}`,
          type: body.type,
          capturedAt: '2026-11-23T12:00:00+01:00',
          body: JSON.stringify(body),
        })),
      }),
    ),
  );
  if (!parsed.ok || parsed.kind !== 'batch') throw new Error(`not a batch: ${JSON.stringify(parsed)}`);
  return parsed.events;
}

describe.each([
  ['sqlite', sqliteDatabase],
  ['postgres', postgresDatabase],
] as const)('%s hub store: promotions', (_kind, makeDatabase) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function fresh(): Promise<{ db: TestDatabase; store: HubStore; open: () => Promise<HubStore> }> {
    const db = await makeDatabase();
    cleanups.push(() => db.drop());
    const open = async () => {
      const store = await db.open();
      cleanups.push(() => store.close());
      return store;
    };
    return { db, store: await open(), open };
  }

  it('keeps each version once per (promotionId, version), the envelope text exactly as given', async () => {
    const { store, open } = await fresh();
    const v1 = version();
    expect(await store.insertPromotionVersion(v1)).toBe(true);
    // Another hub on the same database, with a different document under the same version: refused.
    const other = await open();
    expect(await other.insertPromotionVersion(version({ name: 'Something else' }))).toBe(false);
    expect(
      await store.insertPromotionVersion(version({ version: 2, state: 'withdrawn' }, { origin: 'withdraw' })),
    ).toBe(true);
    await store.insertPromotionVersion(version({ promotionId: 'OTHER' }, { activateWhenShare: 0.75 }));

    const versions = await store.promotionVersions('PROMO-1');
    expect(versions.map((v) => [v.version, v.state, v.origin])).toEqual([
      [1, 'active', 'push'],
      [2, 'withdrawn', 'withdraw'],
    ]);
    expect(versions[0]).toMatchObject({
      signedText: v1.signedText,
      digest: v1.digest,
      keyId: key.keyId,
      target: { all: true },
      createdBy: 'operator via hub-1',
      createdAt: new Date(AT).toISOString(),
      publishedAt: null,
    });
    expect(
      (await store.latestPromotionVersions()).map((v) => [v.promotionId, v.version, v.activateWhenShare]),
    ).toEqual([
      ['OTHER', 1, 0.75],
      ['PROMO-1', 2, null],
    ]);
    expect(await store.promotionVersionCount()).toBe(3);
    expect(await store.promotionVersions('NONE')).toEqual([]);
  });

  it('creates one version when hubs insert the same one at once', async () => {
    const { store, open } = await fresh();
    const stores = [store, await open(), await open()];
    const results = await Promise.all(stores.map((s) => s.insertPromotionVersion(version())));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.promotionVersionCount()).toBe(1);
  });

  it('lists the latest versions nobody published, until one is marked published', async () => {
    const { store } = await fresh();
    await store.insertPromotionVersion(version());
    await store.insertPromotionVersion(version({ version: 2 }));
    await store.insertPromotionVersion(version({ promotionId: 'B' }));
    await store.markPromotionPublished('B', 1, AT + 5);
    // Version 1 of PROMO-1 is superseded: only its latest version is worth publishing.
    expect((await store.unpublishedPromotionVersions()).map((v) => [v.promotionId, v.version])).toEqual([
      ['PROMO-1', 2],
    ]);
    await store.markPromotionPublished('PROMO-1', 2, AT + 6);
    expect(await store.unpublishedPromotionVersions()).toEqual([]);
    expect((await store.promotionVersions('B'))[0]!.publishedAt).toBe(new Date(AT + 5).toISOString());
  });

  it('writes rollout from promotion events in their ingest transaction: applied beats refused, a redelivery changes nothing', async () => {
    const { store } = await fresh();
    const batch = events([
      refused('P', 2, 'bad-signature'),
      applied('P', 2, { previousVersion: 1, change: 'update' }),
      refused('P', 2, 'stale-version'),
      refused('Q', 1, 'unknown-key'),
      refused('Q', 1, 'not-targeted'),
      refused('R', 1, 'already-held'),
      refused(null, null, 'malformed'),
    ]);
    const outcome = await store.insertEventsOnce(STORE, EPOCH, batch, AT);
    expect(outcome).toMatchObject({ ackedThrough: 7, stored: 7, rejected: [] });
    expect(
      (await store.promotionRollout('P')).map((r) => [
        r.version,
        r.storeId,
        r.outcome,
        r.change,
        r.previousVersion,
      ]),
    ).toEqual([[2, STORE, 'applied', 'update', 1]]);
    expect((await store.promotionRollout('Q')).map((r) => [r.outcome, r.reason, r.message])).toEqual([
      ['refused', 'not-targeted', 'refused: not-targeted'],
    ]);
    // A redelivery is a normal event (QoS 1, a retained message), not a refusal worth showing.
    expect(await store.promotionRollout('R')).toEqual([]);

    // Redelivered batch: same rows; a later refusal of a held version does not hide that it is held.
    await store.insertEventsOnce(STORE, EPOCH, batch, AT + 1000);
    await store.insertEventsOnce(STORE, EPOCH, events([refused('P', 2, 'version-conflict')], 8), AT + 2000);
    const [row] = await store.promotionRollout('P');
    expect(row).toMatchObject({
      outcome: 'applied',
      at: '2026-11-23T12:00:00+01:00',
      receivedAt: new Date(AT).toISOString(),
    });
    // …while an application replaces a refusal stored earlier.
    await store.insertEventsOnce(STORE, EPOCH, events([applied('Q', 1)], 9), AT + 3000);
    expect((await store.promotionRollout('Q')).map((r) => r.outcome)).toEqual(['applied']);
  });

  it('writes no rollout for a batch whose transaction fails, nor for a rejected event', async () => {
    const { db, store } = await fresh();
    // Fails the ingest transaction at its very end (the epoch's counters), after the rollout rows.
    await db.exec(
      _kind === 'sqlite'
        ? `CREATE TRIGGER fail_boom BEFORE UPDATE ON hub_streams WHEN NEW.store_id = 'BOOM'
             BEGIN SELECT RAISE(ABORT, 'boom'); END;`
        : `CREATE FUNCTION fail_boom() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.store_id = 'BOOM' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
           CREATE TRIGGER fail_boom BEFORE UPDATE ON hub_streams FOR EACH ROW EXECUTE FUNCTION fail_boom();`,
    );
    await expect(
      store.insertEventsOnce('BOOM', EPOCH, events([applied('P', 1)], 1, 'BOOM'), AT),
    ).rejects.toThrow(/boom/);
    expect(await store.promotionRollout('P')).toEqual([]);
    expect((await store.listTransactions('BOOM', { epoch: EPOCH, limit: 10 })).events).toEqual([]);

    // The same insert for another store goes through, rollout and all: the trigger was the only obstacle.
    await store.insertEventsOnce(STORE, EPOCH, events([applied('P', 1)]), AT);
    expect((await store.promotionRollout('P')).map((r) => r.storeId)).toEqual([STORE]);

    const invalid = events([applied('P', 2, { digest: 'short' })], 2);
    expect(invalid[0]!.invalidReason).toMatch(/digest/);
    await store.insertEventsOnce(STORE, EPOCH, invalid, AT);
    expect((await store.promotionRollout('P')).map((r) => r.version)).toEqual([1]);
  });

  it('keeps the region each store states, and knows stores from status, catalogue and events', async () => {
    const { store } = await fresh();
    await store.recordStoreStatus('S1', { v: 1, state: 'offline' }, AT);
    await store.recordStoreCatalogue('S2', 'north', AT + 1);
    await store.insertEventsOnce('S3', EPOCH, events([applied('P', 1)], 1, 'S3'), AT + 2);
    await store.recordStoreCatalogue('S1', 'south', AT + 3);
    expect(await store.knownStores()).toEqual([
      {
        storeId: 'S1',
        region: 'south',
        online: false,
        lastSeen: new Date(AT + 3).toISOString(),
        statusAt: new Date(AT).toISOString(),
        catalogueAt: new Date(AT + 3).toISOString(),
      },
      {
        storeId: 'S2',
        region: 'north',
        online: false,
        lastSeen: new Date(AT + 1).toISOString(),
        statusAt: null,
        catalogueAt: new Date(AT + 1).toISOString(),
      },
      {
        storeId: 'S3',
        region: null,
        online: false,
        lastSeen: new Date(AT + 2).toISOString(),
        statusAt: null,
        catalogueAt: null,
      },
    ]);
    // A store that drops its region says so in its next statement.
    await store.recordStoreCatalogue('S2', null, AT + 4);
    expect((await store.knownStores()).find((s) => s.storeId === 'S2')?.region).toBeNull();
  });

  it("gives the rollout of each promotion's latest version for the list", async () => {
    const { store } = await fresh();
    await store.insertPromotionVersion(version({ promotionId: 'P' }));
    await store.insertPromotionVersion(version({ promotionId: 'P', version: 2 }));
    await store.insertEventsOnce(STORE, EPOCH, events([applied('P', 1), applied('P', 2)]), AT);
    expect((await store.latestPromotionRollout()).map((r) => [r.promotionId, r.version])).toEqual([['P', 2]]);
  });

  it('activates a staged promotion once when several hubs see its share reached at the same moment', async () => {
    const { store, open } = await fresh();
    await store.insertPromotionVersion(
      version({ state: 'staged', target: { storeIds: ['S1', 'S2'] } }, { activateWhenShare: 1 }),
    );
    await store.insertEventsOnce('S1', EPOCH, events([applied('PROMO-1', 1)], 1, 'S1'), AT);
    await store.insertEventsOnce('S2', EPOCH, events([applied('PROMO-1', 1)], 1, 'S2'), AT);

    const published: string[] = [];
    const hubs = await Promise.all(
      ['hub-1', 'hub-2', 'hub-3'].map(async (hubId) => {
        const hubStore = hubId === 'hub-1' ? store : await open();
        return new HubPromotions({
          hubId,
          store: hubStore,
          signer,
          publisher: { publish: async (topic) => void published.push(`${hubId} ${topic}`) },
          topicPrefix: 'outpost/v1',
          logger: silentLogger(),
          clock: { now: () => AT + 10, monotonic: () => 0 },
        });
      }),
    );
    for (const hub of hubs) hub.onRolloutApplied(['PROMO-1']);
    await Promise.all(hubs.map((hub) => hub.settled()));

    const versions = await store.promotionVersions('PROMO-1');
    expect(versions.map((v) => [v.version, v.state, v.origin])).toEqual([
      [1, 'staged', 'push'],
      [2, 'active', 'auto-activate'],
    ]);
    // Published by the hub that created it, once per audience topic.
    expect(published).toHaveLength(2);
    expect(new Set(published.map((p) => p.split(' ')[0])).size).toBe(1);
    expect(versions[1]!.createdBy).toMatch(
      /^automatic: 2 of 2 targeted stores applied version 1 \(threshold 100%\) via hub-\d$/,
    );
  });
});
