import { createPrivateKey, sign } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import {
  basketSchema,
  pricedBasketSchema,
  type Basket,
  type SignedPromotion,
} from '../../src/contracts/promotion.js';
import { activePromotionsAnswerSchema } from '../../src/contracts/promotion-api.js';
import {
  promotionAppliedBodySchema,
  promotionRefusedBodySchema,
  type PromotionRefusedBody,
} from '../../src/contracts/promotion-sync.js';
import { agentStatusSchema } from '../../src/contracts/status.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
import {
  createBasketPricer,
  createPromotionSigner,
  generateSigningKeyPair,
  signingPayload,
} from '../../src/promotions/index.js';
import { eventually, HeadOfficeDesk, kickStore, TillClient } from '../support/agent-promotions.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { promotion, promotionDraft } from '../support/promotion-documents.js';
import { makeTerminals } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The store agent's promotions, end to end on its side: a private Mosquitto, the real agent (in this
 * process), and head office played by the test, which signs documents with src/promotions/signing.ts and
 * publishes them on the store's topics as a hub does.
 */

const STORE = { storeId: 'S042', region: 'north', timeZone: 'Europe/Paris' };
const [TILL] = makeTerminals(['T1']);

let broker: TestMosquitto;
let desk: HeadOfficeDesk;
let agent: RunningAgent;
let till: TillClient;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});

async function startStore(options: { dataDir?: string; trustedKeys?: string[] } = {}): Promise<RunningAgent> {
  const config = agentConfigSchema.parse({
    ...STORE,
    dataDir: options.dataDir ?? makeTempDir('agent-promotions'),
    api: { host: '127.0.0.1', port: 0, terminals: [TILL] },
    mqtt: { url: broker.url },
    promotions: { trustedKeys: options.trustedKeys ?? [desk.keys.publicKeyPem] },
    sync: { reconnectInitialMs: 50, reconnectMaxMs: 200, ackTimeoutMs: 2000 },
  });
  const started = await startAgent(config, {
    logger: process.env.DEBUG_AGENT
      ? createLogger({ name: 't', level: 'debug', console: true })
      : silentLogger(),
  });
  till = new TillClient(started.url, TILL!.token);
  return started;
}

beforeEach(async () => {
  desk = await HeadOfficeDesk.connect(broker.url, STORE.storeId);
  agent = await startStore();
  // Connected, subscribed, and the catalogue stated: from here on the store takes what is published.
  await eventually('the store to state its catalogue on connecting', () => desk.catalogues.length > 0);
});

afterEach(async () => {
  await agent?.stop();
  await desk?.close();
  // Retained promotions of one test must not reach the next: a fresh broker for each.
  await broker.restart();
});

interface OutboxRecord {
  seq: number;
  type: string;
  state: string;
  body: string;
}

const records = (a: RunningAgent = agent): OutboxRecord[] =>
  a.outbox.database
    .prepare(
      "SELECT seq, type, state, body FROM event_log WHERE type IN ('promotion-applied', 'promotion-refused') ORDER BY id",
    )
    .all() as OutboxRecord[];

const refusals = (a: RunningAgent = agent): PromotionRefusedBody[] =>
  records(a)
    .filter((r) => r.type === 'promotion-refused')
    .map((r) => promotionRefusedBodySchema.parse(JSON.parse(r.body)));

const catalogueRows = (a: RunningAgent = agent) =>
  a.outbox.database
    .prepare(
      'SELECT promotion_id, version, state, digest, signed_text FROM promotion_catalogue ORDER BY promotion_id',
    )
    .all();

/** Waits until the store holds this version of the promotion (in its catalogue, in any state). */
const held = (promotionId: string, version: number) =>
  eventually(`the store to hold ${promotionId} version ${version}`, () =>
    catalogueRows().some(
      (row) =>
        (row as { promotion_id: string }).promotion_id === promotionId &&
        (row as { version: number }).version === version,
    ),
  );

/** Publishes a marker promotion and waits for it: everything published before it has been dealt with. */
let markers = 0;
async function settle(): Promise<void> {
  markers += 1;
  await desk.publish(desk.sign({ promotionId: `MARKER-${markers}`, items: { skus: ['MARKER'] } }));
  await held(`MARKER-${markers}`, 1);
}

const NOW = '2026-06-15T12:00:00+02:00';

