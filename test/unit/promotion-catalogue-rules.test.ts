import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PromotionDocument, SignedPromotion } from '../../src/contracts/promotion.js';
import {
  catalogueStatement,
  createPromotionSigner,
  createTrustedKeyring,
  decideReceivedPromotion,
  documentDigest,
  generateSigningKeyPair,
  promotionsToReoffer,
  signingPayload,
  type HeldVersion,
  type PromotionDecision,
} from '../../src/promotions/index.js';
import { promotion, promotionDraft } from '../support/promotion-documents.js';

const hubKey = generateSigningKeyPair();
const strangerKey = generateSigningKeyPair();
const signer = createPromotionSigner(hubKey.privateKeyPem);
const keyring = createTrustedKeyring([hubKey.publicKeyBase64]);
const store = { storeId: 'S042', region: 'north' };

const wire = (signed: SignedPromotion): unknown => JSON.parse(JSON.stringify(signed));

function decide(received: unknown, held: Record<string, HeldVersion> = {}): PromotionDecision {
  const byId = new Map(Object.entries(held));
  return decideReceivedPromotion(received, { store, keyring, held: (id) => byId.get(id) });
}

/** Signs any content with the trusted hub key, as a hub running a newer document schema would. */
const signByHub = (document: unknown): string =>
  sign(null, signingPayload(document), hubKey.privateKeyPem).toString('base64');

const heldOf = (document: PromotionDocument): HeldVersion => ({
  version: document.version,
  digest: documentDigest(document),
});

function refusal(decision: PromotionDecision) {
  return decision.outcome === 'refuse' ? decision : undefined;
}

describe("the store's decision on a received promotion", () => {
  it('applies a signed, well-formed, targeted, newer version', () => {
    const first = decide(wire(signer.sign(promotion())));
    expect(first).toMatchObject({
      outcome: 'apply',
      change: 'new',
      promotion: { promotionId: 'PROMO-1', version: 1 },
    });
    const v1 = promotion();
    const update = decide(wire(signer.sign(promotion({ version: 2, name: 'Twenty off' }))), {
      'PROMO-1': heldOf(v1),
    });
    expect(update).toMatchObject({ outcome: 'apply', change: 'update', previousVersion: 1 });
    const withdrawal = decide(wire(signer.sign(promotion({ version: 3, state: 'withdrawn' }))), {
      'PROMO-1': heldOf(v1),
    });
    expect(withdrawal).toMatchObject({ outcome: 'apply', change: 'withdrawal' });
  });

  it('applies a promotion by region or by store id', () => {
    expect(decide(wire(signer.sign(promotion({ target: { regions: ['north'] } }))))).toMatchObject({
      outcome: 'apply',
    });
    expect(decide(wire(signer.sign(promotion({ target: { storeIds: ['S001', 'S042'] } }))))).toMatchObject({
      outcome: 'apply',
    });
  });

  it('refuses an unsigned document, bare or in an envelope without signature', () => {
    expect(refusal(decide(promotionDraft()))).toMatchObject({
      reason: 'unsigned',
      promotionId: 'PROMO-1',
      version: 1,
      redelivery: false,
    });
    expect(refusal(decide({ document: promotionDraft() }))?.reason).toBe('unsigned');
    expect(refusal(decide({ document: promotionDraft(), signature: null }))?.reason).toBe('unsigned');
  });

  it('refuses a forged or altered document as badly signed', () => {
    const signed = wire(signer.sign(promotion())) as { document: Record<string, unknown> };
    signed.document.rule = { kind: 'percent-off', percent: 100 };
    const decision = refusal(decide(signed));
    expect(decision).toMatchObject({ reason: 'bad-signature', keyId: hubKey.keyId, promotionId: 'PROMO-1' });
    expect(decision?.message).toMatch(/altered or forged/);
  });

  it('refuses a document signed by a key the store does not trust', () => {
    const decision = refusal(
      decide(wire(createPromotionSigner(strangerKey.privateKeyPem).sign(promotion()))),
    );
    expect(decision).toMatchObject({ reason: 'unknown-key', keyId: strangerKey.keyId });
    expect(decision?.message).toMatch(/promotions\.trustedKeys/);
  });

  it('refuses a malformed envelope or document with the path of the field', () => {
    expect(refusal(decide('hello'))).toMatchObject({ reason: 'malformed' });
    expect(refusal(decide([1, 2]))).toMatchObject({ reason: 'malformed' });
    const badAlgorithm = wire(signer.sign(promotion())) as { signature: Record<string, unknown> };
    badAlgorithm.signature.algorithm = 'RS256';
    expect(refusal(decide(badAlgorithm))?.issues?.map((i) => i.path.join('.'))).toEqual([
      'signature.algorithm',
    ]);
    // A hub that signs what this store cannot read (a newer document version): signed, but malformed here.
    const valid = signer.sign(promotion());
    const unreadable = { ...valid.document, rule: { kind: 'mystery' } };
    const decision = decide({
      document: unreadable,
      signature: { ...valid.signature, signature: signByHub(unreadable) },
    });
    expect(decision).toMatchObject({ outcome: 'refuse', reason: 'malformed', keyId: hubKey.keyId });
    expect(refusal(decision)?.issues?.map((i) => i.path.join('.'))).toEqual(['document.rule.kind']);
  });

  it('refuses an older version, a replay of the held one, and a different document under the held version', () => {
    const v3 = promotion({ version: 3 });
    const held = { 'PROMO-1': heldOf(v3) };
    expect(refusal(decide(wire(signer.sign(promotion({ version: 2 }))), held))).toMatchObject({
      reason: 'stale-version',
      redelivery: false,
    });
    const replay = refusal(decide(wire(signer.sign(v3)), held));
    expect(replay).toMatchObject({ reason: 'already-held', redelivery: true });
    expect(refusal(decide(wire(signer.sign(promotion({ version: 3, name: 'Other' }))), held))).toMatchObject({
      reason: 'version-conflict',
      redelivery: false,
    });
  });

  it('refuses a promotion for another store or region it never held', () => {
    const other = refusal(decide(wire(signer.sign(promotion({ target: { storeIds: ['S001'] } })))));
    expect(other).toMatchObject({ reason: 'not-targeted' });
    expect(other?.message).toMatch(/not for store S042 \(region north\)/);
    expect(refusal(decide(wire(signer.sign(promotion({ target: { regions: ['south'] } })))))?.reason).toBe(
      'not-targeted',
    );
  });

  it('takes a later version that no longer targets it, so the earlier one stops being in force here', () => {
    const decision = decide(wire(signer.sign(promotion({ version: 2, target: { regions: ['south'] } }))), {
      'PROMO-1': heldOf(promotion()),
    });
    expect(decision).toMatchObject({ outcome: 'apply', change: 'no-longer-targeted', previousVersion: 1 });
  });
});

