import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentStatus } from '../../src/contracts/status.js';
import { windowSnapshotSchema } from '../../src/contracts/window-api.js';
import { NotFoundError, StorageUnavailableError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/logger.js';
import { ActivityRecorder } from '../../src/main/activity-history.js';
import { loopbackUrl, shellAgentFrom, type RunningAgentHandle } from '../../src/main/running-agent-seam.js';
import type { ShellAgent } from '../../src/main/shell-agent.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

describe('the activity chart is kept minute by minute beside the agent', () => {
  it('records the backlog at the end of each minute and the sales as the growth of the seq', () => {
    const history = new ActivityRecorder(60, 3);
    history.record(T0, 0, 100);
    history.record(T0 + 20_000, 2, 104);
    history.record(T0 + 50_000, 3, 110);
    history.record(T0 + 65_000, 1, 111);
    expect(history.view()).toEqual({
      bucketSeconds: 60,
      points: [
        { at: '2026-11-23T10:00:00.000Z', backlog: 3, sales: 10 },
        { at: '2026-11-23T10:01:00.000Z', backlog: 1, sales: 1 },
      ],
    });
  });

  it('keeps only the last hours, counts nothing for a new epoch, and ignores a clock stepping back', () => {
    const history = new ActivityRecorder(60, 3);
    for (let minute = 0; minute < 5; minute++) history.record(T0 + minute * 60_000, minute, minute * 10);
    history.record(T0 + 5 * 60_000, 0, 3); // new epoch: seqs start again
    history.record(T0 + 60_000, 99, 50); // clock stepped back into an older minute
    const points = history.view().points;
    expect(points.map((p) => p.at.slice(11, 16))).toEqual(['10:03', '10:04', '10:05']);
    expect(points.at(-1)).toEqual({ at: '2026-11-23T10:05:00.000Z', backlog: 0, sales: 0 });
  });
});

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

describe("the shell's seam over the agent's running handle", () => {
  let agent: ShellAgent | undefined;
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  function setUp(first: AgentStatus) {
    let current = first;
    const fetch = vi.fn(async (url: string | URL | Request) => {
      expect(String(url)).toBe('http://127.0.0.1:8787/v1/status');
      return new Response(JSON.stringify(current), { headers: { 'content-type': 'application/json' } });
    });
    const running = {
      url: 'http://0.0.0.0:8787',
      outbox: {
        unsentCount: vi.fn(() => 7),
        retryDeadLetter: vi.fn((_id: string) => ({ epoch: 'e', seq: 12 })),
        discardDeadLetter: vi.fn((_id: string, _note: string) => {}),
      },
      stop: vi.fn(async () => {}),
    } satisfies RunningAgentHandle;
    agent = shellAgentFrom(running, {
      version: '9.9.9',
      logger: silentLogger(),
      fetch: fetch as typeof globalThis.fetch,
      sampleEveryMs: 3_600_000,
    });
    return { agent, running, fetch, set: (next: AgentStatus) => (current = next) };
  }

  it('reads the status from the agent on loopback and builds the window snapshot', async () => {
    const { agent } = setUp(
      status({ backlog: { count: 3, oldestCapturedAt: null, oldestAgeSeconds: 5, atRisk: [] } }),
    );
    const snapshot = await agent.windowSnapshot();
    expect(windowSnapshotSchema.parse(snapshot)).toEqual(snapshot);
    expect(snapshot.status.backlog.count).toBe(3);
    expect(snapshot.app).toEqual({ version: '9.9.9', update: { state: 'not-applicable' } });
    expect(snapshot.promotions).toEqual({ inForce: [], next: null });
    expect(agent.unsentCount()).toBe(7);
    expect(agent.storageWritable()).toBe(true);
  });

  it('says storage is unwritable once the agent reports capture unavailable', async () => {
    const { agent, set } = setUp(status());
    set(status({ capture: { state: 'unavailable', message: 'disk full' } }));
    await agent.windowSnapshot();
    expect(agent.storageWritable()).toBe(false);
  });

  it('retries and discards through the outbox, and words its refusals', async () => {
    const { agent, running } = setUp(status());
    await expect(agent.retryDeadLetter('E1')).resolves.toEqual({
      ok: true,
      result: { eventId: 'E1', state: 'retried' },
    });
    await expect(agent.discardDeadLetter('E2', 'rung twice')).resolves.toEqual({
      ok: true,
      result: { eventId: 'E2', state: 'discarded' },
    });
    expect(running.outbox.discardDeadLetter).toHaveBeenCalledWith('E2', 'rung twice');
    running.outbox.retryDeadLetter.mockImplementationOnce(() => {
      throw new NotFoundError('no dead-lettered event E3');
    });
    await expect(agent.retryDeadLetter('E3')).resolves.toMatchObject({ ok: false, refusal: 'not-found' });
    running.outbox.retryDeadLetter.mockImplementationOnce(() => {
      throw new StorageUnavailableError('disk full', 'disk-full');
    });
    await expect(agent.retryDeadLetter('E4')).resolves.toMatchObject({ ok: false, refusal: 'unavailable' });
  });

  it('stops the agent it wraps', async () => {
    const { agent, running } = setUp(status());
    await agent.stop();
    expect(running.stop).toHaveBeenCalledTimes(1);
  });

  it('reaches a wildcard-bound agent on loopback', () => {
    expect(loopbackUrl('http://0.0.0.0:8787')).toBe('http://127.0.0.1:8787');
    expect(loopbackUrl('http://[::]:8787')).toBe('http://[::1]:8787');
    expect(loopbackUrl('http://192.168.1.20:8787')).toBe('http://192.168.1.20:8787');
  });
});
