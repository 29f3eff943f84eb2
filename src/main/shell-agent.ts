import type { DeadLetterActionOutcome, WindowLinkState, WindowSnapshot } from '../contracts/window-api.js';

/**
 * The seam between the store agent and the desktop shell. The agent's running handle implements
 * `ShellAgent` in the process that hosts it (the agent's utility process); the shell, in Electron's main
 * process, sees the same seam across the process boundary as `HostedAgent`, where every read is a
 * question that may wait.
 */

/** The running agent's seam, defined by the store core (src/agent/window-service.ts). */
export type { ShellAgent } from '../agent/window-service.js';

/** What an update install or a quit must know about the agent before it goes ahead. */
export interface AgentReadiness {
  /** Captures accepted but not yet durable (their group commit still running). */
  commitsInFlight: number;
  /** False while the outbox cannot take writes (disk full, read-only, locked). */
  storageWritable: boolean;
  /** Sales on this PC that head office has not acknowledged yet. */
  unsentCount: number;
}

/** What `HostedAgent.stop()` learnt on the way down, for the decision to install an update on quit. */
export interface StoppedAgent {
  /** Unsent sales once the last commits were durable; null when the agent could not say (it had died). */
  unsentCount: number | null;
  storageWritable: boolean | null;
}

/** The agent as the main process sees it: in another process, which may be starting, running or gone. */
export interface HostedAgent {
  start(): Promise<void>;
  /** Null when the agent is not running or does not answer. */
  readiness(): Promise<AgentReadiness | null>;
  snapshot(): Promise<WindowSnapshot>;
  onSnapshot(listener: (snapshot: WindowSnapshot) => void): () => void;
  onLink(listener: (state: WindowLinkState) => void): () => void;
  retryDeadLetter(eventId: string): Promise<DeadLetterActionOutcome>;
  discardDeadLetter(eventId: string, note: string): Promise<DeadLetterActionOutcome>;
  /** Resolves once the agent has finished its commits in flight and closed the outbox (or was not running). */
  stop(): Promise<StoppedAgent>;
}
