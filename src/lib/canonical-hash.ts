import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * A digest of a JSON value that ignores key order and whitespace (RFC 8785 canonical form),
 * so a POS that re-serialises a retry differently is still recognised as the same submission.
 */
export function canonicalHash(value: unknown): string {
  const canonical = canonicalize(value);
  if (canonical === undefined) throw new TypeError('value cannot be represented as JSON');
  return createHash('sha256').update(canonical).digest('base64url');
}
