import { app } from 'electron';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { HostedAgent, StoppedAgent } from './shell-agent.js';

/** Who asks the app to end: the manager (tray Quit), the system (shutdown, logoff), or an update install. */
export type QuitReason = 'user' | 'system' | 'update';

export interface QuitFlowDeps {
  agent: Pick<HostedAgent, 'readiness' | 'stop' | 'start'>;
  /** Asks the manager whether to quit with sales unsent; true: quit anyway. */
  confirmUnsent(unsent: number): Promise<boolean>;
  /** The update installer to hand the exit to, if the install rules allow it now the agent has stopped. */
  installerFor(stopped: StoppedAgent, reason: QuitReason): (() => void) | null;
  exit(code: number): void;
  logger: Logger;
}

/**
 * How the app ends. The agent always stops first: it stops taking sales, finishes the commits in flight
 * (a till answered 201 has its sale on disk) and closes the outbox; only then does the process exit, or
 * hand over to the update installer. The manager is warned when sales have not reached head office.
 */
export class QuitFlow {
  private running: Promise<'exited' | 'resumed'> | null = null;
  private quittingNow = false;
  private exitingNow = false;

  constructor(private readonly deps: QuitFlowDeps) {}

  /** True from the moment the app is going down: closing the window then really closes it. */
  get quitting(): boolean {
    return this.quittingNow;
  }

  /** True once the exit is handed to Electron (or the installer): quit events then pass through. */
  get exiting(): boolean {
    return this.exitingNow;
  }

  /** The tray's Quit: asks first when sales are unsent. */
  async requestQuit(): Promise<'quitting' | 'kept'> {
    if (this.running) return 'quitting';
    const readiness = await this.deps.agent.readiness();
    if (readiness && readiness.unsentCount > 0 && !(await this.deps.confirmUnsent(readiness.unsentCount))) {
      this.deps.logger.info('quit cancelled: sales unsent', { unsent: readiness.unsentCount });
      return 'kept';
    }
    void this.quit('user');
    return 'quitting';
  }

  /** Ends the app in order. For an update whose rules no longer hold once stopped, the agent starts again instead. */
  quit(reason: QuitReason): Promise<'exited' | 'resumed'> {
    this.running ??= this.run(reason);
    return this.running;
  }

  private async run(reason: QuitReason): Promise<'exited' | 'resumed'> {
    this.quittingNow = true;
    const { logger } = this.deps;
    logger.info('stopping the agent', { reason });
    let stopped: StoppedAgent = { unsentCount: null, storageWritable: null };
    try {
      stopped = await this.deps.agent.stop();
    } catch (error) {
      logger.error('agent stop failed', { error: errorMessage(error) });
    }
    const installer = this.deps.installerFor(stopped, reason);
    if (installer) {
      this.exitingNow = true;
      try {
        logger.info('installing the update');
        installer();
        return 'exited';
      } catch (error) {
        logger.error('update install failed to start', { error: errorMessage(error) });
        this.exitingNow = false;
      }
    }
    if (reason === 'update') {
      // Stopped for an install that cannot go ahead after all (a sale came in while stopping): keep trading.
      logger.info('update not installed; agent starting again', { unsent: stopped.unsentCount });
      this.quittingNow = false;
      this.running = null;
      await this.deps.agent.start();
      return 'resumed';
    }
    this.exitingNow = true;
    this.deps.exit(0);
    return 'exited';
  }
}

/**
 * Every quit Electron hears (system shutdown, logoff, a second app.quit()) goes through the flow, so the
 * agent always stops in order before the process ends; the exit the flow itself makes passes through.
 */
export function routeQuitThroughFlow(flow: QuitFlow): void {
  app.on('before-quit', (event) => {
    if (flow.exiting) return;
    event.preventDefault();
    void flow.quit('system');
  });
}
