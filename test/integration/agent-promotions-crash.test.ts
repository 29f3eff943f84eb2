import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { promotionAppliedBodySchema, type PromotionAppliedBody } from '../../src/contracts/promotion-sync.js';
import type { SignedPromotion } from '../../src/contracts/promotion.js';
import { generateSigningKeyPair } from '../../src/promotions/index.js';
import { eventually, HeadOfficeDesk, TillClient } from '../support/agent-promotions.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { makeTerminals, runOutpost, spawnAgent, writeAgentConfig } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The store's proof of rollout survives a crash: `outpost agent` (a child process) is killed with -9 in
 * the middle of a burst of promotion versions, before head office acknowledged any of its reports. What
 * its database holds afterwards must agree with itself (every version in the catalogue has its history
 * row and its promotion-applied event, and no event reports a version the catalogue never took), and
 * after a restart every report reaches head office.
 */

const STORE_ID = 'S042';
const [TILL] = makeTerminals(['T1']);

let broker: TestMosquitto;
let desk: HeadOfficeDesk | undefined;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});
afterEach(async () => {
  await desk?.close();
  desk = undefined;
});

interface Facts {
  catalogue: { promotion_id: string; version: number; digest: string; history_id: number }[];
  history: { id: number; promotion_id: string; version: number; digest: string; event_id: string }[];
  applied: { event_id: string; state: string; body: PromotionAppliedBody }[];
}

function readFacts(file: string): Facts {
  const db = new Database(file, { readonly: true });
  try {
    const catalogue = db
      .prepare(
        'SELECT promotion_id, version, digest, history_id FROM promotion_catalogue ORDER BY promotion_id',
      )
      .all() as Facts['catalogue'];
    const history = db
      .prepare(
        "SELECT id, promotion_id, version, digest, event_id FROM promotion_history WHERE outcome = 'applied' ORDER BY id",
      )
      .all() as Facts['history'];
    const applied = (
      db
        .prepare("SELECT event_id, state, body FROM event_log WHERE type = 'promotion-applied' ORDER BY seq")
        .all() as { event_id: string; state: string; body: string }[]
    ).map((row) => ({ ...row, body: promotionAppliedBodySchema.parse(JSON.parse(row.body)) }));
    return { catalogue, history, applied };
  } finally {
    db.close();
  }
}

/** Catalogue, history and outbox events tell the same story. */
function expectAgreement(facts: Facts): void {
  const historyById = new Map(facts.history.map((h) => [h.id, h]));
  const eventById = new Map(facts.applied.map((e) => [e.event_id, e]));
  for (const row of facts.catalogue) {
    const history = historyById.get(row.history_id);
    expect(history, `history of ${row.promotion_id}`).toMatchObject({
      promotion_id: row.promotion_id,
      version: row.version,
      digest: row.digest,
    });
    expect(eventById.get(history!.event_id)?.body, `event of ${row.promotion_id}`).toMatchObject({
      promotionId: row.promotion_id,
      version: row.version,
      digest: row.digest,
    });
    const versions = facts.history.filter((h) => h.promotion_id === row.promotion_id).map((h) => h.version);
    expect(Math.max(...versions)).toBe(row.version);
  }
  // One event per applied version, and each names the version its history row records.
  expect(facts.applied.map((e) => e.event_id).sort()).toEqual(facts.history.map((h) => h.event_id).sort());
  for (const h of facts.history) {
    expect(eventById.get(h.event_id)!.body).toMatchObject({
      promotionId: h.promotion_id,
      version: h.version,
    });
  }
}

