import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import {
  SIGNATURE_ALGORITHM,
  promotionDocumentSchema,
  type PromotionDocument,
  type PromotionSignature,
  type SignedPromotion,
} from '../contracts/promotion.js';
import { toApiIssues } from '../lib/api-issues.js';
import { ConfigError, ValidationError, errorMessage } from '../lib/errors.js';

/**
 * Ed25519 signatures over the RFC 8785 canonical JSON of a promotion document. The signed bytes start with
 * a fixed context line, so a promotion key can never be tricked into signing something that verifies as
 * another kind of message, and no other signature by the same key verifies as a promotion.
 */
const SIGNING_CONTEXT = 'outpost/promotion/v1\n';

/** The exact bytes signed and verified for a document: context line + canonical JSON, UTF-8. */
export function signingPayload(document: unknown): Buffer {
  const canonical = canonicalize(document);
  if (canonical === undefined) throw new TypeError('the document cannot be represented as JSON');
  return Buffer.from(SIGNING_CONTEXT + canonical, 'utf8');
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new TypeError('not an Ed25519 key');
  }
  return Buffer.from(jwk.x, 'base64url');
}

/**
 * The key id: the first 16 bytes of SHA-256 over the raw 32-byte public key, base64url. A signature names
 * its key by this id and is checked only against the trusted key with that digest, so the id cannot point
 * at a key other than the one that made the signature.
 */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest().subarray(0, 16).toString('base64url');
}

export interface SigningKeyPair {
  keyId: string;
  /** SPKI PEM: what `promotions.trustedKeys` may hold. */
  publicKeyPem: string;
  /** The same key as 32 raw bytes in base64: the compact form for `promotions.trustedKeys`. */
  publicKeyBase64: string;
  /** PKCS#8 PEM: the content of the hub's `promotions.signingKeyFile`. Keep it secret. */
  privateKeyPem: string;
}

/** A new Ed25519 key pair, for `outpost promo keygen`. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyBase64: rawPublicKey(publicKey).toString('base64'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

const RAW_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/** Reads an Ed25519 public key given as SPKI PEM or as its 32 raw bytes in base64 (or base64url). */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  if (trimmed.startsWith('-----BEGIN')) {
    key = createPublicKey({ key: trimmed, format: 'pem' });
  } else if (RAW_KEY.test(trimmed)) {
    const raw = Buffer.from(trimmed.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url');
    if (raw.length !== 32) throw new TypeError('an Ed25519 public key is 32 bytes');
    key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
  } else {
    throw new TypeError('expected a PEM public key or 32 bytes in base64');
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`an ${key.asymmetricKeyType} key, not Ed25519`);
  return key;
}

/** The public keys a store accepts signatures from: several at once, so the hub's key can be rotated. */
export interface TrustedKeyring {
  readonly keyIds: readonly string[];
  get(keyId: string): KeyObject | undefined;
}

/**
 * Builds the keyring from `promotions.trustedKeys`. A key that cannot be read is a configuration error
 * naming its position: an agent that silently dropped a key would refuse every promotion signed with it.
 */
export function createTrustedKeyring(publicKeys: readonly string[]): TrustedKeyring {
  const byId = new Map<string, KeyObject>();
  publicKeys.forEach((text, i) => {
    try {
      const key = parsePublicKey(text);
      byId.set(keyIdOf(key), key);
    } catch (error) {
      throw new ConfigError(
        `promotions.trustedKeys[${i}] is not a usable Ed25519 public key: ${errorMessage(error)}`,
      );
    }
  });
  return { keyIds: [...byId.keys()], get: (keyId) => byId.get(keyId) };
}

export interface PromotionSigner {
  readonly keyId: string;
  /** Validates the document and signs it; nonsense is refused with every issue and its path. */
  sign(document: unknown): SignedPromotion;
}

/** A signer from the hub's PKCS#8 PEM private key (the content of `promotions.signingKeyFile`). */
export function createPromotionSigner(privateKeyPem: string): PromotionSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch (error) {
    throw new ConfigError(
      `the promotion signing key is not a readable PEM private key: ${errorMessage(error)}`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`the promotion signing key is ${privateKey.asymmetricKeyType}, not Ed25519`);
  }
  const keyId = keyIdOf(createPublicKey(privateKey));
  return {
    keyId,
    sign(document) {
      const parsed = promotionDocumentSchema.safeParse(document);
      if (!parsed.success) {
        throw new ValidationError('the promotion document is not valid', toApiIssues(parsed.error));
      }
      return signParsed(parsed.data, privateKey, keyId);
    },
  };
}

function signParsed(document: PromotionDocument, privateKey: KeyObject, keyId: string): SignedPromotion {
  // Ed25519 hashes internally: node:crypto takes no digest name for it.
  const signature = sign(null, signingPayload(document), privateKey).toString('base64');
  return { document, signature: { keyId, algorithm: SIGNATURE_ALGORITHM, signature } };
}

export type SignatureCheck = 'valid' | 'unknown-key' | 'bad-signature';

/**
 * Checks a signature over the document exactly as received (before any parsing). The key is looked up by
 * the signature's key id among the trusted keys only; an unknown id is reported apart from a bad signature
 * because the fix differs (trust the new key, or distrust the sender).
 */
export function verifyPromotionSignature(
  document: unknown,
  signature: PromotionSignature,
  keyring: TrustedKeyring,
): SignatureCheck {
  const key = keyring.get(signature.keyId);
  if (key === undefined) return 'unknown-key';
  let payload: Buffer;
  try {
    payload = signingPayload(document);
  } catch {
    return 'bad-signature';
  }
  const bytes = Buffer.from(signature.signature, 'base64');
  if (bytes.length !== 64) return 'bad-signature';
  return verify(null, payload, key, bytes) ? 'valid' : 'bad-signature';
}
