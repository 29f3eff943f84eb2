import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UpdateState } from '../../src/contracts/window-api.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { AgentReadiness, StoppedAgent } from '../../src/main/shell-agent.js';
import type { UpdaterEvent, UpdaterPort } from '../../src/main/update-controller.js';

vi.mock('electron', () => import('../support/fake-electron.js'));

const { UpdateController } = await import('../../src/main/update-controller.js');
const { QuitFlow } = await import('../../src/main/quit-flow.js');

const CONFIG = {
  feedUrl: 'https://updates.example/desktop',
  channel: 'pilot' as const,
  checkEveryHours: 4,
  quietHour: '03:00',
  quietWindowMinutes: 60,
  installWithUnsentSales: false,
};

function fakeUpdater() {
  let emit: (event: UpdaterEvent) => void = () => {};
  const port = {
    configure: vi.fn(),
    check: vi.fn(async () => undefined as unknown),
    quitAndInstall: vi.fn(),
    onEvent: vi.fn((listener: (event: UpdaterEvent) => void) => (emit = listener)),
  } satisfies UpdaterPort;
  return { port, emit: (event: UpdaterEvent) => emit(event) };
}

/** An agent the test steers: what it reports, and what it says as it stops. */
function fakeAgent() {
  const agent = {
    now: { commitsInFlight: 0, storageWritable: true, unsentCount: 0 } as AgentReadiness,
    readiness: vi.fn(async (): Promise<AgentReadiness | null> => ({ ...agent.now })),
    stop: vi.fn(async (): Promise<StoppedAgent> => ({
      unsentCount: agent.now.unsentCount + agent.now.commitsInFlight,
      storageWritable: agent.now.storageWritable,
    })),
    start: vi.fn(async () => {}),
  };
  return agent;
}