describe('a store takes what head office signed for it', () => {
  it('applies a signed version: in force for the tills, proof of rollout in the outbox', async () => {
    const signed = desk.sign({ promotionId: 'COFFEE-10', version: 1 });
    await desk.publish(signed);
    await held('COFFEE-10', 1);

    const answer = activePromotionsAnswerSchema.parse(await till.active(NOW));
    expect(answer.promotions.map((p) => [p.promotionId, p.version, p.name])).toEqual([
      ['COFFEE-10', 1, 'Ten percent off coffee'],
    ]);
    expect(answer.promotions[0]!.promotion).toEqual(signed.document);
    expect(answer.promotions[0]!.until).toBe('2026-12-31T23:00:00.000Z');

    const [record] = records();
    expect(record).toMatchObject({ type: 'promotion-applied', state: 'pending' });
    expect(promotionAppliedBodySchema.parse(JSON.parse(record!.body))).toMatchObject({
      promotionId: 'COFFEE-10',
      version: 1,
      change: 'new',
      keyId: desk.keys.keyId,
    });
    // The envelope is kept exactly as it arrived.
    expect(catalogueRows()).toMatchObject([
      { promotion_id: 'COFFEE-10', signed_text: JSON.stringify(signed) },
    ]);
    const status = agentStatusSchema.parse(await (await fetch(`${agent.url}/v1/status`)).json());
    expect(status.promotions).toMatchObject({
      held: 1,
      timeZone: 'Europe/Paris',
      trustedKeys: 1,
      refused: 0,
    });
    expect(status.backlog.count).toBe(0); // a rollout report is no sale waiting
    expect(status.promotions.unsentReports).toBe(1);
  });

  it('takes a new version in place of the old one at once, and a withdrawal out of force', async () => {
    await desk.publish(
      desk.sign({ promotionId: 'P', version: 1, rule: { kind: 'percent-off', percent: 10 } }),
    );
    await held('P', 1);
    const basket = { currency: 'EUR', lines: [{ sku: 'COFFEE', quantity: 1, unitPrice: 1000 }], at: NOW };
    expect(pricedBasketSchema.parse((await till.price(basket)).body).totals.discount).toBe(100);

    await desk.publish(
      desk.sign({ promotionId: 'P', version: 2, rule: { kind: 'percent-off', percent: 25 } }),
    );
    await held('P', 2);
    expect(await till.inForce(NOW)).toEqual(['P@2']);
    expect(pricedBasketSchema.parse((await till.price(basket)).body).totals.discount).toBe(250);

    await desk.publish(desk.sign({ promotionId: 'P', version: 3, state: 'withdrawn' }));
    await held('P', 3);
    expect(await till.inForce(NOW)).toEqual([]);
    expect(pricedBasketSchema.parse((await till.price(basket)).body).totals.discount).toBe(0);

    const applied = records().map((r) => promotionAppliedBodySchema.parse(JSON.parse(r.body)));
    expect(applied.map((a) => [a.version, a.change, a.previousVersion])).toEqual([
      [1, 'new', undefined],
      [2, 'update', 1],
      [3, 'withdrawal', 2],
    ]);
    // The history keeps every version; the catalogue the latest.
    const history = agent.outbox.database
      .prepare("SELECT version, change FROM promotion_history WHERE promotion_id = 'P' ORDER BY id")
      .all();
    expect(history).toEqual([
      { version: 1, change: 'new' },
      { version: 2, change: 'update' },
      { version: 3, change: 'withdrawal' },
    ]);
    expect(catalogueRows()).toMatchObject([{ promotion_id: 'P', version: 3, state: 'withdrawn' }]);
  });

  it('holds a staged version in force nowhere, until an active version follows', async () => {
    await desk.publish(desk.sign({ promotionId: 'LAUNCH', version: 1, state: 'staged' }));
    await held('LAUNCH', 1);
    expect(await till.inForce(NOW)).toEqual([]);
    const basket = { currency: 'EUR', lines: [{ sku: 'COFFEE', quantity: 2, unitPrice: 500 }], at: NOW };
    expect(pricedBasketSchema.parse((await till.price(basket)).body).promotions).toEqual([]);
    // Staged is live: the store states it holds it, so head office counts it as delivered.
    await eventually('a catalogue statement with the staged version', () =>
      desk.latestCatalogue()?.statement.versions?.LAUNCH === 1 ? true : undefined,
    );

    await desk.publish(desk.sign({ promotionId: 'LAUNCH', version: 2, state: 'active' }));
    await held('LAUNCH', 2);
    expect(await till.inForce(NOW)).toEqual(['LAUNCH@2']);
  });

  it('accepts a promotion for its region or for every store, on those topics', async () => {
    await desk.publish(desk.sign({ promotionId: 'REGIONAL', target: { regions: ['north'] } }), {
      audience: 'region',
      region: 'north',
    });
    await desk.publish(desk.sign({ promotionId: 'EVERYWHERE', target: { all: true } }), { audience: 'all' });
    await held('REGIONAL', 1);
    await held('EVERYWHERE', 1);
    expect(await till.inForce(NOW)).toEqual(['EVERYWHERE@1', 'REGIONAL@1']);
  });

  it('takes out of force a promotion retargeted away from it (a version no longer for this store)', async () => {
    await desk.publish(desk.sign({ promotionId: 'MOVED', version: 1, target: { storeIds: ['S042'] } }));
    await held('MOVED', 1);
    await desk.publish(desk.sign({ promotionId: 'MOVED', version: 2, target: { storeIds: ['S001'] } }));
    await held('MOVED', 2);
    expect(await till.inForce(NOW)).toEqual([]);
    expect(promotionAppliedBodySchema.parse(JSON.parse(records().at(-1)!.body)).change).toBe(
      'no-longer-targeted',
    );
  });
});

