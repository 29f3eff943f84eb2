import { describe, expect, it } from 'vitest';
import {
  clearedSessionCookie,
  consoleSessions,
  readCookie,
  sessionCookie,
  SESSION_TTL_MS,
} from '../../src/hub/console-session.js';

const TOKEN = 'operator-token-0123456789';
const NOW = Date.parse('2026-11-23T10:00:00Z');

describe("the operator console's session", () => {
  it('accepts a session it issued until it expires, and no other', () => {
    const sessions = consoleSessions(TOKEN);
    const { value, expiresAt } = sessions.issue(NOW);
    expect(expiresAt).toBe(NOW + SESSION_TTL_MS);
    expect(sessions.verify(value, NOW + 1000)).toBe(expiresAt);
    expect(sessions.verify(value, expiresAt - 1)).toBe(expiresAt);
    expect(sessions.verify(value, expiresAt)).toBeUndefined();
    expect(sessions.verify(undefined, NOW)).toBeUndefined();
    expect(sessions.verify('', NOW)).toBeUndefined();
    // Two sessions differ (a nonce each), both valid.
    const other = sessions.issue(NOW);
    expect(other.value).not.toBe(value);
    expect(sessions.verify(other.value, NOW)).toBe(other.expiresAt);
  });

  it('refuses a session signed with another token, or altered in any part', () => {
    const { value } = consoleSessions(TOKEN).issue(NOW);
    expect(consoleSessions(`${TOKEN}-rotated`).verify(value, NOW)).toBeUndefined();
    const [version, expiry, nonce, mac] = value.split('.') as [string, string, string, string];
    const later = (parseInt(expiry, 36) + 86_400_000).toString(36);
    for (const forged of [
      `${version}.${later}.${nonce}.${mac}`, // a longer life
      `${version}.${expiry}.${nonce.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))}.${mac}`,
      `${version}.${expiry}.${nonce}.${mac.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
      `v2.${expiry}.${nonce}.${mac}`,
      `${version}.${expiry}.${nonce}`,
    ])
      expect(consoleSessions(TOKEN).verify(forged, NOW), forged).toBeUndefined();
  });

  it('reads its cookie among others and sets it HttpOnly, SameSite=Strict, Secure over HTTPS', () => {
    expect(readCookie('a=1; outpost_console=v1.x.y.z; b=2')).toBe('v1.x.y.z');
    expect(readCookie('outpost_console_old=1')).toBeUndefined();
    expect(readCookie(undefined)).toBeUndefined();
    expect(sessionCookie('v', 3_600_000, false)).toBe(
      'outpost_console=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600',
    );
    expect(sessionCookie('v', 3_600_000, true)).toMatch(/; Secure$/);
    expect(clearedSessionCookie(false)).toContain('Max-Age=0');
  });
});
