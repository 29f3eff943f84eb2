import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A browser session that stands in for a credential: what a page's requests and its EventSource carry
 * instead of the credential itself (an EventSource cannot send headers, and a credential in a URL ends up
 * in logs and histories). Used by the hub's console and the store's status window.
 *
 * Stateless and signed: `v1.<expiry>.<nonce>.<HMAC-SHA256>`, keyed by a digest of the credential and the
 * session's purpose. Every process holding that credential accepts it (behind a load balancer too), and
 * changing the credential ends every session at once. The cookie is HttpOnly (no script reads it) and
 * SameSite=Strict (no other site's page sends it), scoped to its server's own host and path.
 */

export interface SignedSessions {
  issue(now: number): { value: string; expiresAt: number };
  /** The session's expiry when `value` is a session this credential signed and it has not expired; else undefined. */
  verify(value: string | undefined, now: number): number | undefined;
}

/**
 * `purpose` keeps the key apart from any other use of the same credential, so a console session never
 * opens a window and neither doubles as anything else signed with the credential.
 */
export function signedSessions(credential: string, purpose: string, ttlMs: number): SignedSessions {
  const key = createHash('sha256').update(`${purpose}\0`).update(credential).digest();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();
  return {
    issue(now) {
      const expiresAt = now + ttlMs;
      const payload = `v1.${expiresAt.toString(36)}.${randomBytes(12).toString('hex')}`;
      return { value: `${payload}.${mac(payload).toString('base64url')}`, expiresAt };
    },
    verify(value, now) {
      const match = /^(v1\.([0-9a-z]{1,12})\.[0-9a-f]{24})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
      if (!match) return undefined;
      const presented = Buffer.from(match[3]!, 'base64url');
      const expected = mac(match[1]!);
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
      const expiresAt = parseInt(match[2]!, 36);
      return expiresAt > now ? expiresAt : undefined;
    },
  };
}

/** The value of one cookie in a `Cookie` request header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface SessionCookie {
  name: string;
  value: string;
  maxAgeMs: number;
  /** Set when the page was served over HTTPS. */
  secure: boolean;
  /** The routes that need it; the browser sends it nowhere else on the host. */
  path?: string;
}

/** `Set-Cookie` for a session: HttpOnly, SameSite=Strict, host-only (no Domain). */
export function sessionCookie(cookie: SessionCookie): string {
  return [
    `${cookie.name}=${cookie.value}`,
    `Path=${cookie.path ?? '/'}`,
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(cookie.maxAgeMs / 1000))}`,
    ...(cookie.secure ? ['Secure'] : []),
  ].join('; ');
}