/** Signs an arbitrary (even invalid) document with the desk's key, as a hub never would: a malformed one. */
function signAnything(document: unknown): SignedPromotion {
  const key = createPrivateKey(desk.keys.privateKeyPem);
  const signature = sign(null, signingPayload(document), key).toString('base64');
  return {
    document: document as SignedPromotion['document'],
    signature: { keyId: desk.keys.keyId, algorithm: 'Ed25519', signature },
  };
}

describe('what a store refuses leaves its catalogue in force untouched', () => {
  let v1: SignedPromotion;

  beforeEach(async () => {
    v1 = desk.sign({ promotionId: 'KEEP', version: 1, rule: { kind: 'percent-off', percent: 10 } });
    await desk.publish(v1);
    await held('KEEP', 1);
    await desk.publish(
      desk.sign({ promotionId: 'KEEP', version: 2, rule: { kind: 'percent-off', percent: 15 } }),
    );
    await held('KEEP', 2);
  });

  const otherKey = () => createPromotionSigner(generateSigningKeyPair().privateKeyPem);

  const cases: {
    name: string;
    message: () => SignedPromotion | string | object;
    reason: PromotionRefusedBody['reason'];
    claims?: Partial<PromotionRefusedBody>;
  }[] = [
    {
      name: 'an older version',
      message: () =>
        desk.sign({ promotionId: 'KEEP', version: 1, rule: { kind: 'percent-off', percent: 90 } }),
      reason: 'stale-version',
      claims: { promotionId: 'KEEP', version: 1 },
    },
    {
      name: 'a replayed old version (the very message it once applied)',
      message: () => v1,
      reason: 'stale-version',
      claims: { promotionId: 'KEEP', version: 1 },
    },
    {
      name: 'a forged signature (a signed version altered on the way)',
      message: () => {
        const signed = desk.sign({ promotionId: 'KEEP', version: 3 });
        return { ...signed, document: { ...signed.document, rule: { kind: 'percent-off', percent: 90 } } };
      },
      reason: 'bad-signature',
      claims: { promotionId: 'KEEP', version: 3 },
    },
    {
      name: 'an unknown key',
      message: () => otherKey().sign(promotionDraft({ promotionId: 'KEEP', version: 3 })),
      reason: 'unknown-key',
      claims: { promotionId: 'KEEP', version: 3 },
    },
    {
      name: 'a document for another store',
      message: () => desk.sign({ promotionId: 'ELSEWHERE', target: { storeIds: ['S999'] } }),
      reason: 'not-targeted',
    },
    {
      name: 'a document for another region',
      message: () => desk.sign({ promotionId: 'SOUTH', target: { regions: ['south'] } }),
      reason: 'not-targeted',
    },
    {
      name: 'a malformed document, even validly signed',
      message: () =>
        signAnything(
          promotionDraft({ promotionId: 'KEEP', version: 3, rule: { kind: 'percent-off', percent: 150 } }),
        ),
      reason: 'malformed',
      claims: { promotionId: 'KEEP', version: 3 },
    },
    { name: 'a message that is not JSON', message: () => '{"document": {', reason: 'malformed' },
    {
      name: 'an unsigned document',
      message: () => promotionDraft({ promotionId: 'KEEP', version: 3 }),
      reason: 'unsigned',
      claims: { promotionId: 'KEEP', version: 3 },
    },
    {
      name: 'a different document under the version held',
      message: () =>
        desk.sign({ promotionId: 'KEEP', version: 2, rule: { kind: 'percent-off', percent: 90 } }),
      reason: 'version-conflict',
    },
  ];

  it.each(cases)('refuses $name and reports it', async ({ message, reason, claims }) => {
    const before = await till.inForce(NOW);
    const rowsBefore = catalogueRows();
    expect(before).toEqual(['KEEP@2']);

    await desk.publish(message());
    const [refusal] = await eventually('the refusal to be recorded', () => {
      const found = refusals();
      return found.length > 0 ? found : undefined;
    });

    expect(refusal).toMatchObject({ reason, ...claims });
    expect(await till.inForce(NOW)).toEqual(before);
    expect(catalogueRows()).toEqual(rowsBefore);
    const basket = { currency: 'EUR', lines: [{ sku: 'COFFEE', quantity: 1, unitPrice: 1000 }], at: NOW };
    expect(pricedBasketSchema.parse((await till.price(basket)).body).totals.discount).toBe(150);

    const status = agentStatusSchema.parse(await (await fetch(`${agent.url}/v1/status`)).json());
    expect(status.promotions.refused).toBe(1);
    expect(status.promotions.lastRefusal).toMatchObject({ reason, advice: expect.any(String) });
  });

  it('shows a refusal in the status with plain advice, and counts the same refusal once across reconnections', async () => {
    const forged = otherKey().sign(promotionDraft({ promotionId: 'KEEP', version: 9 }));
    await desk.publish(forged);
    await eventually('the refusal', () => refusals().length === 1);

    const status = agentStatusSchema.parse(await (await fetch(`${agent.url}/v1/status`)).json());
    const problem = status.problems.find((p) => p.code === 'promotion-refused');
    expect(problem).toMatchObject({ severity: 'warning' });
    expect(problem!.message).toContain('KEEP');
    expect(problem!.action).toContain('promotions.trustedKeys');

    // The store reconnects and gets the same retained message again: not recorded, reported or counted again.
    const arrived: string[] = [];
    const receive = agent.promotions.receive.bind(agent.promotions);
    agent.promotions.receive = (topic, payload) => {
      arrived.push(payload.toString('utf8'));
      receive(topic, payload);
    };
    const stated = desk.catalogues.length;
    await kickStore(broker.url, STORE.storeId);
    await eventually('the store to reconnect and state its catalogue', () => desk.catalogues.length > stated);
    await settle();
    expect(arrived, 'the retained message came again').toContain(JSON.stringify(forged));
    expect(refusals()).toHaveLength(1);
    const again = agentStatusSchema.parse(await (await fetch(`${agent.url}/v1/status`)).json());
    expect(again.promotions.refused).toBe(1);
  });

  it('ignores a redelivery of the version it holds: no record, no refusal', async () => {
    const before = records().length;
    await desk.publish(
      desk.sign({ promotionId: 'KEEP', version: 2, rule: { kind: 'percent-off', percent: 15 } }),
    );
    await settle();
    // Only the marker's own record was added.
    expect(records().length).toBe(before + 1);
    expect(refusals()).toEqual([]);
  });
});

