import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WindowLinkState, WindowSnapshot } from '../../src/contracts/window-api.js';
import { NotFoundError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/logger.js';
import { outcomeOfError } from '../../src/agent/window-service.js';
import { UtilityAgentHost, type AgentProcess } from '../../src/main/agent-host.js';
import type { AgentReport } from '../../src/main/agent-link-messages.js';
import { serveShellAgent } from '../../src/main/agent-service.js';
import type { ShellAgent } from '../../src/main/shell-agent.js';

const SNAPSHOT: WindowSnapshot = {
  status: {
    storeId: 'S1',
    version: '0.1.0',
    now: '2026-11-23T10:00:00.000Z',
    epoch: 'e',
    capture: { state: 'ok' },
    connection: { state: 'online', since: null, lastError: null, everConnected: true },
    logging: { state: 'ok', dir: null, since: null, error: null, droppedLines: 0 },
    backlog: { count: 4, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] },
    lastSeq: 10,
    lastAck: null,
    deadLetters: { count: 0, items: [] },
    promotions: { active: 0 },
    problems: [],
  },
  history: { bucketSeconds: 60, points: [] },
  terminals: [],
  notices: [],
  promotions: { inForce: [], next: null },
  app: { version: '0.1.0', update: { state: 'not-applicable' } },
};

/** The agent's running handle, as the test wants it: counts, and a stop that finishes commits first. */
function fakeShellAgent() {
  const listeners = new Set<() => void>();
  const agent = {
    inFlight: 2,
    unsent: 5,
    writable: true,
    stopped: false,
    commitsInFlight: () => agent.inFlight,
    storageWritable: () => agent.writable,
    unsentCount: () => agent.unsent,
    windowSnapshot: vi.fn(async () => SNAPSHOT),
    onChange: (listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    change: () => listeners.forEach((l) => l()),
    retryDeadLetter: vi.fn(async (eventId: string) => ({
      ok: true as const,
      result: { eventId, state: 'retried' as const },
    })),
    discardDeadLetter: vi.fn(async (eventId: string) =>
      outcomeOfError(new NotFoundError(`no dead-lettered event ${eventId}`)),
    ),
    stop: vi.fn(async () => {
      // the commits in flight become durable, unsent sales
      agent.unsent += agent.inFlight;
      agent.inFlight = 0;
      agent.stopped = true;
    }),
  };
  return agent satisfies ShellAgent & Record<string, unknown>;
}

/**
 * A utility process in memory: messages cross as structured clones, asynchronously, as with Electron's
 * MessagePort; the agent side runs the real service.
 */
function inMemoryProcess(agent: ShellAgent, options: { startFails?: string } = {}) {
  const toMain: ((message: unknown) => void)[] = [];
  const onExit: ((code: number) => void)[] = [];
  let alive = true;
  const exit = (code: number) => {
    if (!alive) return;
    alive = false;
    setImmediate(() => onExit.forEach((l) => l(code)));
  };
  const post = (report: AgentReport) => {
    const copy = structuredClone(report);
    if (alive) setImmediate(() => toMain.forEach((l) => l(copy)));
  };
  const service = serveShellAgent({ agent, post, onStopped: () => exit(0), onError: () => {} });
  const child: AgentProcess & { crash(): void } = {
    postMessage: (message) => {
      const copy = structuredClone(message);
      setImmediate(() => alive && service.handle(copy));
    },
    on: ((event: 'message' | 'exit', listener: (arg: never) => void) => {
      if (event === 'message') toMain.push(listener as (m: unknown) => void);
      else onExit.push(listener as (code: number) => void);
    }) as AgentProcess['on'],
    kill: () => {
      exit(1);
      return true;
    },
    crash: () => exit(134),
  };
  setImmediate(() =>
    options.startFails
      ? (post({ type: 'start-failed', message: options.startFails }), exit(1))
      : post({ type: 'started' }),
  );
  return child;
}

const hosts: UtilityAgentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop();
});

function host(
  fork: () => AgentProcess,
  extra: Partial<ConstructorParameters<typeof UtilityAgentHost>[0]> = {},
) {
  const h = new UtilityAgentHost({
    fork,
    logger: silentLogger(),
    restart: { initialMs: 10, maxMs: 20 },
    random: () => 0,
    ...extra,
  });
  hosts.push(h);
  return h;
}

