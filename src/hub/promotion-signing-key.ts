import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../lib/errors.js';
import { createPromotionSigner, type PromotionSigner } from '../promotions/index.js';

const FIELD = 'promotions.signingKeyFile';
const HOW = 'make a key pair with `outpost promo keygen --out DIR` and name its private key file here';

/**
 * The hub's promotion signer from `promotions.signingKeyFile`, or undefined when none is configured (the
 * hub then refuses to publish, saying how to configure one). A key that is named but unusable stops the
 * hub at start, naming the field: a hub that started anyway would fail every push later, or worse, sign
 * with a key the stores do not trust.
 */
export function loadPromotionSigner(file: string | undefined): PromotionSigner | undefined {
  if (file === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied (the hub must be able to read it)'
          : code === 'EISDIR'
            ? 'it is a directory'
            : errorMessage(error);
    throw new ConfigError(`${FIELD} ${file}: cannot be read: ${why}; ${HOW}`);
  }
  if (/-----BEGIN PUBLIC KEY-----/.test(pem) && !/PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError(
      `${FIELD} ${file}: holds a public key; the hub signs with the private key (the public one goes to the stores' promotions.trustedKeys)`,
    );
  }
  try {
    return createPromotionSigner(pem);
  } catch (error) {
    throw new ConfigError(`${FIELD} ${file}: ${errorMessage(error)}; ${HOW}`);
  }
}