describe('the store states its catalogue to head office', () => {
  it('on every connection and after every change: what it holds, its region, and what it refused', async () => {
    const first = desk.catalogues[0]!.message;
    expect(first).toMatchObject({ storeId: 'S042', region: 'north', statement: { count: 0 }, refused: [] });

    await desk.publish(desk.sign({ promotionId: 'A', version: 4 }));
    await eventually('a statement holding A', () => desk.latestCatalogue()?.statement.versions?.A === 4);

    const unknown = createPromotionSigner(generateSigningKeyPair().privateKeyPem).sign(
      promotionDraft({ promotionId: 'B', version: 1 }),
    );
    await desk.publish(unknown);
    const stated = await eventually('a statement naming the refused version', () => {
      const refused = desk.latestCatalogue()?.refused ?? [];
      return refused.length > 0 ? refused : undefined;
    });
    expect(stated).toEqual([
      { promotionId: 'B', version: 1, digest: expect.any(String), reason: 'unknown-key' },
    ]);

    // Connecting again, the store states what it holds again.
    const count = desk.catalogues.length;
    await kickStore(broker.url, STORE.storeId);
    const again = await eventually('a statement after reconnecting', () => desk.catalogues[count]?.message);
    expect(again.statement).toMatchObject({ count: 1, versions: { A: 4 } });
  });
});

