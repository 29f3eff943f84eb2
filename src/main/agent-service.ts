import { errorMessage } from '../lib/errors.js';
import {
  agentRequestSchema,
  type AgentReport,
  type AgentRequest,
  type AnswerOf,
} from './agent-link-messages.js';
import type { ShellAgent, StoppedAgent } from './shell-agent.js';

/** Snapshots are pushed at most this often: a busy store changes every few milliseconds. */
export const SNAPSHOT_PUSH_INTERVAL_MS = 500;

export interface AgentServiceOptions {
  agent: ShellAgent;
  post: (report: AgentReport) => void;
  /** Called once the agent has stopped and the answer is posted, to end the process. */
  onStopped: () => void;
  onError: (message: string, error: unknown) => void;
}

/**
 * The agent process's side of the link: answers the main process's requests from the agent's running
 * handle, and pushes a fresh snapshot when the agent says something changed (coalesced, so a burst of
 * sales is one message).
 */
export function serveShellAgent(options: AgentServiceOptions): {
  handle(message: unknown): void;
  close(): void;
} {
  const { agent, post } = options;
  let stopping = false;
  let pushTimer: NodeJS.Timeout | undefined;
  let pushing = false;

  const pushSnapshot = () => {
    pushTimer = undefined;
    if (stopping || pushing) return;
    pushing = true;
    agent
      .windowSnapshot()
      .then((snapshot) => !stopping && post({ type: 'snapshot', snapshot }))
      .catch((error: unknown) => options.onError('snapshot for the window failed', error))
      .finally(() => (pushing = false));
  };
  const unsubscribe = agent.onChange(() => {
    pushTimer ??= setTimeout(pushSnapshot, SNAPSHOT_PUSH_INTERVAL_MS);
  });

  const stop = async (): Promise<StoppedAgent> => {
    stopping = true;
    unsubscribe();
    if (pushTimer) clearTimeout(pushTimer);
    // Read before stopping, while the outbox is open; the commits in flight become unsent sales once
    // they are durable, so they count as unsent: an install never takes them for delivered.
    let before: StoppedAgent = { unsentCount: null, storageWritable: null };
    try {
      before = {
        unsentCount: agent.unsentCount() + agent.commitsInFlight(),
        storageWritable: agent.storageWritable(),
      };
    } catch (error) {
      options.onError('could not read the outbox before stopping', error);
    }
    await agent.stop();
    return before;
  };

  const answer = async (request: AgentRequest): Promise<AnswerOf<AgentRequest['method']>> => {
    switch (request.method) {
      case 'readiness':
        return {
          commitsInFlight: agent.commitsInFlight(),
          storageWritable: agent.storageWritable(),
          unsentCount: agent.unsentCount(),
        };
      case 'snapshot':
        return agent.windowSnapshot();
      case 'retry':
        return agent.retryDeadLetter(request.eventId);
      case 'discard':
        return agent.discardDeadLetter(request.eventId, request.note);
      case 'stop':
        return stop();
    }
  };

  return {
    handle(message) {
      const request = agentRequestSchema.safeParse(message);
      if (!request.success) {
        options.onError('unreadable request from the main process', request.error);
        return;
      }
      const { id, method } = request.data;
      answer(request.data).then(
        (value) => {
          post({ type: 'answer', id, result: { ok: true, value } });
          if (method === 'stop') options.onStopped();
        },
        (error: unknown) => {
          post({ type: 'answer', id, result: { ok: false, message: errorMessage(error) } });
          if (method === 'stop') options.onStopped();
        },
      );
    },
    close() {
      unsubscribe();
      if (pushTimer) clearTimeout(pushTimer);
    },
  };
}
