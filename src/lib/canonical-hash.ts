import { createHash, hash } from 'node:crypto';
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
  // The one-shot form: the same SHA-256, without a Hash object per call (a third of the cost of a 1 KB body).
  return hash('sha256', text, 'base64url');
}

/** Whole strings (kept as they are, digits inside them included) and the number tokens between them. */
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
/** Marks a number carried as a string; no POS text holds a NUL followed by this. */
const NUMBER_MARK = '\u0000#';

/**
 * JSON text with each number turned into a string of its exact characters, so that parsing it cannot
 * round anything: 12345678901234567891 and 12345678901234567892 are one double, but two loyalty cards.
 */
const numbersKept = (text: string) =>
  text.replace(STRING_OR_NUMBER, (token) =>
    token.startsWith('"') ? token : JSON.stringify(NUMBER_MARK + token),
  );

/**
 * Whether two JSON texts hold the same value, whatever their key order and whitespace. Numbers compare by
 * their exact digits (`1.0` and `1` differ), never through a double.
 */
export function sameJsonValue(a: string, b: string): boolean {
  return a === b || canonicalHash(JSON.parse(numbersKept(a))) === canonicalHash(JSON.parse(numbersKept(b)));
}