describe('store-local time', () => {
  it('honours "Saturday 00:00 to Sunday 23:59, Europe/Paris" across both daylight-saving changes', async () => {
    await desk.publish(
      desk.sign({
        promotionId: 'WEEKEND',
        validity: {
          from: '2026-03-01T00:00',
          until: '2026-11-30T23:59',
          weekly: [{ from: { day: 'saturday', time: '00:00' }, until: { day: 'sunday', time: '23:59' } }],
        },
      }),
    );
    await held('WEEKEND', 1);
    const inForce = async (at: string) => (await till.inForce(at)).includes('WEEKEND@1');

    // Spring forward (29 March 2026): the weekend runs 47 hours.
    expect(await inForce('2026-03-27T22:59:59Z')).toBe(false);
    expect(await inForce('2026-03-27T23:00:00Z')).toBe(true);
    expect(await inForce('2026-03-29T21:59:59Z')).toBe(true);
    expect(await inForce('2026-03-29T22:00:00Z')).toBe(false);
    const spring = (await till.active('2026-03-28T12:00:00Z')).promotions[0]!;
    expect([spring.since, spring.until]).toEqual(['2026-03-27T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);

    // Fall back (25 October 2026): 49 hours.
    expect(await inForce('2026-10-23T21:59:59Z')).toBe(false);
    expect(await inForce('2026-10-23T22:00:00Z')).toBe(true);
    expect(await inForce('2026-10-25T22:59:59Z')).toBe(true);
    expect(await inForce('2026-10-25T23:00:00Z')).toBe(false);
    const autumn = (await till.active('2026-10-24T12:00:00+02:00')).promotions[0]!;
    expect([autumn.since, autumn.until]).toEqual(['2026-10-23T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);

    // Midweek: not in force, and it says when it starts next.
    const midweek = await till.active('2026-10-21T12:00:00Z');
    expect(midweek.promotions).toEqual([]);
    expect(midweek.next).toEqual({
      startsAt: '2026-10-23T22:00:00.000Z',
      promotions: [{ promotionId: 'WEEKEND', version: 1, name: 'Ten percent off coffee' }],
    });
  });
});

/** A small deterministic random source, so a failing basket can be replayed. */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('basket pricing', () => {
  const catalogue = () => [
    promotionDraft({
      promotionId: 'PCT',
      rule: { kind: 'percent-off', percent: 12.5 },
      items: { categories: ['coffee'] },
    }),
    promotionDraft({
      promotionId: 'B3G1',
      rule: { kind: 'buy-x-get-y', buy: 2, get: 1 },
      items: { categories: ['pasta'] },
      priority: 5,
    }),
    promotionDraft({
      promotionId: 'BUNDLE',
      rule: { kind: 'bundle-price', quantity: 3, price: 500 },
      items: { skus: ['TEA', 'COCOA'] },
      concurrency: 'compounded',
    }),
    promotionDraft({
      promotionId: 'SPEND',
      rule: { kind: 'threshold', spend: 3000, amountOff: 300 },
      items: { all: true },
      exclusions: { categories: ['tobacco'] },
    }),
    promotionDraft({
      promotionId: 'SOLO',
      rule: { kind: 'fixed-price', price: 99 },
      items: { skus: ['GUM'] },
      concurrency: 'exclusive',
    }),
  ];
  const items = [
    { sku: 'COFFEE', category: 'coffee', unitPrice: 799 },
    { sku: 'ESPRESSO', category: 'coffee', unitPrice: 1099 },
    { sku: 'SPAGHETTI', category: 'pasta', unitPrice: 129 },
    { sku: 'PENNE', category: 'pasta', unitPrice: 149 },
    { sku: 'TEA', category: 'tea', unitPrice: 250 },
    { sku: 'COCOA', category: 'tea', unitPrice: 320 },
    { sku: 'GUM', category: 'sweets', unitPrice: 150 },
    { sku: 'CIGARS', category: 'tobacco', unitPrice: 2000 },
    { sku: 'BANANAS', category: 'fruit', unitPrice: 199 },
  ];

  it('prices over HTTP exactly as the pure pricer does, with the catalogue the store holds', async () => {
    const documents = catalogue().map((draft) => desk.signer.sign(draft));
    for (const signed of documents) await desk.publish(signed);
    for (const signed of documents) await held(signed.document.promotionId, 1);
    const pricer = createBasketPricer(STORE);
    const random = lcg(20260615);
    let discounted = 0;
    for (let n = 0; n < 40; n++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
        const item = items[Math.floor(random() * items.length)]!;
        const weighed = item.sku === 'BANANAS';
        return {
          ...item,
          quantity: weighed ? Math.round(random() * 2000 + 100) / 1000 : 1 + Math.floor(random() * 5),
        };
      });
      const basket: Basket = basketSchema.parse({ currency: 'EUR', lines, at: NOW });
      const { status, body } = await till.price(basket);
      expect(status, JSON.stringify(body)).toBe(200);
      const expected = pricer.price(
        documents.map((d) => d.document),
        basket,
        Date.parse(NOW),
      );
      expect(pricedBasketSchema.parse(body)).toEqual(expected);
      if (expected.totals.discount > 0) discounted += 1;
    }
    // The comparison means something only if the baskets did get discounts.
    expect(discounted).toBeGreaterThan(20);
  });

  it('answers a client mistake with 400 and the paths at fault, and changes nothing', async () => {
    const cases: [unknown, (string | number)[]][] = [
      [{ currency: 'EUR', lines: [] }, ['lines']],
      [{ currency: 'EURO', lines: [{ sku: 'A', quantity: 1, unitPrice: 1 }] }, ['currency']],
      [{ currency: 'EUR', lines: [{ sku: 'A', quantity: -1, unitPrice: 1 }] }, ['lines', 0, 'quantity']],
      [{ currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPrice: 1.5 }] }, ['lines', 0, 'unitPrice']],
      [{ currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPrice: 1 }], at: 'tomorrow' }, ['at']],
      [{ currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPrice: 1, colour: 'red' }] }, ['lines', 0]],
    ];
    for (const [basket, path] of cases) {
      const { status, body } = await till.price(basket);
      expect(status, JSON.stringify(basket)).toBe(400);
      expect((body as { issues: { path: unknown }[] }).issues.map((i) => i.path)).toContainEqual(path);
    }
    expect((await till.price('{"currency":')).status).toBe(400);
    const noToken = await fetch(`${agent.url}/v1/baskets/price`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPrice: 1 }] }),
    });
    expect(noToken.status).toBe(401);
    expect(agent.outbox.stats().lastSeq).toBe(0);
  });

  it('still answers what is in force, and prices, with the broker down', async () => {
    await desk.publish(desk.sign({ promotionId: 'OFFLINE', rule: { kind: 'amount-off', amount: 50 } }));
    await held('OFFLINE', 1);
    await broker.kill();
    await eventually(
      'the store to notice the broker is gone',
      () => agent.sync?.connection().state === 'offline',
    );

    expect(await till.inForce()).toEqual(['OFFLINE@1']);
    const { status, body } = await till.price({
      currency: 'EUR',
      lines: [{ sku: 'COFFEE', quantity: 2, unitPrice: 400 }],
    });
    expect(status).toBe(200);
    expect(pricedBasketSchema.parse(body).totals).toEqual({ gross: 800, discount: 100, tax: 0, total: 700 });
    await broker.restart();
  });
});

describe('catalogue documents and their promotion in the answer', () => {
  it('keeps what it holds across a restart of the agent', async () => {
    const signed = desk.sign({ promotionId: 'DURABLE', version: 7 });
    await desk.publish(signed);
    await held('DURABLE', 7);
    const dataDir = (agent.outbox.file.match(/^(.*)\/outbox\.sqlite$/) ?? [])[1]!;
    await agent.stop();
    await broker.restart(); // nothing retained: what the store holds comes from its own database
    agent = await startStore({ dataDir });
    expect(await till.inForce(NOW)).toEqual(['DURABLE@7']);
    expect((await till.active(NOW)).promotions[0]!.promotion).toEqual(
      promotion({ promotionId: 'DURABLE', version: 7 }),
    );
  });
});