function setUp(config: Partial<typeof CONFIG> = {}, now = new Date(2026, 10, 23, 14, 0)) {
  const updater = fakeUpdater();
  const agent = fakeAgent();
  const states: UpdateState[] = [];
  const exit = vi.fn();
  const clock = { now };
  const controller = new UpdateController({
    updater: updater.port,
    config: { ...CONFIG, ...config },
    updaterChannel: 'pilot',
    agent,
    // The real quit flow, as the app wires it: stop the agent, then ask the controller for the installer.
    quitForUpdate: (): Promise<unknown> => flow.quit('update'),
    onState: (state) => states.push(state),
    logger: silentLogger(),
    now: () => clock.now,
    random: () => 0,
  });
  const flow = new QuitFlow({
    agent,
    confirmUnsent: vi.fn(async () => true),
    installerFor: (stopped, reason): (() => void) | null => controller.installerFor(stopped, reason),
    exit,
    logger: silentLogger(),
  });
  controller.start();
  const downloaded = () => {
    updater.emit({ type: 'available', version: '0.2.0' });
    updater.emit({ type: 'progress', percent: 40 });
    updater.emit({ type: 'downloaded', version: '0.2.0' });
  };
  return { controller, updater, agent, states, exit, flow, clock, downloaded };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('self-update', () => {
  it('reads the configured generic feed and channel, and checks at start then every few hours', async () => {
    const { updater, controller } = setUp();
    expect(updater.port.configure).toHaveBeenCalledWith({ url: CONFIG.feedUrl, channel: 'pilot' });
    expect(updater.port.check).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(updater.port.check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(4 * 3_600_000);
    expect(updater.port.check).toHaveBeenCalledTimes(2);
    controller.stop();
  });

  it('reports download progress and readiness to the window', () => {
    const { states, downloaded, controller } = setUp();
    downloaded();
    expect(states.map((s) => s.state)).toEqual(['downloading', 'downloading', 'ready']);
    expect(states[1]).toMatchObject({ percent: 40 });
    expect(controller.ready).toBe('0.2.0');
    controller.stop();
  });

  it('never installs during a commit: it waits, asks again, and installs once the commit is durable', async () => {
    const { controller, agent, updater, downloaded, states } = setUp();
    downloaded();
    agent.now = { commitsInFlight: 1, storageWritable: true, unsentCount: 0 };
    await expect(controller.tryInstall('quiet-hour', false)).resolves.toMatchObject({
      reason: 'commit-in-progress',
    });
    expect(agent.stop).not.toHaveBeenCalled();
    expect(updater.port.quitAndInstall).not.toHaveBeenCalled();
    expect(states.at(-1)).toMatchObject({ state: 'ready', waitingFor: 'commit-in-progress' });

    agent.now = { commitsInFlight: 0, storageWritable: true, unsentCount: 0 };
    await vi.advanceTimersByTimeAsync(2_000);
    expect(agent.stop).toHaveBeenCalledTimes(1);
    expect(updater.port.quitAndInstall).toHaveBeenCalledTimes(1);
    // The agent stopped (its commits finished, the outbox closed) before the installer took over.
    expect(agent.stop.mock.invocationCallOrder[0]!).toBeLessThan(
      updater.port.quitAndInstall.mock.invocationCallOrder[0]!,
    );
    controller.stop();
  });

  it('never installs with sales unsent unless forced', async () => {
    const { controller, agent, updater, downloaded } = setUp();
    downloaded();
    agent.now = { commitsInFlight: 0, storageWritable: true, unsentCount: 12 };
    await expect(controller.tryInstall('quiet-hour', false)).resolves.toMatchObject({
      reason: 'sales-unsent',
    });
    expect(agent.stop).not.toHaveBeenCalled();
    expect(updater.port.quitAndInstall).not.toHaveBeenCalled();

    await expect(controller.tryInstall('manual', true)).resolves.toEqual({ install: true });
    expect(updater.port.quitAndInstall).toHaveBeenCalledTimes(1);
    controller.stop();
  });

  it('never installs while the outbox cannot be written, even forced', async () => {
    const { controller, agent, updater, downloaded } = setUp();
    downloaded();
    agent.now = { commitsInFlight: 0, storageWritable: false, unsentCount: 0 };
    await expect(controller.tryInstall('manual', true)).resolves.toMatchObject({
      reason: 'storage-unwritable',
    });
    expect(updater.port.quitAndInstall).not.toHaveBeenCalled();
    controller.stop();
  });

  it('installs unattended in the quiet hour, and not outside it', async () => {
    const { controller, updater, downloaded, clock } = setUp();
    downloaded();
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(updater.port.quitAndInstall).not.toHaveBeenCalled();
    clock.now = new Date(2026, 10, 24, 3, 10);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(updater.port.quitAndInstall).toHaveBeenCalledTimes(1);
    controller.stop();
  });

  it('installs on quit only when the agent stopped with everything delivered (or IT forces it)', () => {
    const { controller, downloaded, updater } = setUp();
    downloaded();
    expect(controller.installerFor({ unsentCount: 3, storageWritable: true }, 'user')).toBeNull();
    expect(controller.installerFor({ unsentCount: null, storageWritable: null }, 'user')).toBeNull();
    expect(controller.installerFor({ unsentCount: 0, storageWritable: true }, 'system')).toBeNull();
    const install = controller.installerFor({ unsentCount: 0, storageWritable: true }, 'user');
    expect(install).not.toBeNull();
    install?.();
    expect(updater.port.quitAndInstall).toHaveBeenCalledTimes(1);
    controller.stop();

    const forced = setUp({ installWithUnsentSales: true });
    forced.downloaded();
    expect(forced.controller.installerFor({ unsentCount: 3, storageWritable: true }, 'user')).not.toBeNull();
    forced.controller.stop();
  });

  it('shows an update error in the window and never stops the app', async () => {
    const { controller, updater, states, exit } = setUp();
    updater.port.check.mockRejectedValueOnce(new Error('net::ERR_NAME_NOT_RESOLVED'));
    await expect(controller.check()).resolves.toBeUndefined();
    expect(states.at(-1)).toMatchObject({
      state: 'error',
      message: 'net::ERR_NAME_NOT_RESOLVED',
      channel: 'pilot',
    });
    updater.emit({ type: 'error', message: 'sha512 checksum mismatch' });
    expect(states.at(-1)).toMatchObject({ state: 'error', message: 'sha512 checksum mismatch' });
    expect(exit).not.toHaveBeenCalled();
    controller.stop();
  });

  it('keeps trading when a sale arrives while stopping for an install', async () => {
    const { controller, agent, updater, downloaded, exit } = setUp();
    downloaded();
    agent.stop.mockImplementationOnce(async () => ({ unsentCount: 1, storageWritable: true }));
    await controller.tryInstall('quiet-hour', false);
    expect(updater.port.quitAndInstall).not.toHaveBeenCalled();
    expect(exit).not.toHaveBeenCalled();
    expect(agent.start).toHaveBeenCalledTimes(1);
    controller.stop();
  });
});
