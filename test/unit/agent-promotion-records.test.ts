import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildStatusReport, type StatusInputs } from '../../src/agent/status-report.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { PROMOTION_REFUSAL_REASONS } from '../../src/contracts/promotion.js';
import { promotionRefusedBodySchema } from '../../src/contracts/promotion-sync.js';
import type { PromotionsStatus } from '../../src/contracts/status.js';
import {
  createPromotionSigner,
  createTrustedKeyring,
  decideReceivedPromotion,
  generateSigningKeyPair,
  receivedDocumentDigest,
  refusalAdvice,
  refusalKey,
  refusedRecord,
  trustSettingsKey,
  type RefuseDecision,
} from '../../src/promotions/index.js';
import { promotion, promotionDraft } from '../support/promotion-documents.js';

const keys = generateSigningKeyPair();
const signer = createPromotionSigner(keys.privateKeyPem);
const keyring = createTrustedKeyring([keys.publicKeyBase64]);
const store = { storeId: 'S042', region: 'north' };

const refuse = (received: unknown, held?: { version: number; digest: string }) => {
  const decision = decideReceivedPromotion(received, { store, keyring, held: () => held });
  if (decision.outcome !== 'refuse') throw new Error('expected a refusal');
  return decision;
};

describe('rollout records', () => {
  it('name a refused version only with what head office can read back, so the record itself is never refused', () => {
    const broken = refuse({ document: { promotionId: 'has spaces!', version: -3 }, signature: null });
    const record = refusedRecord(broken, null, 0);
    expect(record).toMatchObject({ promotionId: null, version: null, digest: null, reason: 'unsigned' });
    expect(promotionRefusedBodySchema.safeParse(record).success).toBe(true);

    const long = { ...broken, message: 'x'.repeat(5000) } satisfies RefuseDecision;
    expect(refusedRecord(long, null, 0).message).toHaveLength(2000);
  });

  it('carry the digest of the refused document, the same one head office computes for the version', () => {
    const signed = signer.sign(
      promotionDraft({ promotionId: 'P', version: 2, target: { regions: ['south'] } }),
    );
    const decision = refuse(signed);
    const digest = receivedDocumentDigest(signed);
    expect(refusedRecord(decision, digest, Date.UTC(2026, 0, 1))).toEqual({
      v: 1,
      type: 'promotion-refused',
      promotionId: 'P',
      version: 2,
      digest,
      keyId: keys.keyId,
      reason: 'not-targeted',
      message: decision.message,
      refusedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(receivedDocumentDigest('not an envelope')).toBeNull();
  });

  it('tell the same refusal apart from another: same settings, reason, version and document, or same text', () => {
    const settings = trustSettingsKey(keyring.keyIds, store);
    const signed = signer.sign(
      promotionDraft({ promotionId: 'P', version: 2, target: { regions: ['south'] } }),
    );
    const reordered = JSON.parse(
      JSON.stringify({ signature: signed.signature, document: signed.document }),
    ) as unknown;
    const key = (received: unknown, text: string, s = settings) =>
      refusalKey(s, refuse(received), receivedDocumentDigest(received), text);

    expect(key(signed, JSON.stringify(signed))).toBe(key(reordered, JSON.stringify(reordered)));
    const other = signer.sign(
      promotionDraft({ promotionId: 'P', version: 3, target: { regions: ['south'] } }),
    );
    expect(key(other, JSON.stringify(other))).not.toBe(key(signed, JSON.stringify(signed)));
    // Judged under other settings (a key added since), it is a refusal of its own.
    const rotated = trustSettingsKey([...keyring.keyIds, 'another-key-id-0000000'], store);
    expect(key(signed, JSON.stringify(signed), rotated)).not.toBe(key(signed, JSON.stringify(signed)));
    expect(trustSettingsKey(keyring.keyIds, { storeId: 'S042', region: 'south' })).not.toBe(settings);
    // Without a document, the text itself.
    expect(key('garbage', 'garbage')).toBe(key('garbage', 'garbage'));
    expect(key('garbage', 'garbage')).not.toBe(key('rubbish', 'rubbish'));
  });
});

describe('refusal advice', () => {
  it.each(PROMOTION_REFUSAL_REASONS)('says what the store manager should do about %s', (reason) => {
    const { severity, advice } = refusalAdvice(reason);
    expect(advice.length).toBeGreaterThan(20);
    const serious = ['unsigned', 'malformed', 'unknown-key', 'bad-signature', 'version-conflict'].includes(
      reason,
    );
    expect(severity).toBe(serious ? 'warning' : 'info');
  });

  it('points at promotions.trustedKeys when the key is unknown', () => {
    expect(refusalAdvice('unknown-key').advice).toContain('promotions.trustedKeys');
  });
});

describe('promotions in the status', () => {
  const NOW = Date.parse('2026-06-15T12:00:00Z');
  const inputs = (promotions: PromotionsStatus, expected = true): StatusInputs => ({
    storeId: 'S042',
    version: '0.1.0',
    now: NOW,
    outbox: {
      epoch: 'e1',
      lastSeq: 3,
      unsent: { count: 0, oldestCapturedAt: null, atRisk: [], records: 2 },
      lastAck: null,
      deadLetters: 0,
      total: 3,
    },
    captureError: null,
    connection: { state: 'online', since: NOW, lastError: null, lastErrorCode: null, everConnected: true },
    broker: null,
    logging: undefined,
    deadLetters: [],
    promotions,
    promotionsExpected: expected,
  });
  const refusal = (change: Partial<NonNullable<PromotionsStatus['lastRefusal']>> = {}) => ({
    at: new Date(NOW - 60_000).toISOString(),
    promotionId: 'P',
    version: 3,
    reason: 'unknown-key',
    message: 'promotion P version 3 is signed with key K, which this store does not trust; nothing changed.',
    ...refusalAdvice('unknown-key'),
    ...change,
  });

  it('shows the last refusal with its advice while it is recent and unresolved', () => {
    const report = buildStatusReport(inputs({ active: 2, trustedKeys: 1, lastRefusal: refusal() }));
    expect(report.promotions.active).toBe(2);
    expect(report.problems).toEqual([
      {
        code: 'promotion-refused',
        severity: 'warning',
        message: expect.stringContaining('Promotion P (version 3) from head office was refused'),
        action: expect.stringContaining('promotions.trustedKeys'),
      },
    ]);
  });

  it('drops it once resolved (a later version taken) or a day old, and marks a harmless one as information', () => {
    const codes = (p: PromotionsStatus) => buildStatusReport(inputs(p)).problems.map((x) => x.code);
    expect(codes({ active: 0, trustedKeys: 1, lastRefusal: refusal({ resolved: true }) })).toEqual([]);
    expect(
      codes({
        active: 0,
        trustedKeys: 1,
        lastRefusal: refusal({ at: new Date(NOW - 25 * 3600_000).toISOString() }),
      }),
    ).toEqual([]);
    const stale = buildStatusReport(
      inputs({
        active: 0,
        trustedKeys: 1,
        lastRefusal: refusal({
          reason: 'stale-version',
          promotionId: null,
          ...refusalAdvice('stale-version'),
        }),
      }),
    );
    expect(stale.problems).toMatchObject([
      { severity: 'info', message: expect.stringMatching(/^A promotion/) },
    ]);
  });

  it('says so when a store that receives promotions trusts no key', () => {
    const codes = (p: PromotionsStatus, expected: boolean) =>
      buildStatusReport(inputs(p, expected)).problems.map((x) => x.code);
    expect(codes({ active: 0, trustedKeys: 0 }, true)).toEqual(['promotions-no-trusted-key']);
    expect(codes({ active: 0, trustedKeys: 0 }, false)).toEqual([]);
  });
});

describe('promotion settings of the agent', () => {
  const base = {
    storeId: 'S042',
    dataDir: '/tmp/x',
    api: { terminals: [{ id: 'T1', token: 'a-token-of-16-chars' }] },
  };

  it("default to the PC's time zone and no trusted key", () => {
    const config = agentConfigSchema.parse(base);
    expect(config.timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(config.promotions).toEqual({ trustedKeys: [] });
  });

  it('take an IANA zone and keys as PEM or base64, and refuse the rest naming the field', () => {
    const parsed = agentConfigSchema.parse({
      ...base,
      timeZone: 'Europe/Paris',
      promotions: { trustedKeys: [keys.publicKeyPem, keys.publicKeyBase64] },
    });
    expect(createTrustedKeyring(parsed.promotions.trustedKeys).keyIds).toEqual([keys.keyId]);
    const issues = (input: object) =>
      agentConfigSchema
        .safeParse({ ...base, ...input })
        .error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(issues({ timeZone: '+01:00' })).toEqual([
      ['timeZone', 'must be an IANA time zone name such as "Europe/Paris", not an offset'],
    ]);
    expect(issues({ timeZone: 'Mars/Olympus' })).toEqual([['timeZone', 'unknown time zone "Mars/Olympus"']]);
    expect(issues({ promotions: { trustedKeys: [keys.publicKeyPem, 'secret'] } })?.[0]?.[0]).toBe(
      'promotions.trustedKeys.1',
    );
    expect(issues({ promotions: { trusted: [] } })?.[0]?.[0]).toBe('promotions');
  });

  it('name the entry when a key has the shape of one but is not an Ed25519 key', () => {
    // An X25519 key (for key agreement) in SPKI PEM: the right shape, the wrong algorithm.
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => createTrustedKeyring([keys.publicKeyBase64, x25519])).toThrow(
      /promotions\.trustedKeys\[1\] is not a usable Ed25519 public key: an x25519 key, not Ed25519/,
    );
  });

  it('hold the documents the tests sign', () => {
    expect(promotion().promotionId).toBe('PROMO-1');
  });
});
