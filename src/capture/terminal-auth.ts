import { createHash, timingSafeEqual } from 'node:crypto';

export interface TerminalCredential {
  id: string;
  token: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Finds the terminal a bearer token belongs to. Tokens are compared as SHA-256 digests with
 * timingSafeEqual, and every configured token is compared on every call, so neither the length nor the
 * position of a match leaks through response timing.
 */
export function createTerminalAuthenticator(terminals: readonly TerminalCredential[]) {
  const known = terminals.map((t) => ({ id: t.id, digest: digest(t.token) }));
  return (authorization: string | undefined): string | undefined => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const presented = digest(match[1]!);
    let found: string | undefined;
    for (const terminal of known) {
      if (timingSafeEqual(terminal.digest, presented)) found = terminal.id;
    }
    return found;
  };
}
