import { randomUUID } from 'node:crypto';
import {
  SYNC_PROTOCOL_VERSION,
  topics,
  type ResendReport,
  type StoreCommand,
  type StoreStatusMessage,
} from '../contracts/sync-messages.js';
import type { Clock } from '../lib/clock.js';
import { ConflictError, errorMessage, NotFoundError, ValidationError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import {
  COMMAND_EXPIRES_AFTER_MS,
  deadLetterState,
  settlementFromResendReport,
  settlementsFromStatus,
} from './command-rules.js';
import type { StoreCommandRow } from './command-store.js';
import type { PromotionPublisher } from './hub-promotions.js';
import type { HubStore } from './hub-store.js';
import { PeriodicSweep } from './periodic-sweep.js';

export interface HubCommandsOptions {
  hubId: string;
  store: HubStore;
  publisher: PromotionPublisher;
  topicPrefix: string;
  logger: Logger;
  clock: Clock;
  /** A pending command is sent again after this long while its store is online (it may have been lost). */
  resendAfterMs?: number;
  sweepEveryMs?: number;
  /** How long the operator's request waits for the broker to take the command before answering anyway. */
  publishWaitMs?: number;
  /** Told whenever a command is recorded or settled (the console's live feed). */
  onChange?: () => void;
}

const SWEEP_LIMIT = 200;

/**
 * Operator commands to stores (docs/protocol.md, "Operator commands"): a resync from a seq, and retry or
 * discard of a dead letter. Each is recorded in the hub database before it is published on the store's
 * commands topic, and shown pending until the store answers: its status lists the requestIds of the
 * dead-letter commands it handled, its resend report names the resync's. Stores connect with a clean
 * session, so a command published while a store is offline never reaches it: pending commands are sent
 * again when the store comes back online and, while it stays online, every `resendAfterMs` (a store
 * handles a requestId once). One hub sends each time: the database's compare-and-set decides which.
 */
export class HubCommands {
  private readonly topic: ReturnType<typeof topics>;
  private readonly sweeper: PeriodicSweep;

  constructor(private readonly options: HubCommandsOptions) {
    this.topic = topics(options.topicPrefix);
    this.sweeper = new PeriodicSweep(
      () => this.sweepOnce(),
      (error) =>
        options.logger.warn('could not look for unanswered operator commands; trying again later', {
          hubId: options.hubId,
          error: errorMessage(error),
        }),
    );
  }

  start(): void {
    this.sweeper.start(this.options.sweepEveryMs ?? 15_000);
  }

  stop(): Promise<void> {
    return this.sweeper.stop();
  }

  /** Asks the store to publish `epoch` (its current one by default) again from `fromSeq`. */
  async requestResync(
    storeId: string,
    request: { epoch?: string | undefined; fromSeq: number; note: string },
  ): Promise<StoreCommandRow> {
    const [summary] = await this.options.store.listStores(storeId);
    if (!summary) throw unknownStore(storeId);
    const known = new Set([
      ...summary.epochs.map((e) => e.epoch),
      ...(summary.acked ?? []).map((a) => a.epoch),
      ...(summary.currentEpoch ? [summary.currentEpoch] : []),
    ]);
    const epoch = request.epoch ?? summary.currentEpoch;
    if (!epoch)
      throw new ValidationError(`store ${storeId} has reported no epoch yet: name the epoch to resync`, [
        { path: ['epoch'], message: 'required: the store has reported no epoch yet' },
      ]);
    if (!known.has(epoch))
      throw new ValidationError(`store ${storeId} has no epoch ${epoch} at head office`, [
        { path: ['epoch'], message: `not an epoch of store ${storeId}: ${[...known].join(', ')}` },
      ]);
    const requestId = randomUUID();
    return this.issue(
      storeId,
      {
        v: SYNC_PROTOCOL_VERSION,
        kind: 'resend',
        requestId,
        epoch,
        fromSeq: request.fromSeq,
        reason: `an operator asked for a resync: ${request.note}`,
      },
      { eventId: null, epoch, fromSeq: request.fromSeq, note: request.note },
    );
  }

  /** Asks the store to send a dead letter again (as its manager's Retry does). */
  retryDeadLetter(storeId: string, eventId: string, note: string | undefined): Promise<StoreCommandRow> {
    return this.onDeadLetter(storeId, eventId, 'retry-dead-letter', note);
  }

  /** Asks the store to discard a dead letter, keeping it on record with the note. */
  discardDeadLetter(storeId: string, eventId: string, note: string): Promise<StoreCommandRow> {
    return this.onDeadLetter(storeId, eventId, 'discard-dead-letter', note);
  }

  /**
   * A store's status: the answers it lists settle pending commands. Never rejects (ingest's hook): a
   * failure is logged, and the store's next status lists the answers again.
   */
  async onStatus(storeId: string, status: StoreStatusMessage): Promise<void> {
    if (!status.commands || status.commands.length === 0) return;
    const { store, clock } = this.options;
    try {
      const pending = await store.commands.pending(storeId);
      if (pending.length === 0) return;
      await this.settle(storeId, settlementsFromStatus(pending, status.commands, clock.now()));
    } catch (error) {
      this.options.logger.warn(
        "could not record a store's answers to operator commands; its next status lists them again",
        {
          storeId,
          error: errorMessage(error),
        },
      );
    }
  }

  /** A store's resend report: settles the operator's resync it answers, if it is one. Never rejects. */
  async onResendReport(storeId: string, report: ResendReport): Promise<void> {
    try {
      const command = await this.options.store.commands.get(report.resend.requestId);
      if (command?.storeId !== storeId) return;
      const settlement = settlementFromResendReport(command, report, this.options.clock.now());
      if (settlement) await this.settle(storeId, [settlement]);
    } catch (error) {
      this.options.logger.warn("could not record a store's answer to an operator's resync", {
        storeId,
        epoch: report.epoch,
        requestId: report.resend.requestId,
        error: errorMessage(error),
      });
    }
  }

  /** The store came back online (this hub's write turned it so): its pending commands go out again. Never rejects. */
  async onStoreOnline(storeId: string): Promise<void> {
    try {
      for (const command of await this.options.store.commands.pending(storeId)) {
        if (this.sweeper.stopped) return;
        await this.send(command, 'store online');
      }
    } catch (error) {
      this.options.logger.warn('could not send a store its pending operator commands; the sweep sends them', {
        storeId,
        error: errorMessage(error),
      });
    }
  }

  /** Expires forgotten commands, and sends again those pending too long while their store is online. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private async sweepOnce(): Promise<void> {
    const { store, clock, logger } = this.options;
    const expired = await store.commands.expire(clock.now() - COMMAND_EXPIRES_AFTER_MS);
    if (expired > 0) {
      logger.warn('operator commands expired unanswered', { hubId: this.options.hubId, expired });
      this.options.onChange?.();
    }
    const before = clock.now() - (this.options.resendAfterMs ?? 60_000);
    for (const command of await store.commands.due(before, SWEEP_LIMIT)) {
      if (this.sweeper.stopped) break;
      await this.send(command, 'unanswered');
    }
  }

  private async onDeadLetter(
    storeId: string,
    eventId: string,
    kind: 'retry-dead-letter' | 'discard-dead-letter',
    note: string | undefined,
  ): Promise<StoreCommandRow> {
    const { store } = this.options;
    if (!(await store.commands.hasDeadLetter(storeId, eventId)))
      throw new NotFoundError(`store ${storeId} has no event ${eventId} refused by head office`);
    const letters = (await store.commands.deadLetters(storeId, 1000)).filter((l) => l.eventId === eventId);
    const latestRefusal = letters.reduce((a, l) => (l.receivedAt > a.receivedAt ? l : a), letters[0]!);
    const latestCommand = (await store.commands.forStore(storeId, 1000)).find((c) => c.eventId === eventId);
    const state = deadLetterState(latestRefusal, latestCommand);
    if (state !== 'open')
      throw new ConflictError(
        `event ${eventId} of store ${storeId} is ${state.replace('-', ' ')}: ` +
          (state === 'stored'
            ? 'head office stores it now'
            : state.endsWith('pending')
              ? 'wait for the store to answer the command already sent'
              : 'nothing is left to do'),
      );
    const requestId = randomUUID();
    const command: StoreCommand =
      kind === 'retry-dead-letter'
        ? {
            v: SYNC_PROTOCOL_VERSION,
            kind,
            requestId,
            eventId,
            ...(note === undefined ? {} : { note: `an operator at head office: ${note}` }),
          }
        : { v: SYNC_PROTOCOL_VERSION, kind, requestId, eventId, note: `an operator at head office: ${note}` };
    return this.issue(storeId, command, {
      eventId,
      epoch: latestRefusal.epoch,
      fromSeq: null,
      note: note ?? null,
    });
  }

  /** Records the command, then publishes it (waiting a bounded time for the broker): pending either way. */
  private async issue(
    storeId: string,
    command: StoreCommand,
    fields: { eventId: string | null; epoch: string | null; fromSeq: number | null; note: string | null },
  ): Promise<StoreCommandRow> {
    const { store, clock, logger, hubId } = this.options;
    await store.commands.record({
      requestId: command.requestId,
      storeId,
      kind: command.kind,
      commandText: JSON.stringify(command),
      ...fields,
      requestedBy: `operator via ${hubId}`,
      requestedAt: clock.now(),
    });
    logger.info('an operator sent a command to a store', {
      storeId,
      kind: command.kind,
      requestId: command.requestId,
      ...(fields.eventId ? { eventId: fields.eventId } : {}),
      ...(fields.epoch ? { epoch: fields.epoch } : {}),
      ...(fields.fromSeq ? { seq: fields.fromSeq } : {}),
      hubId,
    });
    this.options.onChange?.();
    const recorded = (await store.commands.get(command.requestId))!;
    const waitMs = this.options.publishWaitMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.send(recorded, 'requested'),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
    return (await store.commands.get(command.requestId)) ?? recorded;
  }

  /** Publishes a pending command, once across the hubs (the claim), giving the claim back if the broker did not take it. */
  private async send(command: StoreCommandRow, why: string): Promise<void> {
    const { store, clock, logger, publisher, hubId } = this.options;
    const fields = {
      storeId: command.storeId,
      kind: command.kind,
      requestId: command.requestId,
      ...(command.eventId ? { eventId: command.eventId } : {}),
      why,
      hubId,
    };
    const claimedAt = clock.now();
    try {
      if (!(await store.commands.claimSend(command.requestId, command.lastSentAt, claimedAt))) return;
    } catch (error) {
      logger.warn('could not claim an operator command to send; it is sent later', {
        ...fields,
        error: errorMessage(error),
      });
      return;
    }
    try {
      await publisher.publish(this.topic.commands(command.storeId), command.commandText, { retain: false });
      logger.info('operator command published to the store', { ...fields, sends: command.sends + 1 });
      this.options.onChange?.();
    } catch (error) {
      logger.warn('operator command not published; it is sent again later', {
        ...fields,
        error: errorMessage(error),
      });
      await store.commands
        .releaseSend(command.requestId, claimedAt, command.lastSentAt)
        .catch(() => undefined);
    }
  }

  private async settle(
    storeId: string,
    settlements: Parameters<HubStore['commands']['settle']>[1],
  ): Promise<void> {
    if (settlements.length === 0) return;
    const settled = await this.options.store.commands.settle(storeId, settlements);
    for (const s of settlements.filter((s) => settled.includes(s.requestId)))
      this.options.logger.info('a store answered an operator command', {
        storeId,
        requestId: s.requestId,
        state: s.state,
        answer: s.answer,
        hubId: this.options.hubId,
      });
    if (settled.length > 0) this.options.onChange?.();
  }
}

const unknownStore = (storeId: string) =>
  new NotFoundError(`store ${storeId} is not known to this hub (it never sent a status or an event)`);
