import type { DeadLetterActionOutcome, WindowLinkState, WindowSnapshot } from '../contracts/window-api.js';
import { backoffDelay } from '../lib/backoff.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import {
  agentReportSchema,
  ANSWER_SCHEMAS,
  type AgentMethod,
  type AgentRequest,
  type AnswerOf,
} from './agent-link-messages.js';
import type { AgentReadiness, HostedAgent, StoppedAgent } from './shell-agent.js';

/** The part of Electron's UtilityProcess the host uses; tests pass a fake. */
export interface AgentProcess {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export interface AgentHostOptions {
  fork: () => AgentProcess;
  logger: Logger;
  /** Reads answer within this, or the agent counts as not answering. */
  requestTimeoutMs?: number;
  /** A stop finishes the commits in flight and closes the outbox; past this the process is killed. */
  stopTimeoutMs?: number;
  restart?: { initialMs: number; maxMs: number };
  random?: () => number;
}

type Request = AgentRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending {
  method: AgentMethod;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const STOPPED_UNKNOWN: StoppedAgent = { unsentCount: null, storageWritable: null };

/**
 * Hosts the store agent in an Electron utility process and speaks to it for the main process. If the agent
 * process dies, the window hears "link lost" at once and the agent is started again with backoff; the tills
 * are refused only for the seconds the restart takes (they retry), and nothing committed is lost.
 */
export class UtilityAgentHost implements HostedAgent {
  private child: AgentProcess | undefined;
  private running = false;
  private stopping = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly snapshotListeners = new Set<(snapshot: WindowSnapshot) => void>();
  private readonly linkListeners = new Set<(state: WindowLinkState) => void>();
  private restartAttempt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly requestTimeoutMs: number;
  private readonly stopTimeoutMs: number;

  constructor(private readonly options: AgentHostOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 60_000;
  }

  start(): Promise<void> {
    this.stopping = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.options.fork();
    this.child = child;
    let onExit!: () => void;
    this.exited = new Promise<void>((resolve) => (onExit = resolve));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      child.on('message', (raw) => {
        const report = agentReportSchema.safeParse(raw);
        if (!report.success) {
          this.options.logger.warn('unreadable message from the agent process', {
            error: report.error.message,
          });
          return;
        }
        const message = report.data;
        switch (message.type) {
          case 'started':
            this.running = true;
            this.restartAttempt = 0;
            this.emitLink('open');
            settled = true;
            resolve();
            break;
          case 'start-failed':
            this.options.logger.error('agent did not start', { error: message.message });
            if (!settled) {
              settled = true;
              reject(new Error(message.message));
            }
            break;
          case 'snapshot':
            for (const listener of this.snapshotListeners) listener(message.snapshot);
            break;
          case 'answer':
            this.settle(message.id, message.result);
            break;
        }
      });
      child.on('exit', (code) => {
        const wasRunning = this.running;
        this.running = false;
        if (this.child === child) this.child = undefined;
        onExit();
        for (const [id, pending] of this.pending) {
          clearTimeout(pending.timer);
          pending.reject(new Error(`the agent process exited (code ${code})`));
          this.pending.delete(id);
        }
        if (!settled) {
          settled = true;
          reject(new Error(`the agent process exited during start (code ${code})`));
        }
        if (this.stopping) return;
        this.emitLink('lost');
        if (wasRunning) this.options.logger.error('agent process exited unexpectedly; restarting', { code });
        this.scheduleRestart();
      });
    });
  }

  async readiness(): Promise<AgentReadiness | null> {
    if (!this.running) return null;
    try {
      return await this.request({ method: 'readiness' });
    } catch (error) {
      this.options.logger.warn('agent did not say whether it is busy', { error: errorMessage(error) });
      return null;
    }
  }

  snapshot(): Promise<WindowSnapshot> {
    return this.request({ method: 'snapshot' });
  }

  onSnapshot(listener: (snapshot: WindowSnapshot) => void): () => void {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  }

  onLink(listener: (state: WindowLinkState) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  async retryDeadLetter(eventId: string): Promise<DeadLetterActionOutcome> {
    return this.act(() => this.request({ method: 'retry', eventId }));
  }

  async discardDeadLetter(eventId: string, note: string): Promise<DeadLetterActionOutcome> {
    return this.act(() => this.request({ method: 'discard', eventId, note }));
  }

  async stop(): Promise<StoppedAgent> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child || !this.running) {
      child?.kill();
      await this.exited;
      return STOPPED_UNKNOWN;
    }
    let stopped = STOPPED_UNKNOWN;
    try {
      stopped = await this.request({ method: 'stop' }, this.stopTimeoutMs);
    } catch (error) {
      this.options.logger.error('agent did not stop in time; ending its process', {
        error: errorMessage(error),
      });
      child.kill();
    }
    await this.exited;
    return stopped;
  }

  private async act(run: () => Promise<DeadLetterActionOutcome>): Promise<DeadLetterActionOutcome> {
    try {
      return await run();
    } catch (error) {
      return { ok: false, refusal: 'unreachable', message: errorMessage(error) };
    }
  }

  private request<M extends AgentMethod>(
    request: Extract<Request, { method: M }>,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<AnswerOf<M>> {
    const child = this.child;
    if (!child || !this.running) return Promise.reject(new Error('the agent is not running'));
    const id = this.nextId++;
    return new Promise<AnswerOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the agent did not answer ${request.method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method: request.method,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
      });
      child.postMessage({ ...request, id });
    });
  }

  private settle(id: number, result: { ok: true; value: unknown } | { ok: false; message: string }): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (!result.ok) return pending.reject(new Error(result.message));
    const value = ANSWER_SCHEMAS[pending.method].safeParse(result.value);
    if (value.success) pending.resolve(value.data);
    else
      pending.reject(
        new Error(`the agent's answer to ${pending.method} is not valid: ${value.error.message}`),
      );
  }

  private emitLink(state: WindowLinkState): void {
    for (const listener of this.linkListeners) listener(state);
  }

  private scheduleRestart(): void {
    const delay = backoffDelay(
      this.restartAttempt++,
      this.options.restart ?? { initialMs: 1_000, maxMs: 60_000 },
      this.options.random,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start().catch((error: unknown) =>
        this.options.logger.error('agent restart failed; will try again', { error: errorMessage(error) }),
      );
    }, delay);
  }
}
