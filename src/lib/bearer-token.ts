import { createHash, timingSafeEqual } from 'node:crypto';

/** Tokens are compared as SHA-256 digests: equal lengths for timingSafeEqual, whatever was presented. */
export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** The digest of the token in an `Authorization: Bearer …` header, or undefined for any other header. */
export function presentedTokenDigest(authorization: string | undefined): Buffer | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match ? tokenDigest(match[1]!) : undefined;
}

/** Compares a presented `Authorization: Bearer …` header with the expected token in constant time. */
export function bearerMatches(authorization: string | undefined, expected: string): boolean {
  const presented = presentedTokenDigest(authorization);
  return presented !== undefined && timingSafeEqual(presented, tokenDigest(expected));
}
