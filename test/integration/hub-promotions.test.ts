import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { signedPromotionSchema } from '../../src/contracts/promotion.js';
import { topics } from '../../src/contracts/sync-messages.js';
import {
  startHub,
  type PromotionDetail,
  type PromotionListEntry,
  type PublishOutcome,
  type RunningHub,
} from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import {
  catalogueStatement,
  createTrustedKeyring,
  documentDigest,
  generateSigningKeyPair,
  verifyPromotionSignature,
  type SigningKeyPair,
} from '../../src/promotions/index.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { promotionDraft } from '../support/promotion-documents.js';
import { PromotionStoreSim } from '../support/promotion-store-sim.js';
import { waitFor } from '../support/sync-harness.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Head office's side of promotions on a real (private) Mosquitto, with in-process hubs and bare MQTT
 * clients standing in for stores, so each test says exactly what a store states and sends: publishing
 * (signed, stored, retained on its audience), the catalogue exchange that re-offers what a store lacks,
 * rollout from the events path, staged activation, and publishing that survives a broker outage.
 */

const TOKEN = 'operator-token-0123456789abcdef';
const topic = topics('outpost/v1');

let broker: TestMosquitto;
let key: SigningKeyPair;
let keyFile: string;
const hubs: RunningHub[] = [];
const sims: PromotionStoreSim[] = [];

async function startTestHub(
  options: { withKey?: boolean; dbFile?: string; hubId?: string; publishWaitMs?: number } = {},
): Promise<RunningHub> {
  const hub = await startHub(
    hubConfigSchema.parse({
      hubId: options.hubId ?? 'hub-1',
      db: { url: `sqlite:${options.dbFile ?? path.join(makeTempDir('hub-promotions'), 'hub.sqlite')}` },
      mqtt: { url: broker.url, shareGroup: 'hubs', keepaliveSeconds: 2 },
      api: { host: '127.0.0.1', port: 0, token: TOKEN },
      ingest: { parseWorker: false },
      ...(options.withKey === false ? {} : { promotions: { signingKeyFile: keyFile } }),
    }),
    {
      logger: silentLogger(),
      promotionSweep: { sweepAfterMs: 0, sweepEveryMs: 300, publishWaitMs: options.publishWaitMs ?? 5_000 },
    },
  );
  hubs.push(hub);
  await waitFor(
    'the hub is online',
    async () => ((await fetch(`${hub.url}/healthz`)).ok ? true : undefined),
    {
      timeoutMs: 15_000,
    },
  );
  return hub;
}

