import { agentStatusSchema, type AgentStatus } from '../contracts/status.js';
import type { WindowSnapshot } from '../contracts/window-api.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { outcomeOfError } from './action-outcome.js';
import { ActivityRecorder } from './activity-history.js';
import type { ShellAgent } from './shell-agent.js';

/** What the shell needs of the agent's running handle (`startAgent`'s result). */
export interface RunningAgentHandle {
  readonly url: string;
  readonly outbox: {
    unsentCount(): number;
    retryDeadLetter(eventId: string): unknown;
    discardDeadLetter(eventId: string, note: string): void;
  };
  stop(): Promise<void>;
}

export interface SeamOptions {
  version: string;
  logger: Logger;
  now?: () => number;
  fetch?: typeof fetch;
  /** How often the status is sampled for the chart and for changes. */
  sampleEveryMs?: number;
}

/** Without a visible change, the window still hears every half minute (ages in words move on). */
const QUIET_PUSH_MS = 30_000;

/** The agent's own API address as seen from its PC: a wildcard bind is reached on loopback. */
export function loopbackUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0') parsed.hostname = '127.0.0.1';
  if (parsed.hostname === '[::]') parsed.hostname = '[::1]';
  return parsed.origin;
}

/**
 * Gives the agent's running handle the shell's seam, from what the handle offers today: the status comes
 * from the agent's public `/v1/status` (read from loopback, as the store manager's PC may), the dead-letter
 * actions from the outbox. Commits in flight are not counted by the handle; they are always finished by
 * `stop()`, and every install and quit goes through `stop()` first, so none is ever cut.
 */
export function shellAgentFrom(running: RunningAgentHandle, options: SeamOptions): ShellAgent {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  const statusUrl = `${loopbackUrl(running.url)}/v1/status`;
  const history = new ActivityRecorder();
  const listeners = new Set<() => void>();
  let lastStatus: AgentStatus | null = null;
  let lastKey = '';
  let lastPush = 0;

  const readStatus = async (): Promise<AgentStatus> => {
    const response = await doFetch(statusUrl, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`the agent's status answered HTTP ${response.status}`);
    const status = agentStatusSchema.parse(await response.json());
    lastStatus = status;
    // Every read feeds the chart, so the chart and the figures beside it always agree.
    history.record(now(), status.backlog.count, status.lastSeq);
    return status;
  };

  const notify = () => {
    lastPush = now();
    for (const listener of listeners) listener();
  };

  const sample = async () => {
    try {
      const status = await readStatus();
      const { now: _now, backlog, ...rest } = status;
      const key = JSON.stringify({ ...rest, backlog: { ...backlog, oldestAgeSeconds: null } });
      if (key !== lastKey || now() - lastPush >= QUIET_PUSH_MS) {
        lastKey = key;
        notify();
      }
    } catch (error) {
      options.logger.debug('status sample for the window failed', { error: errorMessage(error) });
    }
  };
  const sampler = setInterval(() => void sample(), options.sampleEveryMs ?? 1000);
  void sample();

  const act = async (run: () => void, eventId: string, state: 'retried' | 'discarded') => {
    try {
      run();
    } catch (error) {
      return outcomeOfError(error);
    }
    void sample().then(notify);
    return { ok: true as const, result: { eventId, state } };
  };

  return {
    commitsInFlight: () => 0,
    storageWritable: () => lastStatus?.capture.state !== 'unavailable',
    unsentCount: () => running.outbox.unsentCount(),
    async windowSnapshot(): Promise<WindowSnapshot> {
      const status = await readStatus();
      return {
        status,
        history: history.view(),
        terminals: [],
        notices: [],
        promotions: { inForce: [], next: null },
        app: { version: options.version, update: { state: 'not-applicable' } },
      };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    retryDeadLetter: (eventId) => act(() => running.outbox.retryDeadLetter(eventId), eventId, 'retried'),
    discardDeadLetter: (eventId, note) =>
      act(() => running.outbox.discardDeadLetter(eventId, note), eventId, 'discarded'),
    async stop() {
      clearInterval(sampler);
      listeners.clear();
      await running.stop();
    },
  };
}
