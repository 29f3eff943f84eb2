import { afterEach, describe, expect, it, vi } from 'vitest';
import winston from 'winston';
import { WindowService, type WindowServiceOptions } from '../../src/agent/window-service.js';
import type { AgentStatus } from '../../src/contracts/status.js';
import { windowSnapshotSchema } from '../../src/contracts/window-api.js';
import { NotFoundError, StorageUnavailableError } from '../../src/lib/errors.js';
import type { CaptureInput, CaptureResult } from '../../src/sync/index.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

function status(change: Partial<AgentStatus> = {}): AgentStatus {
  return {
    storeId: 'S1',
    version: '0.1.0',
    now: new Date(T0).toISOString(),
    epoch: 'e',
    capture: { state: 'ok' },
    connection: { state: 'online', since: null, lastError: null, everConnected: true },
    logging: { state: 'ok', dir: null, since: null, error: null, droppedLines: 0 },
    backlog: { count: 0, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] },
    lastSeq: 0,
    lastAck: null,
    deadLetters: { count: 0, items: [] },
    promotions: { active: 0 },
    problems: [],
    ...change,
  };
}

const input = (terminalId: string, n: number): CaptureInput => ({
  terminalId,
  transactionId: `${terminalId}-${n}`,
  type: 'sale',
  currency: 'EUR',
  signedTotal: 100,
  body: '{}',
  bodyHash: 'h',
});
const stored = (seq: number, duplicate = false): CaptureResult => ({
  eventId: `E${seq}`,
  epoch: 'e',
  seq,
  duplicate,
});

let service: WindowService | undefined;
afterEach(() => {
  service?.stop();
  service = undefined;
});

function setUp(options: Partial<WindowServiceOptions> = {}) {
  let now = T0;
  let current = status();
  const logger = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
  const deadLetters = {
    retry: vi.fn((_eventId: string) => ({ epoch: 'e', seq: 12 })),
    discard: vi.fn((_eventId: string, _note: string) => {}),
  };
  const afterRetry = vi.fn();
  service = new WindowService({
    version: '9.9.9',
    clock: { now: () => now, monotonic: () => now },
    logger,
    status: () => current,
    unsentCount: () => current.backlog.count,
    deadLetters,
    afterRetry,
    terminalsSince: () => [{ terminalId: 'T9', lastAt: T0 - 60_000, count: 5 }],
    ...options,
  });
  service.start();
  return {
    service,
    logger,
    deadLetters,
    afterRetry,
    advance: (ms: number) => (now += ms),
    set: (next: AgentStatus) => (current = next),
  };
}

describe("the agent's window service", () => {
  it('builds the snapshot: status, chart, tills seen today, notices, promotions, version', async () => {
    const { service, logger, advance, set } = setUp();
    service.recordCaptures(
      [input('T1', 1), input('T1', 2), input('T2', 1), input('T2', 2)],
      [stored(1), stored(2), stored(1, true), new Error('conflict')],
    );
    set(status({ backlog: { count: 2, oldestCapturedAt: null, oldestAgeSeconds: 0, atRisk: [] } }));
    logger.warn('no acknowledgement in time; publishing unacknowledged events again');
    advance(1_000);
    const snapshot = await service.windowSnapshot();
    expect(windowSnapshotSchema.parse(snapshot)).toEqual(snapshot);
    expect(snapshot.status.backlog.count).toBe(2);
    expect(snapshot.history.points).toEqual([{ at: '2026-11-23T10:00:00.000Z', backlog: 2, sales: 2 }]);
    // Only new sales count: a repeated submission or a refused one sold nothing.
    expect(snapshot.terminals.map((t) => [t.terminalId, t.salesToday])).toEqual([
      ['T1', 2],
      ['T9', 5],
    ]);
    expect(snapshot.notices).toHaveLength(1);
    expect(snapshot.promotions).toEqual({ inForce: [], next: null });
    expect(snapshot.app).toEqual({ version: '9.9.9', update: { state: 'not-applicable' } });
  });

  it('shows the promotions in force and the next one, as the store holds them now', async () => {
    const winter = { id: 'P1', name: 'Winter coats', startsAt: null, endsAt: '2026-11-30T22:59:00.000Z' };
    const { service } = setUp({ promotions: () => ({ inForce: [winter], next: null }) });
    expect((await service.windowSnapshot()).promotions).toEqual({ inForce: [winter], next: null });
  });

  it('says none when the promotions cannot be read, and still shows the rest', async () => {
    const { service } = setUp({
      promotions: () => {
        throw new Error('catalogue unreadable');
      },
    });
    const snapshot = await service.windowSnapshot();
    expect(snapshot.promotions).toEqual({ inForce: [], next: null });
    expect(snapshot.status.storeId).toBe('S1');
  });

  it('retries a dead letter and wakes delivery; discards one with its note', async () => {
    const { service, deadLetters, afterRetry } = setUp();
    await expect(service.retryDeadLetter('E1')).resolves.toEqual({
      ok: true,
      result: { eventId: 'E1', state: 'retried' },
    });
    expect(afterRetry).toHaveBeenCalledTimes(1);
    await expect(service.discardDeadLetter('E2', '  rung head office, sale re-keyed  ')).resolves.toEqual({
      ok: true,
      result: { eventId: 'E2', state: 'discarded' },
    });
    expect(deadLetters.discard).toHaveBeenCalledWith('E2', 'rung head office, sale re-keyed');
  });

  it('words each refusal, and acts on nothing it cannot validate', async () => {
    const { service, deadLetters, afterRetry } = setUp();
    deadLetters.retry.mockImplementationOnce(() => {
      throw new NotFoundError('no dead-lettered event E3');
    });
    await expect(service.retryDeadLetter('E3')).resolves.toMatchObject({ ok: false, refusal: 'not-found' });
    deadLetters.retry.mockImplementationOnce(() => {
      throw new StorageUnavailableError('disk full', 'disk-full');
    });
    await expect(service.retryDeadLetter('E4')).resolves.toMatchObject({ ok: false, refusal: 'unavailable' });
    expect(afterRetry).not.toHaveBeenCalled();
    await expect(service.retryDeadLetter('../../etc')).resolves.toMatchObject({ refusal: 'invalid' });
    await expect(service.discardDeadLetter('E5', ' ')).resolves.toMatchObject({
      refusal: 'invalid',
      message: 'say in a few words why this sale is discarded',
    });
    expect(deadLetters.discard).not.toHaveBeenCalled();
    expect(deadLetters.retry).toHaveBeenCalledTimes(2);
  });

  it('tells its listeners about captures, warnings and actions, and stops hearing the log when stopped', async () => {
    vi.useFakeTimers();
    try {
      const { service, logger } = setUp({ pushIntervalMs: 100 });
      const heard = vi.fn();
      service.onChange(heard);
      service.recordCaptures([input('T1', 1)], [stored(1)]);
      await vi.advanceTimersByTimeAsync(150);
      expect(heard).toHaveBeenCalledTimes(1);
      logger.error('capture unavailable');
      await vi.advanceTimersByTimeAsync(150);
      expect(heard).toHaveBeenCalledTimes(2);
      await service.retryDeadLetter('E1');
      await vi.advanceTimersByTimeAsync(150);
      expect(heard).toHaveBeenCalledTimes(3);
      service.stop();
      expect(logger.transports).toHaveLength(1); // only the console it started with
    } finally {
      vi.useRealTimers();
    }
  });
});
