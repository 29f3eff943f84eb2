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

/** A digest of the exact text: cheap, and equal for byte-identical re-submissions (the usual retry). */
export function textDigest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Whether two JSON texts hold the same value, whatever their key order and whitespace. */
export function sameJsonValue(a: string, b: string): boolean {
  return a === b || canonicalHash(JSON.parse(a)) === canonicalHash(JSON.parse(b));
}
