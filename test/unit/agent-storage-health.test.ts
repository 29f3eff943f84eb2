import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import winston from 'winston';
import Transport from 'winston-transport';
import { StorageHealth } from '../../src/agent/storage-health.js';
import { StorageUnavailableError } from '../../src/lib/errors.js';

const PROBE_MS = 2000;
const full = () =>
  new StorageUnavailableError('the disk holding the outbox is full; free some space on it', 'disk-full');
const locked = () =>
  new StorageUnavailableError('the outbox database is locked by another program', 'locked');

/** A fake outbox whose writability the test decides, and a logger that keeps its lines. */
function setUp() {
  const disk = { writable: false, probeError: full as () => StorageUnavailableError, prunable: 3 };
  const calls = { probes: 0, makeRoom: 0 };
  const lines: { level: string; message: string; [key: string]: unknown }[] = [];
  const logger = winston.createLogger({
    transports: [
      new (class extends Transport {
        override log(info: { level: string; message: string }, next: () => void) {
          lines.push(info);
          next();
        }
      })(),
    ],
  });
  const health = new StorageHealth({
    probeWritable: () => {
      calls.probes += 1;
      if (!disk.writable) throw disk.probeError();
    },
    makeRoom: () => {
      calls.makeRoom += 1;
      const removed = disk.prunable;
      disk.prunable = 0;
      return removed;
    },
    logger,
    probeEveryMs: PROBE_MS,
  });
  return { disk, calls, lines, health };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('storage health', () => {
  it('is available until a write fails for lack of storage, and says why then', () => {
    const { health } = setUp();
    expect(health.state).toEqual({ state: 'available' });
    expect(health.write(() => 'stored')).toBe('stored');
    expect(() =>
      health.write(() => {
        throw full();
      }),
    ).toThrow(StorageUnavailableError);
    expect(health.state).toEqual({
      state: 'unavailable',
      reason: 'disk-full',
      message: 'the disk holding the outbox is full; free some space on it',
    });
    expect(health.unavailableMessage).toMatch(/disk .* full/);
  });

  it('leaves errors that are not about storage alone (a conflict is not an outage)', () => {
    const { health } = setUp();
    expect(() =>
      health.write(() => {
        throw new Error('a bug');
      }),
    ).toThrow('a bug');
    expect(health.state.state).toBe('available');
  });

  it('probes every few seconds while full, making room first, and recovers with no write from a till', () => {
    const { disk, calls, lines, health } = setUp();
    health.markUnavailable(full());
    vi.advanceTimersByTime(PROBE_MS * 3);
    expect(calls).toEqual({ probes: 3, makeRoom: 3 });
    expect(health.state.state).toBe('unavailable');
    expect(lines.filter((l) => l.message === 'pruned acknowledged events early to make room')).toEqual([
      expect.objectContaining({ level: 'warn', removed: 3 }),
    ]);

    disk.writable = true;
    vi.advanceTimersByTime(PROBE_MS);
    expect(health.state).toEqual({ state: 'available' });
    // Available again: the probing stops.
    vi.advanceTimersByTime(PROBE_MS * 5);
    expect(calls.probes).toBe(4);
    expect(lines.map((l) => l.message)).toEqual([
      'capture unavailable',
      'pruned acknowledged events early to make room',
      'capture available again',
    ]);
  });

  it('never prunes acknowledged events when storage is unavailable for another reason than space', () => {
    const { disk, calls, health } = setUp();
    disk.probeError = locked;
    health.markUnavailable(locked());
    vi.advanceTimersByTime(PROBE_MS * 3);
    expect(calls).toEqual({ probes: 3, makeRoom: 0 });
    expect(health.state).toMatchObject({ state: 'unavailable', reason: 'locked' });
  });

  it('logs one line per episode, however many writes fail, and takes the reason the probe last saw', () => {
    const { disk, lines, health } = setUp();
    for (let i = 0; i < 5; i += 1) health.markUnavailable(locked());
    disk.probeError = full;
    vi.advanceTimersByTime(PROBE_MS);
    expect(health.state).toMatchObject({ state: 'unavailable', reason: 'disk-full' });
    expect(lines.filter((l) => l.message === 'capture unavailable')).toHaveLength(1);
  });

  it('becomes available on any successful write, before the probe notices', () => {
    const { calls, health } = setUp();
    health.markUnavailable(full());
    health.write(() => 1);
    expect(health.state.state).toBe('available');
    vi.advanceTimersByTime(PROBE_MS * 3);
    expect(calls.probes).toBe(0);
  });

  it('does not take a write that stored nothing (exact re-submissions) as proof that the disk is back', () => {
    const { calls, health } = setUp();
    health.markUnavailable(full());
    health.write(
      () => [{ duplicate: true }],
      (results) => results.some((r) => !r.duplicate),
    );
    expect(health.state.state).toBe('unavailable');
    health.write(
      () => [{ duplicate: true }, { duplicate: false }],
      (results) => results.some((r) => !r.duplicate),
    );
    expect(health.state.state).toBe('available');
    expect(calls.probes).toBe(0);
  });

  it('stops probing when stopped', () => {
    const { calls, health } = setUp();
    health.markUnavailable(full());
    health.stop();
    vi.advanceTimersByTime(PROBE_MS * 3);
    expect(calls.probes).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
