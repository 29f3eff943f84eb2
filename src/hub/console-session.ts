import { CONSOLE_SESSION_COOKIE } from '../contracts/console-api.js';
import {
  readCookie as readNamedCookie,
  sessionCookie as namedSessionCookie,
  signedSessions,
  type SignedSessions,
} from '../lib/signed-session.js';

/**
 * The console's session: what the page's requests and its EventSource carry instead of the operator
 * token (an EventSource cannot send headers, and a token in a URL ends up in logs and histories).
 *
 * Stateless and signed: `v1.<expiry>.<nonce>.<HMAC-SHA256>`, keyed by a digest of the hub's operator
 * token. Every hub sharing that token accepts it (a console behind a load balancer keeps working), and
 * changing the token ends every session at once. The cookie is HttpOnly (no script reads it) and
 * SameSite=Strict (no other site's page sends it), scoped to the hub's own origin.
 */

export const SESSION_TTL_MS = 12 * 3600_000;

export type ConsoleSessions = SignedSessions;

export function consoleSessions(operatorToken: string, ttlMs = SESSION_TTL_MS): ConsoleSessions {
  return signedSessions(operatorToken, 'outpost console session', ttlMs);
}

/** The value of one cookie in a `Cookie` request header, or undefined. */
export function readCookie(header: string | undefined, name = CONSOLE_SESSION_COOKIE): string | undefined {
  return readNamedCookie(header, name);
}

/** `Set-Cookie` for a session (Secure when the page was served over HTTPS). */
export function sessionCookie(value: string, maxAgeMs: number, secure: boolean): string {
  return namedSessionCookie({ name: CONSOLE_SESSION_COOKIE, value, maxAgeMs, secure });
}

export const clearedSessionCookie = (secure: boolean): string => sessionCookie('', 0, secure);
