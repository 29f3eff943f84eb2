import { timingSafeEqual } from 'node:crypto';
import { presentedTokenDigest, tokenDigest } from '../lib/bearer-token.js';

export interface TerminalCredential {
  id: string;
  token: string;
}

/**
 * Finds the terminal a bearer token belongs to. Tokens are compared as SHA-256 digests with
 * timingSafeEqual, and every configured token is compared on every call, so neither the length nor the
 * position of a match leaks through response timing.
 */
export function createTerminalAuthenticator(terminals: readonly TerminalCredential[]) {
  const known = terminals.map((t) => ({ id: t.id, digest: tokenDigest(t.token) }));
  return (authorization: string | undefined): string | undefined => {
    const presented = presentedTokenDigest(authorization);
    if (!presented) return undefined;
    let found: string | undefined;
    for (const terminal of known) {
      if (timingSafeEqual(terminal.digest, presented)) found = terminal.id;
    }
    return found;
  };
}
