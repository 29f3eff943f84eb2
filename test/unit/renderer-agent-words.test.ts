import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/contracts/status.js';
import type { LogNotice } from '../../src/contracts/window-api.js';
import { noticeWords, problemWords } from '../../src/renderer/agent-words.js';
import { createFormatter } from '../../src/renderer/format.js';
import { text } from '../../src/renderer/text.js';

/**
 * The agent's notices and problems are worded by the window from its own text module, by their code, so
 * a translated window says them in its language; the agent's English shows only for what the window has
 * no words for.
 */

const NOW = '2026-11-23T11:00:00.000Z'; // 12:00 in Paris
const format = createFormatter('en-GB', 'Europe/Paris');

const notice = (change: Partial<LogNotice>): LogNotice => ({
  at: '2026-11-23T10:59:00.000Z',
  level: 'warning',
  code: 'head-office-unreachable',
  params: {},
  message: 'The agent’s own English.',
  details: 'mqtt error',
  ...change,
});

const problem = (change: Partial<Problem>): Problem => ({
  code: 'head-office-unreachable',
  severity: 'info',
  message: 'The agent’s own English.',
  action: 'The agent’s own advice.',
  ...change,
});

describe("the agent's notices in the window's words", () => {
  it('are worded from text.ts by their code, with their blanks formatted for the locale', () => {
    expect(noticeWords(notice({}), NOW, format)).toBe(
      'Head office cannot be reached right now. Sales are kept on this PC and will be sent automatically.',
    );
    expect(noticeWords(notice({ code: 'disk-nearly-full', params: { removed: 12500 } }), NOW, format)).toBe(
      'The disk is nearly full: 12,500 old sales that head office already has were removed from this PC to make room.',
    );
    expect(noticeWords(notice({ code: 'promotion-refused', params: {} }), NOW, format)).toMatch(
      /^A promotion /,
    );
  });

  it("fall back to the agent's English for a code the window does not know", () => {
    expect(noticeWords(notice({ code: 'something-a-newer-agent-says' }), NOW, format)).toBe(
      'The agent’s own English.',
    );
  });

  it('have words in the window for every code the agent gives', async () => {
    const { NOTICE_CODES } = await import('../../src/agent/log-notices.js');
    expect(NOTICE_CODES.length).toBeGreaterThan(20);
    expect(NOTICE_CODES).toContain('other-error');
    for (const code of NOTICE_CODES) expect(text.notices.words[code], code).toBeTypeOf('function');
  });
});

describe("the agent's problems in the window's words", () => {
  it('word a problem with its blanks, telling its instant on the store clock', () => {
    const words = problemWords(problem({ params: { since: '2026-11-23T09:42:00.000Z' } }), NOW, format);
    expect(words).toEqual({
      message:
        'Not connected to head office since 10:42. Sales are saved on this PC and will be sent automatically.',
      action:
        'Nothing to do; keep trading. If this lasts more than a few hours, check the internet connection or call support.',
    });
    expect(problemWords(problem({ params: {} }), NOW, format).message).toMatch(
      /^Not connected to head office\. /,
    );
    expect(
      problemWords(problem({ code: 'dead-letters', params: { count: 1 } }), NOW, format).message,
    ).toMatch(/^1 sale was refused by head office\./);
    expect(
      problemWords(problem({ code: 'sync-stalled', params: { minutes: 20 } }), NOW, format).message,
    ).toBe('Connected, but the oldest unsent sale is 20 minutes old.');
    expect(
      problemWords(
        problem({ code: 'log-file-unwritable', params: { reason: 'not-writable', dir: '/logs' } }),
        NOW,
        format,
      ).action,
    ).toBe('Call support: the agent needs write access to /logs. Logging resumes by itself once it has it.');
  });

  it("keep the agent's English for a problem without blanks or with a code the window does not know", () => {
    const english = { message: 'The agent’s own English.', action: 'The agent’s own advice.' };
    // An older agent: the code is known, but no blanks came with it.
    expect(problemWords(problem({}), NOW, format)).toEqual(english);
    // Words built from what another part said in English (the broker's diagnosis, a till's day).
    expect(problemWords(problem({ code: 'broker-never-reached', params: {} }), NOW, format)).toEqual(english);
  });
});
