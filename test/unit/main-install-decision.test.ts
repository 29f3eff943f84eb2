import { describe, expect, it } from 'vitest';
import { decideInstall, type InstallInputs } from '../../src/main/install-decision.js';
import { inQuietWindow, nextCheckDelayMs, parseTimeOfDay } from '../../src/main/update-schedule.js';

const idle = { commitsInFlight: 0, storageWritable: true, unsentCount: 0 };
const inputs = (change: Partial<InstallInputs> = {}): InstallInputs => ({
  trigger: 'quiet-hour',
  updateReady: true,
  force: false,
  readiness: idle,
  ...change,
});

describe('may the update be installed now?', () => {
  it('installs a ready update on a quiet, writable, fully delivered store', () => {
    for (const trigger of ['quit', 'quiet-hour', 'manual'] as const)
      expect(decideInstall(inputs({ trigger }))).toEqual({ install: true });
  });

  it('never installs during a commit, even forced, and asks again soon', () => {
    for (const force of [false, true])
      expect(decideInstall(inputs({ force, readiness: { ...idle, commitsInFlight: 1 } }))).toEqual({
        install: false,
        reason: 'commit-in-progress',
        retry: 'soon',
      });
  });

  it('never installs while the outbox cannot be written, even forced', () => {
    for (const force of [false, true])
      expect(decideInstall(inputs({ force, readiness: { ...idle, storageWritable: false } }))).toMatchObject({
        install: false,
        reason: 'storage-unwritable',
      });
  });

  it('does not install with sales unsent unless forced', () => {
    const unsent = { ...idle, unsentCount: 312 };
    expect(decideInstall(inputs({ readiness: unsent }))).toEqual({
      install: false,
      reason: 'sales-unsent',
      retry: 'later',
    });
    expect(decideInstall(inputs({ readiness: unsent, force: true }))).toEqual({ install: true });
  });

  it('installs for an agent that is not running only when forced', () => {
    expect(decideInstall(inputs({ readiness: null }))).toMatchObject({
      install: false,
      reason: 'agent-down',
    });
    expect(decideInstall(inputs({ readiness: null, force: true }))).toEqual({ install: true });
  });

  it('has nothing to install without a downloaded update', () => {
    expect(decideInstall(inputs({ updateReady: false, force: true }))).toEqual({
      install: false,
      reason: 'no-update',
      retry: 'never',
    });
  });

  it('puts the commit rule before the others: a busy, full, unsent store waits for the commit first', () => {
    const busy = { commitsInFlight: 3, storageWritable: false, unsentCount: 9 };
    expect(decideInstall(inputs({ readiness: busy }))).toMatchObject({ reason: 'commit-in-progress' });
  });
});

describe('update schedule', () => {
  it('reads the quiet hour and knows when the PC is inside its window, past midnight too', () => {
    expect(parseTimeOfDay('03:00')).toBe(180);
    expect(() => parseTimeOfDay('3am')).toThrow(/HH:MM/);
    expect(inQuietWindow(180, '03:00', 60)).toBe(true);
    expect(inQuietWindow(239, '03:00', 60)).toBe(true);
    expect(inQuietWindow(240, '03:00', 60)).toBe(false);
    expect(inQuietWindow(179, '03:00', 60)).toBe(false);
    expect(inQuietWindow(23 * 60 + 45, '23:30', 60)).toBe(true);
    expect(inQuietWindow(15, '23:30', 60)).toBe(true);
    expect(inQuietWindow(30, '23:30', 60)).toBe(false);
  });

  it('checks every few hours, spread by up to a tenth so stores do not ask the feed at once', () => {
    expect(nextCheckDelayMs(4, 0)).toBe(4 * 3_600_000);
    expect(nextCheckDelayMs(4, 0.999)).toBeLessThan(4.4 * 3_600_000);
    expect(nextCheckDelayMs(4, 0.5)).toBe(4.2 * 3_600_000);
  });
});
