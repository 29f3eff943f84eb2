import { createPublicKey, sign as rawSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, ValidationError } from '../../src/lib/errors.js';
import {
  createPromotionSigner,
  createTrustedKeyring,
  generateSigningKeyPair,
  keyIdOf,
  parsePublicKey,
  signingPayload,
  verifyPromotionSignature,
} from '../../src/promotions/index.js';
import { promotion, promotionDraft } from '../support/promotion-documents.js';

const hubKey = generateSigningKeyPair();
const nextHubKey = generateSigningKeyPair();
const strangerKey = generateSigningKeyPair();

/** The envelope as a store receives it: through JSON, as MQTT carries it. */
const overTheWire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('promotion signing keys', () => {
  it('makes Ed25519 key pairs whose key id is derived from the public key', () => {
    expect(hubKey.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(hubKey.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(Buffer.from(hubKey.publicKeyBase64, 'base64')).toHaveLength(32);
    expect(hubKey.keyId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(keyIdOf(parsePublicKey(hubKey.publicKeyPem))).toBe(hubKey.keyId);
    expect(keyIdOf(parsePublicKey(hubKey.publicKeyBase64))).toBe(hubKey.keyId);
    expect(keyIdOf(createPublicKey(hubKey.privateKeyPem))).toBe(hubKey.keyId);
    expect(nextHubKey.keyId).not.toBe(hubKey.keyId);
  });

  it('refuses trusted keys it cannot read, naming their position', () => {
    expect(() => createTrustedKeyring([hubKey.publicKeyBase64, 'not a key'])).toThrow(ConfigError);
    expect(() => createTrustedKeyring([hubKey.publicKeyBase64, 'not a key'])).toThrow(
      /promotions\.trustedKeys\[1\]/,
    );
    expect(() => createTrustedKeyring([Buffer.alloc(31).toString('base64')])).toThrow(/trustedKeys\[0\]/);
    expect(() =>
      createPromotionSigner('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----'),
    ).toThrow(ConfigError);
  });
});

describe('signing and verifying a promotion', () => {
  const signer = createPromotionSigner(hubKey.privateKeyPem);
  const keyring = createTrustedKeyring([hubKey.publicKeyPem]);

  it('signs the canonical form, and the signature verifies after the trip through JSON', () => {
    const signed = overTheWire(signer.sign(promotion()));
    expect(signed.signature).toMatchObject({ keyId: hubKey.keyId, algorithm: 'Ed25519' });
    expect(verifyPromotionSignature(signed.document, signed.signature, keyring)).toBe('valid');
  });

  it('does not depend on key order or whitespace (RFC 8785), only on the values', () => {
    const signed = signer.sign(promotion());
    const reordered = JSON.parse(
      JSON.stringify(Object.fromEntries(Object.entries(signed.document).reverse()), null, 2),
    ) as unknown;
    expect(verifyPromotionSignature(reordered, signed.signature, keyring)).toBe('valid');
    expect(signingPayload(reordered).equals(signingPayload(signed.document))).toBe(true);
  });

  it('finds any change to the document, however small', () => {
    const signed = overTheWire(signer.sign(promotion()));
    const changes: ((d: Record<string, unknown>) => void)[] = [
      (d) => (d.version = 2),
      (d) => (d.rule = { kind: 'percent-off', percent: 90 }),
      (d) => (d.target = { storeIds: ['S1'] }),
      (d) => (d.name = `${String(d.name)} `),
      (d) => (d.extra = true),
      (d) => delete d.currency,
    ];
    for (const change of changes) {
      const altered = structuredClone(signed.document) as Record<string, unknown>;
      change(altered);
      expect(verifyPromotionSignature(altered, signed.signature, keyring)).toBe('bad-signature');
    }
  });

  it('tells an unknown key from a bad signature, and a key id cannot borrow a trusted key', () => {
    const byStranger = createPromotionSigner(strangerKey.privateKeyPem).sign(promotion());
    expect(verifyPromotionSignature(byStranger.document, byStranger.signature, keyring)).toBe('unknown-key');
    // The stranger claims the hub's key id: the hub's key is used, and the signature does not verify.
    const claimed = { ...byStranger.signature, keyId: hubKey.keyId };
    expect(verifyPromotionSignature(byStranger.document, claimed, keyring)).toBe('bad-signature');
  });

  it('does not accept a signature by a trusted key over other bytes than the promotion context', () => {
    // The same key signing the bare canonical JSON (no context line) does not make a promotion signature.
    const document = promotion();
    const bare = signingPayload(document).subarray('outpost/promotion/v1\n'.length);
    const signature = rawSign(null, bare, hubKey.privateKeyPem).toString('base64');
    expect(
      verifyPromotionSignature(document, { keyId: hubKey.keyId, algorithm: 'Ed25519', signature }, keyring),
    ).toBe('bad-signature');
  });

  it('verifies against several trusted keys, so the hub key can be rotated', () => {
    const rotating = createTrustedKeyring([hubKey.publicKeyBase64, nextHubKey.publicKeyPem]);
    const old = signer.sign(promotion());
    const renewed = createPromotionSigner(nextHubKey.privateKeyPem).sign(promotion({ version: 2 }));
    expect(verifyPromotionSignature(old.document, old.signature, rotating)).toBe('valid');
    expect(verifyPromotionSignature(renewed.document, renewed.signature, rotating)).toBe('valid');
    // Once the old key is dropped from the list, what it signs is refused.
    const afterRotation = createTrustedKeyring([nextHubKey.publicKeyBase64]);
    expect(verifyPromotionSignature(old.document, old.signature, afterRotation)).toBe('unknown-key');
  });

  it('refuses to sign nonsense, with every issue and its path', () => {
    let error: unknown;
    try {
      signer.sign(promotionDraft({ rule: { kind: 'percent-off', percent: 120 }, items: {} }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(['rule.percent', 'items']);
  });
});
