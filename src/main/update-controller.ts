import type { UpdateState } from '../contracts/window-api.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { UpdatesConfig } from './desktop-config.js';
import { decideInstall, type InstallDecision, type InstallTrigger } from './install-decision.js';
import type { QuitReason } from './quit-flow.js';
import type { AgentReadiness, HostedAgent, StoppedAgent } from './shell-agent.js';
import {
  COMMIT_RETRY_MS,
  FIRST_CHECK_DELAY_MS,
  inQuietWindow,
  localMinutesOfDay,
  nextCheckDelayMs,
  QUIET_WINDOW_TICK_MS,
} from './update-schedule.js';

/** What the updater reports, in the shell's terms (main.ts adapts electron-updater's events). */
export type UpdaterEvent =
  | { type: 'checking' }
  | { type: 'available'; version: string }
  | { type: 'not-available' }
  | { type: 'progress'; percent: number }
  | { type: 'downloaded'; version: string }
  | { type: 'error'; message: string };

/** The part of electron-updater the shell uses, behind a port so the rules are tested without Electron. */
export interface UpdaterPort {
  /** Generic feed and channel; downloads in the background, never installs by itself, never downgrades. */
  configure(feed: { url: string; channel: string }): void;
  check(): Promise<unknown>;
  /** Hands the exit to the installer (silent, and the app starts again afterwards). */
  quitAndInstall(): void;
  onEvent(listener: (event: UpdaterEvent) => void): void;
}

export interface UpdateControllerDeps {
  updater: UpdaterPort;
  config: UpdatesConfig & { feedUrl: string };
  /** electron-updater's channel for the configured one (latest / pilot). */
  updaterChannel: string;
  agent: Pick<HostedAgent, 'readiness'>;
  /** Stops the app for an install (the quit flow), which asks `installerFor` once the agent is down. */
  quitForUpdate: () => Promise<unknown>;
  onState: (state: UpdateState) => void;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
}

/**
 * Self-update: checks the generic feed at start and every few hours, downloads in the background, and
 * installs when Outpost quits or in the quiet hour, each time only if `decideInstall` allows. An update
 * error is shown in the window and logged; it never stops the app.
 */
export class UpdateController {
  private state: UpdateState;
  private readyVersion: string | null = null;
  private pending: { trigger: InstallTrigger; force: boolean } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => Date;
  private readonly random: () => number;

  constructor(private readonly deps: UpdateControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.random = deps.random ?? Math.random;
    this.state = { state: 'idle', channel: deps.config.channel, checkedAt: null };
  }

  get current(): UpdateState {
    return this.state;
  }

  /** The downloaded version waiting to install, or null. */
  get ready(): string | null {
    return this.readyVersion;
  }

  start(): void {
    const { updater, config } = this.deps;
    updater.onEvent((event) => this.onUpdaterEvent(event));
    updater.configure({ url: config.feedUrl, channel: this.deps.updaterChannel });
    const scheduleCheck = (delay: number) =>
      this.later(delay, () => {
        void this.check();
        scheduleCheck(nextCheckDelayMs(config.checkEveryHours, this.random()));
      });
    scheduleCheck(FIRST_CHECK_DELAY_MS);
    const quietTick = () =>
      this.later(QUIET_WINDOW_TICK_MS, () => {
        if (
          this.readyVersion &&
          inQuietWindow(localMinutesOfDay(this.now()), config.quietHour, config.quietWindowMinutes)
        )
          void this.tryInstall('quiet-hour', config.installWithUnsentSales);
        quietTick();
      });
    quietTick();
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Looks for an update now (also the tray's "Check for updates"). Never throws. */
  async check(): Promise<void> {
    if (this.state.state === 'downloading') return;
    try {
      await this.deps.updater.check();
    } catch (error) {
      this.onUpdaterEvent({ type: 'error', message: errorMessage(error) });
    }
  }

  /**
   * Installs the ready update if the rules allow it now: stops the app through the quit flow, which hands
   * the exit to the installer. `force` lets it go ahead with sales unsent (never during a commit).
   */
  async tryInstall(
    trigger: Exclude<InstallTrigger, 'quit'>,
    force: boolean,
    attempt = 0,
  ): Promise<InstallDecision> {
    const readiness = await this.deps.agent.readiness();
    const decision = decideInstall({ trigger, updateReady: this.readyVersion !== null, force, readiness });
    if (!decision.install) {
      if (decision.reason !== 'no-update' && this.readyVersion)
        this.setState({
          state: 'ready',
          channel: this.deps.config.channel,
          version: this.readyVersion,
          waitingFor: decision.reason,
        });
      this.deps.logger.info('update install deferred', { trigger, reason: decision.reason });
      // A commit ends in milliseconds; ask again shortly, a bounded number of times.
      if (decision.retry === 'soon' && attempt < 5)
        this.later(COMMIT_RETRY_MS, () => void this.tryInstall(trigger, force, attempt + 1));
      return decision;
    }
    this.pending = { trigger, force };
    await this.deps.quitForUpdate();
    return decision;
  }

  /**
   * Asked by the quit flow once the agent has stopped: the installer to hand the exit to, or null. For a
   * system shutdown never (an installer started then may be killed halfway); otherwise the same rules,
   * on the counts the agent gave as it stopped.
   */
  installerFor(stopped: StoppedAgent, reason: QuitReason): (() => void) | null {
    const pending = this.pending;
    this.pending = null;
    if (reason === 'system' || this.readyVersion === null) return null;
    const readiness: AgentReadiness | null =
      stopped.unsentCount === null
        ? null
        : {
            commitsInFlight: 0,
            storageWritable: stopped.storageWritable ?? false,
            unsentCount: stopped.unsentCount,
          };
    const trigger: InstallTrigger = reason === 'update' && pending ? pending.trigger : 'quit';
    const force = reason === 'update' && pending ? pending.force : this.deps.config.installWithUnsentSales;
    const decision = decideInstall({ trigger, updateReady: true, force, readiness });
    if (!decision.install) {
      this.deps.logger.info('update not installed on quit', { reason: decision.reason });
      return null;
    }
    return () => this.deps.updater.quitAndInstall();
  }

  private onUpdaterEvent(event: UpdaterEvent): void {
    const channel = this.deps.config.channel;
    const at = this.now().toISOString();
    switch (event.type) {
      case 'checking':
        return this.setState({ state: 'checking', channel });
      case 'not-available':
        return this.setState(
          this.readyVersion
            ? { state: 'ready', channel, version: this.readyVersion, waitingFor: null }
            : { state: 'up-to-date', channel, checkedAt: at },
        );
      case 'available':
        this.deps.logger.info('update available; downloading', { version: event.version });
        return this.setState({ state: 'downloading', channel, version: event.version, percent: 0 });
      case 'progress':
        if (this.state.state !== 'downloading') return;
        return this.setState({ ...this.state, percent: Math.max(0, Math.min(100, event.percent)) });
      case 'downloaded':
        this.readyVersion = event.version;
        this.deps.logger.info('update downloaded', { version: event.version });
        return this.setState({ state: 'ready', channel, version: event.version, waitingFor: null });
      case 'error':
        this.deps.logger.warn('update failed; the app keeps running', { error: event.message });
        return this.setState({ state: 'error', channel, message: event.message, at });
    }
  }

  private setState(state: UpdateState): void {
    this.state = state;
    this.deps.onState(state);
  }

  private later(delay: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delay);
    timer.unref?.();
    this.timers.add(timer);
  }
}