async function call<T>(hub: RunningHub, method: 'GET' | 'POST', url: string, body?: unknown) {
  const response = await fetch(`${hub.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

const push = (hub: RunningHub, doc: Record<string, unknown>, query = '') =>
  call<PublishOutcome & { error?: string; issues?: { path: unknown[]; message: string }[] }>(
    hub,
    'POST',
    `/v1/promotions${query}`,
    doc,
  );

const detail = async (hub: RunningHub, id: string) =>
  (await call<PromotionDetail>(hub, 'GET', `/v1/promotions/${id}`)).json;

async function store(storeId: string, region?: string, auto = false): Promise<PromotionStoreSim> {
  const sim = await PromotionStoreSim.connect({
    url: broker.url,
    storeId,
    ...(region ? { region } : {}),
    ...(auto ? { auto: { keyring: createTrustedKeyring([key.publicKeyBase64]) } } : {}),
  });
  sims.push(sim);
  return sim;
}

/** Retained messages on a promotion topic, read by a fresh client (what a store connecting now gets). */
async function retainedOn(filter: string): Promise<Map<string, string>> {
  const client = mqtt.connect(broker.url, { reconnectPeriod: 0, clean: true });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const seen = new Map<string, string>();
  client.on('message', (t, payload, packet) => {
    if (packet.retain) seen.set(t, payload.toString('utf8'));
  });
  await client.subscribeAsync(filter, { qos: 1 });
  // Mosquitto sends retained messages right after the SUBACK; a round trip on our own topic flushes them.
  const marker = `test/marker/${Math.random()}`;
  await client.subscribeAsync(marker, { qos: 1 });
  const flushed = new Promise<void>((resolve) => client.on('message', (t) => t === marker && resolve()));
  await client.publishAsync(marker, 'x', { qos: 1 });
  await flushed;
  await client.endAsync(true);
  return seen;
}

beforeAll(async () => {
  broker = await startMosquitto();
  key = generateSigningKeyPair();
  keyFile = path.join(makeTempDir('promotion-key'), 'promotion-signing-key.pem');
  writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
});

afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
  await Promise.all(hubs.splice(0).map((h) => h.stop()));
  // Retained promotions of one test must not leak into the next: the broker starts empty again.
  await broker.restart();
});

afterAll(async () => {
  await broker?.stop();
});

describe('publishing promotions from the hub', () => {
  it('signs, stores and publishes a pushed promotion once, retained, on exactly its audience topics', async () => {
    const hub = await startTestHub();
    const doc = promotionDraft({ promotionId: 'PASTA', target: { regions: ['north'], storeIds: ['S042'] } });
    const answer = await push(hub, doc);
    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ created: true, published: true });
    expect(answer.json.topics).toEqual([
      topic.promotionForRegion('north', 'PASTA'),
      topic.promotionForStore('S042', 'PASTA'),
    ]);

    const retained = await retainedOn('outpost/v1/promotions/#');
    expect([...retained.keys()].sort()).toEqual(answer.json.topics);
    const [stored] = await hub.store.promotionVersions('PASTA');
    for (const text of retained.values()) expect(text).toBe(stored!.signedText);

    // What stores get verifies against the public key, and is the pushed document.
    const signed = signedPromotionSchema.parse(JSON.parse(stored!.signedText));
    expect(
      verifyPromotionSignature(signed.document, signed.signature, createTrustedKeyring([key.publicKeyPem])),
    ).toBe('valid');
    expect(signed.document).toEqual(doc);
    expect(stored).toMatchObject({
      version: 1,
      state: 'active',
      origin: 'push',
      keyId: key.keyId,
      digest: documentDigest(signed.document),
    });
    expect(stored!.publishedAt).not.toBeNull();

    const list = (await call<{ promotions: PromotionListEntry[] }>(hub, 'GET', '/v1/promotions')).json;
    expect(list.promotions.map((p) => [p.promotionId, p.latest.version, p.latest.state])).toEqual([
      ['PASTA', 1, 'active'],
    ]);
  });

  it('refuses nonsense with the paths of the fields (400) and a version not above the latest (409), changing nothing', async () => {
    const hub = await startTestHub();
    const bad = await push(hub, promotionDraft({ rule: { kind: 'percent-off', percent: 120 }, items: {} }));
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: ['rule', 'percent'] }),
        expect.objectContaining({ path: ['items'] }),
      ]),
    );
    expect((await push(hub, promotionDraft({ version: 3 }))).status).toBe(201);
    for (const version of [3, 2]) {
      const stale = await push(hub, promotionDraft({ version, name: 'Another' }));
      expect(stale.status).toBe(409);
      expect(stale.json.error).toMatch(/at version 3.*version 4 or higher/);
    }
    const share = await push(hub, promotionDraft({ version: 4 }), '?activateWhenShare=0.5');
    expect(share.status).toBe(400);
    expect(share.json.error).toMatch(/staged push only/);
    expect((await hub.store.promotionVersions('PROMO-1')).map((v) => v.version)).toEqual([3]);
  });

  it('answers 501 with how to configure a key when the hub has none, and never pretends', async () => {
    const hub = await startTestHub({ withKey: false });
    const answer = await push(hub, promotionDraft());
    expect(answer.status).toBe(501);
    expect(answer.json.error).toMatch(
      /no promotion signing key.*outpost promo keygen.*promotions\.signingKeyFile.*trustedKeys/,
    );
    expect(await hub.store.promotionVersions('PROMO-1')).toEqual([]);
    expect((await retainedOn('outpost/v1/promotions/#')).size).toBe(0);
  });

  it('withdraws with a new signed version that replaces the retained one', async () => {
    const hub = await startTestHub();
    await push(hub, promotionDraft());
    const withdrawn = await call<PublishOutcome>(hub, 'POST', '/v1/promotions/PROMO-1/withdraw');
    expect(withdrawn.status).toBe(201);
    expect(withdrawn.json.version).toMatchObject({ version: 2, state: 'withdrawn', origin: 'withdraw' });
    const retained = await retainedOn(topic.promotionForAll('PROMO-1'));
    expect(JSON.parse(retained.get(topic.promotionForAll('PROMO-1'))!).document).toMatchObject({
      version: 2,
      state: 'withdrawn',
    });
    const again = await call<{ error: string }>(hub, 'POST', '/v1/promotions/PROMO-1/withdraw');
    expect(again.status).toBe(409);
    expect((await call(hub, 'POST', '/v1/promotions/NOPE/withdraw')).status).toBe(404);
  });

  it('retargeting away from a region replaces the retained version there too', async () => {
    const hub = await startTestHub();
    await push(hub, promotionDraft({ target: { regions: ['north'] } }));
    await push(hub, promotionDraft({ version: 2, target: { regions: ['south'] } }));
    const retained = await retainedOn('outpost/v1/promotions/regions/#');
    expect([...retained].map(([t, text]) => [t, JSON.parse(text).document.version])).toEqual(
      expect.arrayContaining([
        [topic.promotionForRegion('north', 'PROMO-1'), 2],
        [topic.promotionForRegion('south', 'PROMO-1'), 2],
      ]),
    );
  });

  it('publishes a version stored while the broker was down as soon as the link is back', async () => {
    const hub = await startTestHub({ publishWaitMs: 300 });
    await broker.kill();
    const answer = await push(hub, promotionDraft());
    expect(answer.status).toBe(201);
    expect(answer.json.published).toBe(false);
    expect((await hub.store.promotionVersions('PROMO-1'))[0]!.publishedAt).toBeNull();

    await broker.restart();
    await waitFor(
      'the version is published',
      async () => ((await hub.store.promotionVersions('PROMO-1'))[0]!.publishedAt ? true : undefined),
      { timeoutMs: 20_000 },
    );
    const retained = await retainedOn(topic.promotionForAll('PROMO-1'));
    expect(retained.get(topic.promotionForAll('PROMO-1'))).toBe(
      (await hub.store.promotionVersions('PROMO-1'))[0]!.signedText,
    );
  });
});

describe('re-offering what a store lacks (the catalogue exchange)', () => {
  it('re-offers exactly the missing version to a store, nothing to one up to date, nothing it refused', async () => {
    const hub = await startTestHub();
    await push(hub, promotionDraft({ promotionId: 'A' }));
    await push(hub, promotionDraft({ promotionId: 'B', target: { regions: ['north'] } }));
    await push(hub, promotionDraft({ promotionId: 'C', target: { storeIds: ['S2'] } }));
    const [a] = await hub.store.promotionVersions('A');
    const [b] = await hub.store.promotionVersions('B');

    // Connects after the pushes, with no retained messages (the broker restarted without persistence).
    await broker.restart();
    await waitFor(
      'the hub is online again',
      async () => ((await fetch(`${hub.url}/healthz`)).ok ? true : undefined),
      { timeoutMs: 15_000 },
    );
    const s1 = await store('S1', 'north');
    // Holds A; lacks B (its region's). Not C (another store's).
    await s1.publishCatalogue({ ...catalogueOf([['A', 1]]) });
    const offered = await s1.waitForMessage((m) => m.topic === topic.promotionForStore('S1', 'B'), {
      what: 'a re-offer of B',
    });
    expect(offered).toMatchObject({ retained: false, text: b!.signedText });

    // Up to date now: nothing. The next statement (missing A) shows the hub answered this one first:
    // one store's statements are handled one after the other, and the hub's publishes reach it in order.
    const before = s1.received.length;
    const answered = await cataloguesAnswered(hub);
    await s1.publishCatalogue(
      catalogueOf([
        ['A', 1],
        ['B', 1],
      ]),
    );
    await waitFor('the hub answered the up-to-date statement', async () =>
      (await cataloguesAnswered(hub)) > answered ? true : undefined,
    );
    await s1.publishCatalogue(catalogueOf([['B', 1]]));
    const marker = await s1.waitForMessage((m) => m.topic === topic.promotionForStore('S1', 'A'), {
      from: before,
      what: 'a re-offer of A',
    });
    expect(marker.text).toBe(a!.signedText);
    expect(s1.received.slice(before).map((m) => m.topic)).toEqual([topic.promotionForStore('S1', 'A')]);

    // A version it says it refused, same digest: not offered again; A (missing) still is.
    const next = s1.received.length;
    await s1.publishCatalogue(catalogueOf([]), [
      { promotionId: 'B', version: 1, digest: b!.digest, reason: 'unknown-key' },
    ]);
    await s1.waitForMessage((m) => m.topic === topic.promotionForStore('S1', 'A'), { from: next });
    // One more statement, missing only A, to be sure nothing of B trails behind.
    const last = s1.received.length;
    await s1.publishCatalogue(catalogueOf([['B', 1]]));
    await s1.waitForMessage((m) => m.topic === topic.promotionForStore('S1', 'A'), { from: last });
    expect(s1.received.slice(next).map((m) => m.topic)).toEqual([
      topic.promotionForStore('S1', 'A'),
      topic.promotionForStore('S1', 'A'),
    ]);
    // Its region was recorded from the statement.
    expect((await hub.store.knownStores()).find((s) => s.storeId === 'S1')?.region).toBe('north');
  });

  it('gives a store that was offline every version pushed meanwhile, after a hub restart and a broker restart without persistence', async () => {
    const dbFile = path.join(makeTempDir('hub-restart'), 'hub.sqlite');
    const first = await startTestHub({ dbFile });
    await push(first, promotionDraft({ promotionId: 'A' }));
    await push(first, promotionDraft({ promotionId: 'B', target: { storeIds: ['S7'] } }));
    await first.stop();
    await broker.restart();
    const second = await startTestHub({ dbFile, hubId: 'hub-2' });
    const keyring = createTrustedKeyring([key.publicKeyBase64]);
    const s7 = await PromotionStoreSim.connect({ url: broker.url, storeId: 'S7', auto: { keyring } });
    sims.push(s7);
    expect(s7.received).toEqual([]);
    await s7.publishCatalogue();
    await waitFor('S7 holds A and B', async () => (s7.held.size === 2 ? true : undefined));
    await s7.settled();
    expect([...s7.held].map(([id, h]) => [id, h.version])).toEqual([
      ['A', 1],
      ['B', 1],
    ]);
    expect((await detail(second, 'B')).versions[0]!.rollout.summary).toMatchObject({
      targeted: 1,
      applied: 1,
    });
  });

  it('takes a withdrawn promotion out of a store that still states it as live', async () => {
    const hub = await startTestHub();
    await push(hub, promotionDraft());
    await call(hub, 'POST', '/v1/promotions/PROMO-1/withdraw');
    const s1 = await store('S1');
    const from = s1.received.length;
    await s1.publishCatalogue(catalogueOf([['PROMO-1', 1]]));
    const offered = await s1.waitForMessage((m) => m.topic === topic.promotionForStore('S1', 'PROMO-1'), {
      from,
    });
    expect(JSON.parse(offered.text).document).toMatchObject({ version: 2, state: 'withdrawn' });
  });
});

describe('rollout and staged activation', () => {
  it('shows per store: applied (when), refused (why), pending (online or offline since when, or never seen)', async () => {
    const hub = await startTestHub();
    await push(hub, promotionDraft({ target: { storeIds: ['S1', 'S2', 'S3', 'S9'] } }));
    const [v1] = await hub.store.promotionVersions('PROMO-1');
    const [s1, s2, s3] = [await store('S1'), await store('S2'), await store('S3')];
    await s3.publishStatus('offline');
    await s1.sendRollout([applied('PROMO-1', 1, v1!.digest, '2026-05-01T10:00:00+02:00')]);
    await s2.sendRollout([
      refused('PROMO-1', 1, 'unknown-key', 'signed with a key this store does not trust'),
    ]);
    await waitFor('S3 known offline', async () =>
      (await hub.store.knownStores()).some((s) => s.storeId === 'S3' && !s.online) ? true : undefined,
    );

    const d = await detail(hub, 'PROMO-1');
    expect(d.versions[0]!.rollout.summary).toEqual({ targeted: 4, applied: 1, refused: 1, pending: 2 });
    expect(d.versions[0]!.rollout.stores).toEqual([
      { storeId: 'S1', targeted: true, status: 'applied', at: '2026-05-01T10:00:00+02:00', change: 'new' },
      expect.objectContaining({
        storeId: 'S2',
        status: 'refused',
        reason: 'unknown-key',
        message: 'signed with a key this store does not trust',
      }),
      expect.objectContaining({ storeId: 'S3', status: 'pending', online: false, since: expect.any(String) }),
      { storeId: 'S9', targeted: true, status: 'pending', online: null, since: null },
    ]);
    // The rollout events are ordinary stored events of the store, acknowledged like sales.
    const events = (await hub.store.listTransactions('S1', { limit: 10 })).events;
    expect(events.map((e) => [e.type, e.status, e.terminalId])).toEqual([
      ['promotion-applied', 'stored', null],
    ]);
  });

  it('holds a staged promotion until the operator activates it with a new signed version', async () => {
    const hub = await startTestHub();
    const staged = await push(hub, promotionDraft({ state: 'staged' }));
    expect(staged.json.version).toMatchObject({ version: 1, state: 'staged' });
    const activated = await call<PublishOutcome>(hub, 'POST', '/v1/promotions/PROMO-1/activate');
    expect(activated.status).toBe(201);
    expect(activated.json.version).toMatchObject({ version: 2, state: 'active', origin: 'activate' });
    expect(activated.json.version.document).toEqual({ ...promotionDraft(), version: 2 });
    const again = await call<{ error: string }>(hub, 'POST', '/v1/promotions/PROMO-1/activate');
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/active already/);
  });

  it('activates a staged promotion automatically once its share of targeted stores applied it: 2 of 3', async () => {
    const hub = await startTestHub();
    const stores = [
      await store('S1', undefined, true),
      await store('S2', undefined, true),
      await store('S3'),
    ];
    for (const s of stores) await s.publishStatus('online');
    await waitFor('three stores known', async () =>
      (await hub.store.knownStores()).length === 3 ? true : undefined,
    );
    const answer = await push(hub, promotionDraft({ state: 'staged' }), '?activateWhenShare=0.6');
    expect(answer.json.version).toMatchObject({ state: 'staged', activateWhenShare: 0.6 });

    // S1 and S2 verify and apply the staged version (retained on the all topic) and report it.
    const active = await waitFor(
      'the automatic activation',
      async () => {
        const versions = await hub.store.promotionVersions('PROMO-1');
        return versions.length === 2 ? versions[1] : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(active).toMatchObject({ version: 2, state: 'active', origin: 'auto-activate' });
    expect(active.createdBy).toMatch(/2 of 3 targeted stores applied version 1 \(threshold 60%\)/);
    // …and it reaches the stores: S1 takes version 2 as an update.
    await waitFor('S1 holds version 2', async () =>
      stores[0]!.held.get('PROMO-1')?.version === 2 ? true : undefined,
    );
    expect(stores[0]!.held.get('PROMO-1')!.document.state).toBe('active');
  });
});

/** Catalogue statements the hub has answered so far, whatever the outcome (GET /metrics). */
async function cataloguesAnswered(hub: RunningHub): Promise<number> {
  const response = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await response.text())
    .split('\n')
    .filter((line) => line.startsWith('outpost_hub_promotion_catalogues_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** A catalogue statement holding exactly these versions (what a store states with versions). */
function catalogueOf(pairs: [string, number][]) {
  // Only id, version, state and target matter to a statement; a target every store matches.
  const heads = pairs.map(([promotionId, version]) => ({
    promotionId,
    version,
    state: 'active' as const,
    target: { all: true as const },
  }));
  return catalogueStatement(heads, { storeId: 'any' });
}

function applied(promotionId: string, version: number, digest: string, appliedAt: string) {
  return {
    v: 1 as const,
    type: 'promotion-applied' as const,
    promotionId,
    version,
    digest,
    keyId: key.keyId,
    change: 'new' as const,
    appliedAt,
  };
}

function refused(promotionId: string, version: number, reason: 'unknown-key', message: string) {
  return {
    v: 1 as const,
    type: 'promotion-refused' as const,
    promotionId,
    version,
    digest: null,
    keyId: 'AAAAAAAAAAAAAAAAAAAAAA',
    reason,
    message,
    refusedAt: '2026-05-01T10:01:00+02:00',
  };
}