describe('the agent in its utility process, seen from the main process', () => {
  it('answers readiness, snapshots and actions across the process boundary, validated', async () => {
    const agent = fakeShellAgent();
    const h = host(() => inMemoryProcess(agent));
    await h.start();
    await expect(h.readiness()).resolves.toEqual({
      commitsInFlight: 2,
      storageWritable: true,
      unsentCount: 5,
    });
    await expect(h.snapshot()).resolves.toEqual(SNAPSHOT);
    await expect(h.retryDeadLetter('E1')).resolves.toEqual({
      ok: true,
      result: { eventId: 'E1', state: 'retried' },
    });
    await expect(h.discardDeadLetter('E2', 'note')).resolves.toMatchObject({
      ok: false,
      refusal: 'not-found',
    });
  });

  it('pushes a snapshot when the agent changes, one for a burst', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const agent = fakeShellAgent();
      const h = host(() => inMemoryProcess(agent));
      const pushed: WindowSnapshot[] = [];
      h.onSnapshot((s) => pushed.push(s));
      await h.start();
      for (let i = 0; i < 50; i++) agent.change();
      await vi.advanceTimersByTimeAsync(600);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(pushed).toHaveLength(1);
      expect(agent.windowSnapshot).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops the agent (commits in flight finished) and learns what was left unsent', async () => {
    const agent = fakeShellAgent();
    const h = host(() => inMemoryProcess(agent));
    await h.start();
    const stopped = await h.stop();
    expect(agent.stop).toHaveBeenCalledTimes(1);
    expect(agent.stopped).toBe(true);
    // The two commits in flight count as unsent: an install never takes them for delivered.
    expect(stopped).toEqual({ unsentCount: 7, storageWritable: true });
    await expect(h.readiness()).resolves.toBeNull();
  });

  it('says the link is lost when the agent process dies, and starts it again', async () => {
    const agents = [fakeShellAgent(), fakeShellAgent()];
    const children: ReturnType<typeof inMemoryProcess>[] = [];
    const h = host(() => {
      const child = inMemoryProcess(agents[children.length]!);
      children.push(child);
      return child;
    });
    const links: WindowLinkState[] = [];
    h.onLink((state) => links.push(state));
    await h.start();
    const pending = h.snapshot();
    children[0]!.crash();
    await expect(pending).rejects.toThrow(/exited/);
    expect(links).toEqual(['open', 'lost']);
    await expect(h.readiness()).resolves.toBeNull();
    for (let i = 0; i < 100 && links.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(links).toEqual(['open', 'lost', 'open']);
    expect(children).toHaveLength(2);
    await expect(h.readiness()).resolves.toMatchObject({ unsentCount: 5 });
  });

  it('refuses an answer that does not match its request', async () => {
    const h = host(
      () => {
        const listeners: ((m: unknown) => void)[] = [];
        setImmediate(() => listeners.forEach((l) => l({ type: 'started' })));
        return {
          postMessage: (message: unknown) => {
            const { id } = message as { id: number };
            setImmediate(() =>
              listeners.forEach((l) =>
                l({ type: 'answer', id, result: { ok: true, value: { commitsInFlight: 'many' } } }),
              ),
            );
          },
          on: ((event: string, listener: (m: unknown) => void) => {
            if (event === 'message') listeners.push(listener);
          }) as AgentProcess['on'],
          kill: () => true,
        };
      },
      { stopTimeoutMs: 50 },
    );
    await h.start();
    await expect(h.snapshot()).rejects.toThrow(/not valid/);
    await expect(h.readiness()).resolves.toBeNull();
    hosts.pop();
  });

  it('reports a start failure, and keeps trying', async () => {
    let forks = 0;
    const h = host(() => {
      forks++;
      return inMemoryProcess(fakeShellAgent(), {
        startFails: 'invalid config in agent.json: storeId: required',
      });
    });
    await expect(h.start()).rejects.toThrow(/storeId/);
    for (let i = 0; i < 100 && forks < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(forks).toBeGreaterThanOrEqual(2);
  });
});