describe('promotions and their rollout reports across kill -9', () => {
  it('agree after a crash between receiving and acknowledging, and all reach head office after a restart', async () => {
    desk = await HeadOfficeDesk.connect(broker.url, STORE_ID);
    const dataDir = makeTempDir('agent-promotions-crash');
    const config = {
      storeId: STORE_ID,
      timeZone: 'Europe/Paris',
      dataDir,
      api: { host: '127.0.0.1', port: 0, terminals: [TILL!] },
      mqtt: { url: broker.url },
      promotions: { trustedKeys: [desk.keys.publicKeyPem] },
      sync: { reconnectInitialMs: 50, reconnectMaxMs: 200, ackTimeoutMs: 1000 },
    };
    const start = () => spawnAgent({ storeId: STORE_ID, dataDir, terminals: [TILL!], config });
    let agent = await start();
    await eventually('the store to state its catalogue', () => desk!.catalogues.length > 0);

    // 60 promotions, 3 versions each, published as fast as the broker takes them.
    const latest = new Map<string, SignedPromotion>();
    const published: Promise<void>[] = [];
    for (let version = 1; version <= 3; version++) {
      for (let n = 0; n < 60; n++) {
        const signed = desk.sign({
          promotionId: `P${String(n).padStart(2, '0')}`,
          version,
          rule: { kind: 'percent-off', percent: version * 5 },
        });
        latest.set(signed.document.promotionId, signed);
        published.push(desk.publish(signed));
      }
    }
    const file = path.join(dataDir, 'outbox.sqlite');
    // Killed mid-burst: some versions applied, not all.
    await eventually('some versions applied', () => readFacts(file).history.length >= 20, {
      timeoutMs: 20_000,
    });
    await agent.kill('SIGKILL');
    await Promise.all(published);

    const afterCrash = readFacts(file);
    expect(afterCrash.history.length).toBeLessThan(180);
    expect(afterCrash.applied.every((e) => e.state === 'pending')).toBe(true);
    expectAgreement(afterCrash);

    // Back up, and head office acknowledges now: the store takes the latest version of every promotion
    // (retained on the broker) and every report leaves its outbox.
    desk.ackEverything();
    agent = await start();
    const till = new TillClient(agent.url, TILL!.token);
    await eventually(
      'every latest version in force',
      async () => (await till.inForce('2026-06-15T12:00:00Z')).length === 60,
      { timeoutMs: 30_000 },
    );
    await eventually(
      'every report acknowledged',
      () => readFacts(file).applied.every((e) => e.state === 'acked'),
      {
        timeoutMs: 30_000,
        describe: () => readFacts(file).applied.filter((e) => e.state !== 'acked').length,
      },
    );
    const final = readFacts(file);
    expectAgreement(final);
    expect(final.catalogue.map((row) => [row.promotion_id, row.version])).toEqual(
      [...latest.values()].map((s) => [s.document.promotionId, 3]).sort(),
    );
    // Head office received every report the store made, the ones from before the crash included.
    const reported = new Set(
      desk.events
        .filter((e) => e.type === 'promotion-applied')
        .map((e) => {
          const body = promotionAppliedBodySchema.parse(JSON.parse(e.body));
          return `${body.promotionId}@${body.version}`;
        }),
    );
    expect([...reported].sort()).toEqual(final.history.map((h) => `${h.promotion_id}@${h.version}`).sort());
    await agent.kill('SIGTERM');
  }, 120_000);
});

describe('promotion settings at start', () => {
  const base = (promotions: unknown, extra: Record<string, unknown> = {}) =>
    writeAgentConfig({
      storeId: STORE_ID,
      dataDir: makeTempDir('agent-promotions-config'),
      api: { host: '127.0.0.1', port: 0, terminals: [TILL!] },
      promotions,
      ...extra,
    });

  it('refuse a trusted key that is not an Ed25519 public key, naming the entry (exit 2)', async () => {
    const rsa = [
      '-----BEGIN PUBLIC KEY-----',
      'MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAL1Wc2W4pWHbRsoo7qf+M2VavV6JmS8Z',
      'x8+2KUE8cTt9kPhCjI0n1cmDwLx5QqsoXQ2AhdOZzK8ZV37EnyZvKmUCAwEAAQ==',
      '-----END PUBLIC KEY-----',
    ].join('\n');
    const good = generateSigningKeyPair();
    const result = await runOutpost([
      'agent',
      '--config',
      base({ trustedKeys: [good.publicKeyBase64, rsa] }),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/promotions\.trustedKeys\[1\] is not a usable Ed25519 public key/);
  });

  it('refuse a trusted key of the wrong shape, and an unknown time zone, naming the field (exit 2)', async () => {
    const shape = await runOutpost(['agent', '--config', base({ trustedKeys: ['not a key'] })]);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toContain('promotions.trustedKeys.0: must be an Ed25519 public key');

    const zone = await runOutpost([
      'agent',
      '--config',
      base({ trustedKeys: [] }, { timeZone: 'Europe/Pariss' }),
    ]);
    expect(zone.code).toBe(2);
    expect(zone.stderr).toContain('timeZone: unknown time zone "Europe/Pariss"');
  });
});