describe('catalogue statement and re-offer', () => {
  const live = promotion({ promotionId: 'A', version: 2 });
  const staged = promotion({ promotionId: 'B', version: 1, state: 'staged' });
  const withdrawn = promotion({ promotionId: 'C', version: 4, state: 'withdrawn' });
  const elsewhere = promotion({ promotionId: 'D', version: 1, target: { regions: ['south'] } });

  it('states the live promotions it holds, whatever their order, compactly or with versions', () => {
    const statement = catalogueStatement([live, staged, withdrawn, elsewhere], store);
    expect(statement).toMatchObject({ count: 2, versions: { A: 2, B: 1 } });
    expect(catalogueStatement([elsewhere, withdrawn, staged, live], store).digest).toBe(statement.digest);
    expect(catalogueStatement([live, staged], store, { versions: false })).toEqual({
      count: 2,
      digest: statement.digest,
    });
    expect(catalogueStatement([promotion({ promotionId: 'A', version: 3 }), staged], store).digest).not.toBe(
      statement.digest,
    );
  });

  it('is in sync when the store holds exactly what the hub would send it, from the short form alone', () => {
    const short = catalogueStatement([live, staged], store, { versions: false });
    expect(promotionsToReoffer(short, [live, staged, withdrawn, elsewhere], store)).toEqual({
      inSync: true,
      needVersions: false,
      offer: [],
      anomalies: [],
    });
  });

  it('asks for versions when the short form disagrees', () => {
    const short = catalogueStatement([live], store, { versions: false });
    expect(promotionsToReoffer(short, [live, staged], store)).toMatchObject({
      inSync: false,
      needVersions: true,
    });
  });

  it('re-offers exactly what is missing or older, and what must leave the store', () => {
    const heldByStore = [
      promotion({ promotionId: 'A', version: 1 }), // older than the hub's
      promotion({ promotionId: 'C', version: 3 }), // the hub has since withdrawn it
      promotion({ promotionId: 'E', version: 1, target: { storeIds: ['S042'] } }), // since retargeted away
      promotion({ promotionId: 'F', version: 1 }), // up to date
    ];
    const hub = [
      live,
      staged, // missing at the store
      withdrawn,
      elsewhere, // never for this store: not offered
      promotion({ promotionId: 'E', version: 2, target: { storeIds: ['S001'] } }),
      promotion({ promotionId: 'F', version: 1 }),
    ];
    const plan = promotionsToReoffer(catalogueStatement(heldByStore, store), hub, store);
    expect(plan.offer).toEqual([
      { promotionId: 'A', version: 2 },
      { promotionId: 'B', version: 1 },
      { promotionId: 'C', version: 4 },
      { promotionId: 'E', version: 2 },
    ]);
    expect(plan.anomalies).toEqual([]);
  });

  it('reports what the hub cannot fix: promotions it does not know, and stores ahead of it', () => {
    const statement = catalogueStatement(
      [promotion({ promotionId: 'A', version: 9 }), promotion({ promotionId: 'constructor', version: 1 })],
      store,
    );
    const plan = promotionsToReoffer(statement, [live], store);
    expect(plan.offer).toEqual([]);
    expect(plan.anomalies).toEqual([
      { promotionId: 'A', stated: 9, current: 2, reason: 'store-ahead' },
      { promotionId: 'constructor', stated: 1, reason: 'unknown-to-hub' },
    ]);
  });

  it('reaches sync once the store applies what was re-offered', () => {
    const hub = [live, staged, withdrawn];
    const storeHeld = new Map([['A', promotion({ promotionId: 'A', version: 1 })]]);
    const plan = promotionsToReoffer(catalogueStatement(storeHeld.values(), store), hub, store);
    for (const { promotionId } of plan.offer) {
      const document = hub.find((p) => p.promotionId === promotionId);
      if (document !== undefined) storeHeld.set(promotionId, document);
    }
    expect(
      promotionsToReoffer(catalogueStatement(storeHeld.values(), store, { versions: false }), hub, store)
        .inSync,
    ).toBe(true);
  });
});
