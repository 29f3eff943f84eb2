import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/lib/logger.js';
import type { AgentReadiness, StoppedAgent } from '../../src/main/shell-agent.js';
import { app, fakeEvent } from '../support/fake-electron.js';

vi.mock('electron', () => import('../support/fake-electron.js'));

const { QuitFlow, routeQuitThroughFlow } = await import('../../src/main/quit-flow.js');

/** An agent whose stop() finishes only when the test lets its in-flight commits complete. */
function fakeAgent(readiness: AgentReadiness | null) {
  let finishCommits!: (stopped: StoppedAgent) => void;
  const stopped = new Promise<StoppedAgent>((resolve) => (finishCommits = resolve));
  return {
    readiness: vi.fn(async () => readiness),
    stop: vi.fn(() => stopped),
    start: vi.fn(async () => {}),
    finishCommits,
  };
}

const settle = () => new Promise((r) => setImmediate(r));

afterEach(() => {
  app.exit.mockClear();
});

describe('Quit', () => {
  it('waits for the commits in flight before the process exits', async () => {
    const agent = fakeAgent({ commitsInFlight: 2, storageWritable: true, unsentCount: 0 });
    const exit = vi.fn();
    const flow = new QuitFlow({
      agent,
      confirmUnsent: vi.fn(),
      installerFor: () => null,
      exit,
      logger: silentLogger(),
    });
    const done = flow.quit('user');
    await settle();
    expect(agent.stop).toHaveBeenCalledTimes(1);
    expect(flow.quitting).toBe(true);
    expect(exit).not.toHaveBeenCalled(); // two commits still running
    agent.finishCommits({ unsentCount: 2, storageWritable: true });
    await expect(done).resolves.toBe('exited');
    expect(exit).toHaveBeenCalledWith(0);
    expect(agent.stop.mock.invocationCallOrder[0]!).toBeLessThan(exit.mock.invocationCallOrder[0]!);
  });

  it('warns when sales are unsent, and keeps running if the manager says so', async () => {
    const agent = fakeAgent({ commitsInFlight: 0, storageWritable: true, unsentCount: 312 });
    const confirmUnsent = vi.fn(async () => false);
    const exit = vi.fn();
    const flow = new QuitFlow({
      agent,
      confirmUnsent,
      installerFor: () => null,
      exit,
      logger: silentLogger(),
    });
    await expect(flow.requestQuit()).resolves.toBe('kept');
    expect(confirmUnsent).toHaveBeenCalledWith(312);
    expect(agent.stop).not.toHaveBeenCalled();
    expect(flow.quitting).toBe(false);

    confirmUnsent.mockResolvedValueOnce(true);
    await expect(flow.requestQuit()).resolves.toBe('quitting');
    agent.finishCommits({ unsentCount: 312, storageWritable: true });
    await settle();
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('asks nothing when every sale has reached head office', async () => {
    const agent = fakeAgent({ commitsInFlight: 0, storageWritable: true, unsentCount: 0 });
    const confirmUnsent = vi.fn(async () => false);
    const flow = new QuitFlow({
      agent,
      confirmUnsent,
      installerFor: () => null,
      exit: vi.fn(),
      logger: silentLogger(),
    });
    await expect(flow.requestQuit()).resolves.toBe('quitting');
    expect(confirmUnsent).not.toHaveBeenCalled();
  });

  it('routes every quit Electron hears (shutdown, logoff) through the same orderly stop', async () => {
    const agent = fakeAgent({ commitsInFlight: 1, storageWritable: true, unsentCount: 0 });
    const flow = new QuitFlow({
      agent,
      confirmUnsent: vi.fn(),
      installerFor: () => null,
      exit: (code) => app.exit(code),
      logger: silentLogger(),
    });
    routeQuitThroughFlow(flow);
    const event = fakeEvent();
    app.emit('before-quit', event);
    expect(event.defaultPrevented).toBe(true); // Electron would otherwise end the process now
    await settle();
    expect(app.exit).not.toHaveBeenCalled();
    agent.finishCommits({ unsentCount: 1, storageWritable: true });
    await settle();
    expect(app.exit).toHaveBeenCalledWith(0);
    // The exit the flow makes is not intercepted again.
    const second = fakeEvent();
    app.emit('before-quit', second);
    expect(second.defaultPrevented).toBe(false);
    expect(agent.stop).toHaveBeenCalledTimes(1);
  });

  it('hands the exit to the update installer when the rules allow it, after the agent stopped', async () => {
    const agent = fakeAgent({ commitsInFlight: 0, storageWritable: true, unsentCount: 0 });
    const install = vi.fn();
    const installerFor = vi.fn(() => install);
    const exit = vi.fn();
    const flow = new QuitFlow({ agent, confirmUnsent: vi.fn(), installerFor, exit, logger: silentLogger() });
    const done = flow.quit('user');
    agent.finishCommits({ unsentCount: 0, storageWritable: true });
    await expect(done).resolves.toBe('exited');
    expect(installerFor).toHaveBeenCalledWith({ unsentCount: 0, storageWritable: true }, 'user');
    expect(install).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    expect(flow.exiting).toBe(true);
  });

  it('starts the agent again when an update install is no longer allowed once it stopped', async () => {
    const agent = fakeAgent({ commitsInFlight: 0, storageWritable: true, unsentCount: 0 });
    const exit = vi.fn();
    const flow = new QuitFlow({
      agent,
      confirmUnsent: vi.fn(),
      installerFor: () => null,
      exit,
      logger: silentLogger(),
    });
    const done = flow.quit('update');
    agent.finishCommits({ unsentCount: 1, storageWritable: true }); // a sale arrived while stopping
    await expect(done).resolves.toBe('resumed');
    expect(agent.start).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    expect(flow.quitting).toBe(false);
  });
});
