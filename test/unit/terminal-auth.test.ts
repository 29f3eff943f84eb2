import { describe, expect, it } from 'vitest';
import { createTerminalAuthenticator } from '../../src/capture/terminal-auth.js';

const TILL_1 = 'till-one-secret-token-0001';
const TILL_2 = 'till-two-secret-token-0002';
const authenticate = createTerminalAuthenticator([
  { id: 'T1', token: TILL_1 },
  { id: 'T2', token: TILL_2 },
]);

describe('terminal authentication', () => {
  it('finds the terminal a bearer token belongs to, each terminal its own', () => {
    expect(authenticate(`Bearer ${TILL_1}`)).toBe('T1');
    expect(authenticate(`Bearer ${TILL_2}`)).toBe('T2');
  });

  it('accepts the scheme in any case and surrounding whitespace, as RFC 6750 clients send it', () => {
    expect(authenticate(`bearer ${TILL_1}`)).toBe('T1');
    expect(authenticate(`BEARER   ${TILL_2}  `)).toBe('T2');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a blank', 'Bearer '],
    ['the token without the scheme', TILL_1],
    ['another scheme', `Basic ${Buffer.from(`T1:${TILL_1}`).toString('base64')}`],
    ['an unknown token', 'Bearer not-a-configured-token-at-all'],
    ['a prefix of a valid token', `Bearer ${TILL_1.slice(0, -1)}`],
    ['a valid token with a character more', `Bearer ${TILL_1}x`],
    ['a valid token in the wrong case', `Bearer ${TILL_1.toUpperCase()}`],
    ['two tokens', `Bearer ${TILL_1} ${TILL_2}`],
  ])('recognises nobody for %s', (_what, header) => {
    expect(authenticate(header)).toBeUndefined();
  });

  it('recognises nobody when no terminal is configured', () => {
    expect(createTerminalAuthenticator([])(`Bearer ${TILL_1}`)).toBeUndefined();
  });
});
