import { createPrivateKey, sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { PricedBasket, PromotionDocument } from '../../src/contracts/promotion.js';
import type { ActivePromotionsAnswer } from '../../src/contracts/promotion-api.js';
import { createPromotionSigner, generateSigningKeyPair, signingPayload } from '../../src/promotions/index.js';
import { eventually, type TillClient } from '../support/agent-promotions.js';
import { AT, PromotionFleet, topic, type FleetStore } from '../support/promotion-fleet.js';
import { promotionDraft } from '../support/promotion-documents.js';

/**
 * Promotions from head office to the tills, end to end, on what runs in production: a private Mosquitto
 * without persistence, `outpost hub` and `outpost agent` as child processes, the operator's API calls and
 * the tills' own questions (`GET /v1/promotions/active`, `POST /v1/baskets/price`). Each store's link runs
 * through a proxy of its own, so a store goes offline while head office and the other stores stay up.
 */

let fleet: PromotionFleet | undefined;

afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

async function startFleet(...stores: { storeId: string; region?: string }[]) {
  fleet = await PromotionFleet.start();
  const started = await fleet.addStores(...stores);
  return { fleet, stores: started };
}

/** Ten percent off one sku, for every store, unless the overrides say otherwise. */
const offer = (promotionId: string, sku: string, overrides: Record<string, unknown> = {}) =>
  promotionDraft({ promotionId, name: `${promotionId} offer`, items: { skus: [sku] }, ...overrides });

/** One unit of each sku at 10.00, priced at the fleet's instant. */
const basket = (...skus: string[]) => ({
  currency: 'EUR',
  at: AT,
  lines: skus.map((sku, i) => ({ lineNo: i + 1, sku, quantity: 1, unitPrice: 1000 })),
});

async function price(store: FleetStore, ...skus: string[]): Promise<PricedBasket> {
  const answer = await store.till.price(basket(...skus));
  if (answer.status !== 200)
    throw new Error(`price answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body as PricedBasket;
}

describe('a promotion pushed while a store is offline', () => {
  it('is in force there once the store reconnects, and head office sees it applied', async () => {
    const { fleet, stores } = await startFleet({ storeId: 'S1', region: 'north' });
    const [s1] = stores as [FleetStore];
    await s1.offline();
    const pushed = await fleet.push(offer('WHILE-OFFLINE', 'COFFEE', { target: { regions: ['north'] } }));
    expect(pushed.published).toBe(true);
    // Head office knows the store is away, and since when.
    const waiting = await fleet.rolloutOf('WHILE-OFFLINE', 1, (r) =>
      r.stores.some((s) => s.status === 'pending' && s.online === false),
    );
    expect(waiting.stores).toEqual([
      { storeId: 'S1', targeted: true, status: 'pending', online: false, since: expect.any(String) },
    ]);
    expect(await s1.inForce()).toEqual([]);

    await s1.online();
    await s1.waitInForce('WHILE-OFFLINE', 1);
    expect((await price(s1, 'COFFEE')).totals.discount).toBe(100);
    const rollout = await fleet.rolloutOf('WHILE-OFFLINE', 1, (r) => r.summary.applied === 1);
    expect(rollout.stores).toEqual([
      expect.objectContaining({ storeId: 'S1', status: 'applied', change: 'new' }),
    ]);
  });

  it('is in force there too when the broker restarted without persistence meanwhile', async () => {
    const { fleet, stores } = await startFleet({ storeId: 'S1', region: 'north' });
    const [s1] = stores as [FleetStore];
    await s1.offline();
    await fleet.push(offer('BROKER-FORGOT', 'COFFEE'));
    expect(await fleet.retainedPromotions()).toEqual([topic.promotionForAll('BROKER-FORGOT')]);

    await fleet.broker.restart();
    // Nothing retained survives: what the store gets now comes from head office's answer to the
    // catalogue it states, or not at all.
    expect(await fleet.retainedPromotions()).toEqual([]);
    await fleet.hubOnBroker();
    await s1.online();
    await s1.waitInForce('BROKER-FORGOT', 1);
    await fleet.rolloutOf('BROKER-FORGOT', 1, (r) => r.summary.applied === 1);
  });

  it('is in force there too after a hub restart (kill -9), with the broker forgetting too', async () => {
    const { fleet, stores } = await startFleet({ storeId: 'S1', region: 'north' });
    const [s1] = stores as [FleetStore];
    await s1.offline();
    await fleet.push(offer('HUB-RESTARTED', 'COFFEE', { target: { storeIds: ['S1'] } }));
    await fleet.stopHub('SIGKILL');
    // The broker forgets the retained copy as well, so the restarted hub, from its database alone, is
    // the only way the promotion can reach the store.
    await fleet.broker.restart();
    expect(await fleet.retainedPromotions()).toEqual([]);
    await fleet.startHub();

    await s1.online();
    await s1.waitInForce('HUB-RESTARTED', 1);
    const rollout = await fleet.rolloutOf('HUB-RESTARTED', 1, (r) => r.summary.applied === 1);
    expect(rollout.summary).toEqual({ targeted: 1, applied: 1, refused: 0, pending: 0 });
  });
});

describe('changing a promotion in force', () => {
  it('replaces each version atomically for a till polling during the switch, and withdrawal reaches the store', async () => {
    const { fleet, stores } = await startFleet({ storeId: 'S1' });
    const [s1] = stores as [FleetStore];
    // Each version changes the rule and the items, so a till seeing half of one and half of another (or
    // nothing in between) prices the basket differently from every version.
    const versions = [
      offer('SWITCH', 'COFFEE', { version: 1 }),
      offer('SWITCH', 'COFFEE', {
        version: 2,
        rule: { kind: 'percent-off', percent: 20 },
        items: { skus: ['COFFEE', 'TEA'] },
      }),
      offer('SWITCH', 'TEA', { version: 3, rule: { kind: 'amount-off', amount: 50 } }),
      offer('SWITCH', 'COFFEE', { version: 4, rule: { kind: 'fixed-price', price: 600 } }),
    ];
    /** The discount each version gives on COFFEE + TEA (10.00 each). */
    const discountOf = new Map([
      [1, 100],
      [2, 400],
      [3, 50],
      [4, 400],
    ]);
    const WITHDRAWN = 5;

    await fleet.push(versions[0]!);
    await s1.waitInForce('SWITCH', 1);

    const poller = new SwitchPoller(s1.till, versions, discountOf);
    const polling = Promise.all([poller.run(), poller.run(), poller.run()]);
    try {
      for (const document of versions.slice(1)) {
        const version = document.version as number;
        await fleet.push(document);
        await s1.waitInForce('SWITCH', version);
        await poller.seenByAll(version);
      }
      poller.expectWithdrawal();
      const withdrawn = await fleet.change('SWITCH', 'withdraw');
      expect(withdrawn.version).toMatchObject({ version: WITHDRAWN, state: 'withdrawn' });
      await poller.seenByAll(WITHDRAWN);
    } finally {
      poller.stop();
      await polling;
    }
    expect(poller.problems).toEqual([]);
    expect(poller.observations).toBeGreaterThan(20);

    expect(await s1.inForce()).toEqual([]);
    expect((await price(s1, 'COFFEE', 'TEA')).totals.discount).toBe(0);
    // Kept as history, out of force.
    expect((await s1.status()).promotions).toMatchObject({ held: 1, active: 0 });
    const rollout = await fleet.rolloutOf('SWITCH', WITHDRAWN, (r) => r.summary.applied === 1);
    expect(rollout.stores).toEqual([
      expect.objectContaining({ storeId: 'S1', status: 'applied', change: 'withdrawal' }),
    ]);
  });

  it('has a switch check that can fail: a gap, a mixed version and a till going back (fabricated answers)', async () => {
    const versions = [
      offer('SWITCH', 'COFFEE', { version: 1 }),
      offer('SWITCH', 'COFFEE', { version: 2, rule: { kind: 'percent-off', percent: 20 } }),
    ];
    const discountOf = new Map([
      [1, 100],
      [2, 200],
    ]);
    const check = async (script: ScriptStep[]) => {
      const poller: SwitchPoller = new SwitchPoller(
        scriptedTill(script, versions, discountOf, () => poller),
        versions,
        discountOf,
      );
      await poller.run();
      return poller.problems;
    };
    expect(await check([1, 1, 2, 2, 'withdraw', 'none', 'none'])).toEqual([]);
    expect(await check([1, 'none', 2, 2])).toEqual([
      'price answered without any version before the withdrawal',
    ]);
    expect(await check([1, 1, { claims: 2, contentOf: 1 }, 2])).toEqual([
      "active shows version 2 with a document that is not that version's",
    ]);
    expect(await check([1, { claims: 2, contentOf: 1 }, 2, 2])).toEqual(['price gave 100 for version 2']);
    expect(await check([1, 2, 1, 2])).toEqual(['went back from version 2 to 1']);
  });
});

describe('what a store refuses', () => {
  it('refuses each bad message straight on its topics, keeps the catalogue in force, and head office hears of it', async () => {
    const { fleet, stores } = await startFleet({ storeId: 'S1', region: 'north' });
    const [s1] = stores as [FleetStore];

    // OLD: versions 1 and 2 pushed while the store was away, so it only ever got version 2.
    await s1.offline();
    await fleet.push(offer('OLD', 'OLD-SKU'));
    await fleet.push(offer('OLD', 'OLD-SKU', { version: 2, rule: { kind: 'percent-off', percent: 20 } }));
    await s1.online();
    await s1.waitInForce('OLD', 2);
    // REPLAY: versions 1 then 2, both applied.
    await fleet.push(offer('REPLAY', 'REPLAY-SKU'));
    await s1.waitInForce('REPLAY', 1);
    await fleet.push(
      offer('REPLAY', 'REPLAY-SKU', { version: 2, rule: { kind: 'percent-off', percent: 30 } }),
    );
    await s1.waitInForce('REPLAY', 2);
    // Genuine versions for others: another store, another region.
    await fleet.push(offer('ELSEWHERE', 'OTHER-SKU', { target: { storeIds: ['S-OTHER'] } }));
    await fleet.push(offer('SOUTH', 'OTHER-SKU', { target: { regions: ['south'] } }));

    const hubKey = createPrivateKey(fleet.keys.privateKeyPem);
    /** Signed with head office's own key without the hub's validation: a signed document the store cannot read. */
    const signedRaw = (document: Record<string, unknown>) =>
      JSON.stringify({
        document,
        signature: {
          keyId: fleet.keys.keyId,
          algorithm: 'Ed25519',
          signature: sign(null, signingPayload(document), hubKey).toString('base64'),
        },
      });
    const genuineV2 = JSON.parse(await fleet.signedText('REPLAY', 2)) as {
      document: Record<string, unknown>;
      signature: unknown;
    };
    const stranger = createPromotionSigner(generateSigningKeyPair().privateKeyPem);
    const own = (promotionId: string) => topic.promotionForStore('S1', promotionId);

    const cases: { what: string; on: string; text: string; reason: string }[] = [
      {
        what: 'an older version it never held',
        on: own('OLD'),
        text: await fleet.signedText('OLD', 1),
        reason: 'stale-version',
      },
      {
        what: 'a replayed old version',
        on: own('REPLAY'),
        text: await fleet.signedText('REPLAY', 1),
        reason: 'stale-version',
      },
      {
        what: 'a forged signature (a genuine one over another document)',
        on: own('REPLAY'),
        text: JSON.stringify({
          document: { ...genuineV2.document, version: 3, rule: { kind: 'percent-off', percent: 90 } },
          signature: genuineV2.signature,
        }),
        reason: 'bad-signature',
      },
      {
        what: 'an unknown key',
        on: own('REPLAY'),
        text: JSON.stringify(
          stranger.sign(
            offer('REPLAY', 'REPLAY-SKU', { version: 4, rule: { kind: 'percent-off', percent: 90 } }),
          ),
        ),
        reason: 'unknown-key',
      },
      {
        what: 'a document for another store',
        on: own('ELSEWHERE'),
        text: await fleet.signedText('ELSEWHERE', 1),
        reason: 'not-targeted',
      },
      {
        what: 'a document for another region (on its own region topic)',
        on: topic.promotionForRegion('north', 'SOUTH'),
        text: await fleet.signedText('SOUTH', 1),
        reason: 'not-targeted',
      },
      {
        what: 'a malformed document, signed',
        on: own('REPLAY'),
        text: signedRaw(
          offer('REPLAY', 'REPLAY-SKU', { version: 5, rule: { kind: 'percent-off', percent: 120 } }),
        ),
        reason: 'malformed',
      },
      { what: 'a message that is not JSON', on: own('REPLAY'), text: '{"document": {', reason: 'malformed' },
      {
        what: 'an unsigned document',
        on: own('REPLAY'),
        text: JSON.stringify(
          offer('REPLAY', 'REPLAY-SKU', { version: 6, rule: { kind: 'percent-off', percent: 90 } }),
        ),
        reason: 'unsigned',
      },
    ];

    const inForceBefore = await s1.till.active(AT);
    expect(inForceBefore.promotions.map((p) => `${p.promotionId}@${p.version}`)).toEqual([
      'OLD@2',
      'REPLAY@2',
    ]);
    const priceBefore = await price(s1, 'OLD-SKU', 'REPLAY-SKU', 'OTHER-SKU');
    expect(priceBefore.totals.discount).toBe(200 + 300);
    const refusedBefore = (await s1.status()).promotions.refused ?? 0;

    for (const [i, c] of cases.entries()) {
      await fleet.publish(c.on, c.text);
      const status = await eventually(
        `${c.what}: refused by the store`,
        async () => {
          const { promotions } = await s1.status();
          return promotions.refused === refusedBefore + i + 1 ? promotions : undefined;
        },
        { describe: async () => (await s1.status()).promotions },
      );
      // Counted and shown to the store manager with what to do.
      expect(status.lastRefusal, c.what).toMatchObject({ reason: c.reason, advice: expect.any(String) });
      expect(withoutAt(await s1.till.active(AT)), c.what).toEqual(withoutAt(inForceBefore));
      expect(await price(s1, 'OLD-SKU', 'REPLAY-SKU', 'OTHER-SKU'), c.what).toEqual(priceBefore);
    }

    // Head office: each refusal of a version it knows in that version's rollout, with the reason.
    const storeRow = (reason: string, targeted: boolean) =>
      expect.objectContaining({ storeId: 'S1', targeted, status: 'refused', reason });
    const oldV1 = await fleet.rolloutOf('OLD', 1, (r) => r.summary.refused === 1);
    expect(oldV1.stores).toEqual([storeRow('stale-version', true)]);
    const elsewhere = await fleet.rolloutOf('ELSEWHERE', 1, (r) => r.stores.some((s) => s.storeId === 'S1'));
    expect(elsewhere.stores).toEqual([
      expect.objectContaining({ storeId: 'S-OTHER', status: 'pending', online: null }),
      storeRow('not-targeted', false),
    ]);
    const south = await fleet.rolloutOf('SOUTH', 1, (r) => r.stores.some((s) => s.storeId === 'S1'));
    expect(south.stores).toEqual([storeRow('not-targeted', false)]);
    // Versions it never published (forged, foreign key, unreadable, unsigned) are shown apart.
    const replay = await eventually(
      'the refusals of REPLAY versions head office never published',
      async () => {
        const detail = await fleet.detail('REPLAY');
        return detail.unknownVersions.length === 4 ? detail : undefined;
      },
      { describe: () => fleet.detail('REPLAY') },
    );
    expect(
      replay.unknownVersions.map((u) => [u.version, u.stores.map((s) => [s.storeId, s.outcome, s.reason])]),
    ).toEqual([
      [3, [['S1', 'refused', 'bad-signature']]],
      [4, [['S1', 'refused', 'unknown-key']]],
      [5, [['S1', 'refused', 'malformed']]],
      [6, [['S1', 'refused', 'unsigned']]],
    ]);
    // A replay of a version the store applied stays "applied" in the rollout (a late refusal never hides
    // what the store holds), and the refusal itself is among the store's events at head office, like
    // the refusal of a message that names no promotion at all.
    expect(replay.versions.map((v) => [v.version, v.rollout.stores.map((s) => s.status)])).toEqual([
      [2, ['applied']],
      [1, ['applied']],
    ]);
    const reported = await eventually(
      'every refusal among the store events at head office',
      async () => {
        const refusals = await fleet.refusalEvents('S1');
        return refusals.length === cases.length ? refusals : undefined;
      },
      { describe: () => fleet.refusalEvents('S1') },
    );
    expect(reported.map((r) => r.reason)).toEqual(cases.map((c) => c.reason));
    expect(reported[1]).toMatchObject({ promotionId: 'REPLAY', version: 1, reason: 'stale-version' });
    expect(reported[7]).toMatchObject({ promotionId: null, version: null, reason: 'malformed' });
  });
});

describe('rollout and staged promotions with three stores', () => {
  it('shows 2 of 3 applied while one store is offline, then 3 of 3 once it returns', async () => {
    const { fleet, stores } = await startFleet(
      { storeId: 'S1', region: 'north' },
      { storeId: 'S2', region: 'north' },
      { storeId: 'S3', region: 'north' },
    );
    const [s1, s2, s3] = stores as [FleetStore, FleetStore, FleetStore];
    await s3.offline();
    await fleet.push(offer('ROLLOUT', 'COFFEE', { target: { regions: ['north'] } }));

    const partial = await fleet.rolloutOf(
      'ROLLOUT',
      1,
      (r) => r.summary.applied === 2 && r.stores.some((s) => s.status === 'pending' && s.online === false),
    );
    expect(partial.summary).toEqual({ targeted: 3, applied: 2, refused: 0, pending: 1 });
    expect(partial.stores).toEqual([
      expect.objectContaining({ storeId: 'S1', status: 'applied' }),
      expect.objectContaining({ storeId: 'S2', status: 'applied' }),
      { storeId: 'S3', targeted: true, status: 'pending', online: false, since: expect.any(String) },
    ]);
    const listed = await fleet.call<{ promotions: { promotionId: string; rollout: unknown }[] }>(
      'GET',
      '/v1/promotions',
    );
    expect(listed.json.promotions).toEqual([
      expect.objectContaining({
        promotionId: 'ROLLOUT',
        rollout: { targeted: 3, applied: 2, refused: 0, pending: 1 },
      }),
    ]);
    for (const store of [s1, s2]) expect(await store.inForce()).toEqual(['ROLLOUT@1']);

    await s3.online();
    await s3.waitInForce('ROLLOUT', 1);
    const complete = await fleet.rolloutOf('ROLLOUT', 1, (r) => r.summary.applied === 3);
    expect(complete.summary).toEqual({ targeted: 3, applied: 3, refused: 0, pending: 0 });
  });

  it('keeps a staged promotion out of force on every till until the operator activates it', async () => {
    const { fleet, stores } = await startFleet({ storeId: 'S1' }, { storeId: 'S2' }, { storeId: 'S3' });
    const staged = await fleet.push(offer('STAGED', 'TEA', { state: 'staged' }));
    expect(staged.version).toMatchObject({ version: 1, state: 'staged' });
    // Every store holds it (applied, and reported so)…
    await fleet.rolloutOf('STAGED', 1, (r) => r.summary.applied === 3);
    for (const store of stores) {
      // …and no till applies it.
      expect(await store.inForce(), store.storeId).toEqual([]);
      expect((await price(store, 'TEA')).totals.discount, store.storeId).toBe(0);
      expect((await store.status()).promotions, store.storeId).toMatchObject({ held: 1, active: 0 });
    }

    const activated = await fleet.change('STAGED', 'activate');
    expect(activated.version).toMatchObject({ version: 2, state: 'active', origin: 'activate' });
    for (const store of stores) {
      await store.waitInForce('STAGED', 2);
      expect((await price(store, 'TEA')).totals.discount, store.storeId).toBe(100);
    }
  });

  it('activates a staged promotion by itself once its share of stores holds it, not before', async () => {
    const { fleet, stores } = await startFleet({ storeId: 'S1' }, { storeId: 'S2' }, { storeId: 'S3' });
    const [s1, s2, s3] = stores as [FleetStore, FleetStore, FleetStore];
    await s3.offline();
    const staged = await fleet.push(offer('AUTO', 'JUICE', { state: 'staged' }), '?activateWhenShare=1');
    expect(staged.version).toMatchObject({ version: 1, state: 'staged', activateWhenShare: 1 });

    await fleet.rolloutOf('AUTO', 1, (r) => r.summary.applied === 2 && r.summary.pending === 1);
    // The hub checks the share after each rollout commit; give that check a moment to (wrongly) act.
    await sleep(1_000);
    expect((await fleet.detail('AUTO')).versions.map((v) => [v.version, v.state])).toEqual([[1, 'staged']]);
    for (const store of [s1, s2]) {
      expect(await store.inForce(), store.storeId).toEqual([]);
      expect((await price(store, 'JUICE')).totals.discount, store.storeId).toBe(0);
    }

    await s3.online();
    for (const store of stores) await store.waitInForce('AUTO', 2);
    const [active] = (await fleet.detail('AUTO')).versions;
    expect(active).toMatchObject({ version: 2, state: 'active', origin: 'auto-activate' });
    expect(active!.createdBy).toMatch(/3 of 3 targeted stores applied version 1 \(threshold 100%\)/);
    for (const store of stores)
      expect((await price(store, 'JUICE')).totals.discount, store.storeId).toBe(100);
  });
});

/** The answer without the instant it echoes, to compare two answers for the same instant. */
function withoutAt(answer: ActivePromotionsAnswer): Omit<ActivePromotionsAnswer, 'at'> {
  const { at: _at, ...rest } = answer;
  return rest;
}

/**
 * Tills asking what is in force and pricing a basket, one request after another, while head office
 * replaces a promotion version by version and then withdraws it. Every answer must be exactly one whole
 * version (its very document, its price) or, once withdrawn, nothing; and a till never goes back to an
 * earlier version. Versions are numbered; withdrawal is the last.
 */
class SwitchPoller {
  readonly problems: string[] = [];
  observations = 0;
  private readonly latest: number[] = [];
  private stopped = false;
  private withdrawing = false;
  private readonly withdrawn: number;

  constructor(
    private readonly till: Pick<TillClient, 'active' | 'price'>,
    private readonly versions: readonly Record<string, unknown>[],
    private readonly discountOf: ReadonlyMap<number, number>,
  ) {
    this.withdrawn = versions.length + 1;
  }

  /** One till: bounded, stops on `stop()` or after 20,000 answers. */
  async run(): Promise<void> {
    const till = this.latest.push(0) - 1;
    for (let i = 0; i < 20_000 && !this.stopped; i++) {
      const seen = i % 2 === 0 ? await this.askActive() : await this.askPrice();
      this.observations += 1;
      if (seen === undefined) continue;
      if (seen < this.latest[till]!) this.problem(`went back from version ${this.latest[till]} to ${seen}`);
      this.latest[till] = Math.max(this.latest[till]!, seen);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** From now on an answer without the promotion is the withdrawal; before, it is a gap. */
  expectWithdrawal(): void {
    this.withdrawing = true;
  }

  private gone(what: string): number | undefined {
    return this.withdrawing
      ? this.withdrawn
      : this.problem(`${what} without any version before the withdrawal`);
  }

  /** Waits until every till has seen this version (or later), so each switch happens under observation. */
  seenByAll(version: number): Promise<unknown> {
    return eventually(`every till to see version ${version}`, () => this.latest.every((v) => v >= version), {
      timeoutMs: 15_000,
      describe: () => ({ latest: this.latest, problems: this.problems }),
    });
  }

  private problem(text: string): undefined {
    if (this.problems.length < 20) this.problems.push(text);
    return undefined;
  }

  private async askActive(): Promise<number | undefined> {
    const answer = await this.till.active(AT);
    const mine = answer.promotions.filter((p) => p.promotionId === 'SWITCH');
    if (mine.length === 0) return this.gone('active answered');
    if (mine.length > 1) return this.problem(`active lists SWITCH ${mine.length} times`);
    const [p] = mine as [ActivePromotionsAnswer['promotions'][number]];
    const expected = this.versions[p.version - 1];
    if (expected === undefined || !isDeepStrictEqual(p.promotion, expected))
      return this.problem(`active shows version ${p.version} with a document that is not that version's`);
    return p.version;
  }

  private async askPrice(): Promise<number | undefined> {
    const answer = await this.till.price(basket('COFFEE', 'TEA'));
    if (answer.status !== 200) return this.problem(`price answered ${answer.status}`);
    const priced = answer.body as PricedBasket;
    if (priced.promotions.length === 0 && priced.totals.discount === 0) return this.gone('price answered');
    const [p] = priced.promotions;
    if (priced.promotions.length !== 1 || p === undefined)
      return this.problem(`price applied ${priced.promotions.length} promotions`);
    if (p.amount !== this.discountOf.get(p.version) || priced.totals.discount !== p.amount)
      return this.problem(`price gave ${priced.totals.discount} for version ${p.version}`);
    return p.version;
  }
}

/** What a fabricated till answers next: a whole version, a version claiming another's content, or nothing. */
type ScriptStep = number | 'none' | 'withdraw' | { claims: number; contentOf: number };

/**
 * A till answering from a script, one step per request (`withdraw` tells the poller the withdrawal is
 * under way and answers nothing); the poller stops at the end of the script.
 */
function scriptedTill(
  script: readonly ScriptStep[],
  versions: readonly Record<string, unknown>[],
  discountOf: ReadonlyMap<number, number>,
  poller: () => SwitchPoller,
): Pick<TillClient, 'active' | 'price'> {
  let next = 0;
  const take = (): { claims: number; contentOf: number } | 'none' => {
    for (;;) {
      const step = script[next++];
      if (next >= script.length) poller().stop();
      if (step === undefined) throw new Error('the poller asked beyond the end of its script');
      if (step === 'withdraw') {
        poller().expectWithdrawal();
        continue;
      }
      return typeof step === 'number' ? { claims: step, contentOf: step } : step;
    }
  };
  return {
    active: async () => {
      const step = take();
      const promotions =
        step === 'none'
          ? []
          : [
              {
                promotionId: 'SWITCH',
                version: step.claims,
                name: 'SWITCH offer',
                since: AT,
                until: AT,
                promotion: versions[step.contentOf - 1] as PromotionDocument,
              },
            ];
      return { at: AT, promotions };
    },
    price: async () => {
      const step = take();
      const amount = step === 'none' ? 0 : discountOf.get(step.contentOf)!;
      const body = {
        currency: 'EUR',
        lines: [],
        totals: { gross: 2000, discount: amount, tax: 0, total: 2000 - amount },
        promotions:
          step === 'none'
            ? []
            : [{ promotionId: 'SWITCH', version: step.claims, name: 'SWITCH offer', amount, lineNos: [1] }],
      };
      return { status: 200, body };
    },
  };
}
