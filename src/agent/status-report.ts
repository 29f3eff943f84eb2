import type { AgentStatus, DayStatus, DeadLetter, Problem, PromotionsStatus } from '../contracts/status.js';
import type { LogFileHealth } from '../lib/logger.js';
import type { DeadLetterRow, OutboxStats } from '../sync/index.js';
import { conciseError, diagnoseNeverConnected, type BrokerSettings } from './broker-diagnosis.js';
import { dayProblems } from './day-status.js';
import { storeTimeWords, type StoreTimeWords } from './store-time-words.js';

export interface ConnectionView {
  state: AgentStatus['connection']['state'];
  since: number | null;
  lastError: string | null;
  lastErrorCode: string | null;
  everConnected: boolean;
}

export interface StatusInputs {
  storeId: string;
  version: string;
  now: number;
  outbox: OutboxStats;
  captureError: string | null;
  connection: ConnectionView;
  /** The broker settings as configured (which ones are set), to name the one to check; null without mqtt. */
  broker: BrokerSettings | null;
  /** The daily log files; undefined when the agent writes none. */
  logging: LogFileHealth | undefined;
  deadLetters: DeadLetter[];
  /** Promotions in force, where the full promotions part is not given. */
  activePromotions?: number;
  /** The store's promotions (catalogue-service.ts). */
  promotions?: PromotionsStatus;
  /** Whether the store receives promotions at all (it has an MQTT link). */
  promotionsExpected?: boolean;
  /** The tills' business days and head office's verdicts (day-status.ts). */
  days?: DayStatus[];
  /** The store's IANA time zone: problems tell times on the store's clock (UTC when not given). */
  timeZone?: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A dead letter as the status shows it. */
export function deadLetterView(row: DeadLetterRow): DeadLetter {
  return {
    epoch: row.epoch,
    seq: row.seq,
    eventId: row.eventId,
    terminalId: row.terminalId,
    transactionId: row.transactionId,
    reason: row.reason,
    state: row.state,
    capturedAt: new Date(row.capturedAt).toISOString(),
  };
}

/** Broker answers that mean the store's credentials or permissions are wrong, not that the link is down. */
const REFUSAL = /not authori[sz]ed|bad user ?name or password|certificate/i;

/** Unsent sales older than this while the link is up mean sync is stuck, not just busy. */
const STUCK_AFTER_SECONDS = 15 * 60;

/** A refused promotion stays among the problems this long, unless a version of it was applied since. */
const REFUSAL_SHOWN_FOR_MS = 24 * 60 * 60 * 1000;

/** What the manager should know about promotions: a recent refusal, or a store that trusts no key. */
function promotionProblems(
  promotions: PromotionsStatus,
  expected: boolean,
  now: number,
  when: StoreTimeWords,
): Problem[] {
  const problems: Problem[] = [];
  const last = promotions.lastRefusal;
  if (last && !last.resolved && now - Date.parse(last.at) < REFUSAL_SHOWN_FOR_MS) {
    const which =
      last.promotionId === null
        ? 'A promotion'
        : `Promotion ${last.promotionId}${last.version === null ? '' : ` (version ${last.version})`}`;
    problems.push({
      code: 'promotion-refused',
      severity: last.severity ?? 'warning',
      message: `${which} from head office was refused ${when.at(Date.parse(last.at), now)} (${last.reason}): ${last.message} The promotions in force are unchanged.`,
      action: last.advice,
    });
  }
  if (expected && promotions.trustedKeys === 0) {
    problems.push({
      code: 'promotions-no-trusted-key',
      severity: 'info',
      message:
        'This store trusts no promotion signing key: every promotion head office sends is refused, and tills price without them.',
      action:
        "If head office runs promotions, call support: head office's public key goes in promotions.trustedKeys in the agent's config.",
      params: {},
    });
  }
  return problems;
}

/**
 * Builds the status report and the plain-words problem list the store manager sees. Pure: the
 * same inputs always give the same report, so every message is unit-tested.
 */
export function buildStatusReport(input: StatusInputs): AgentStatus {
  const { outbox, now } = input;
  const when = storeTimeWords(input.timeZone ?? 'UTC');
  const oldestAge =
    outbox.unsent.oldestCapturedAt === null
      ? null
      : Math.max(0, Math.round((now - outbox.unsent.oldestCapturedAt) / 1000));
  const problems: Problem[] = [];
  if (input.captureError) {
    problems.push({
      code: 'capture-unavailable',
      severity: 'critical',
      message: `Tills cannot save sales right now: ${input.captureError}.`,
      action:
        'Free disk space on this PC or call support. Tills will keep retrying; nothing already saved is lost.',
    });
  }
  const logging = input.logging;
  if (logging?.state === 'failing') {
    const why =
      logging.reason === 'disk-full'
        ? 'disk full'
        : logging.reason === 'not-writable'
          ? 'the log folder is not writable'
          : 'disk error';
    problems.push({
      code: 'log-file-unwritable',
      severity: 'warning',
      message: `The log file cannot be written (${why}); sales are still being saved.`,
      action:
        logging.reason === 'not-writable'
          ? `Call support: the agent needs write access to ${logging.dir}. Logging resumes by itself once it has it.`
          : `Free disk space on this PC (the logs are in ${logging.dir}) or call support. Logging resumes by itself.`,
      params: { reason: logging.reason, dir: logging.dir },
    });
  }
  const { connection } = input;
  const neverConnected =
    input.broker !== null && !connection.everConnected && connection.lastError !== null
      ? diagnoseNeverConnected(input.broker, {
          message: connection.lastError,
          code: connection.lastErrorCode,
        })
      : undefined;
  const refused = connection.lastError !== null && REFUSAL.test(connection.lastError);
  if (neverConnected) {
    // Until the broker has accepted this store once, a failure is a set-up mistake far more often than an
    // outage: "keep trading, it will sort itself out" would leave a new store unsynced for good.
    const settings = neverConnected.settings.join(' and ');
    problems.push({
      code: 'broker-never-reached',
      severity: 'critical',
      message:
        `This store has never reached head office's broker: the broker address or certificates look wrong ` +
        `(${settings}): ${neverConnected.explanation}. Error: ${conciseError(connection.lastError!)}. ` +
        'Sales are saved on this PC and will be sent once it connects.',
      action: `Check ${settings} in the agent's config file (ask support for the right values), then restart the agent.`,
    });
  } else if (refused) {
    // Waiting will not fix this one: the broker rejects the store's credentials or permissions.
    problems.push({
      code: 'sync-refused',
      severity: 'critical',
      message: `Head office's broker refuses this store (${input.connection.lastError}). Sales are saved on this PC but cannot be sent.`,
      action: "Call support: this store's certificate, password or broker permissions need fixing.",
    });
  } else if (input.connection.state === 'offline' || input.connection.state === 'connecting') {
    problems.push({
      code: 'head-office-unreachable',
      severity: outbox.unsent.count > 0 && oldestAge !== null && oldestAge > 3600 ? 'warning' : 'info',
      message:
        `Not connected to head office${input.connection.since ? ` ${when.since(input.connection.since, now)}` : ''}. ` +
        'Sales are saved on this PC and will be sent automatically.',
      action:
        'Nothing to do; keep trading. If this lasts more than a few hours, check the internet connection or call support.',
      params: input.connection.since ? { since: iso(input.connection.since)! } : {},
    });
  }
  if (input.connection.state === 'online' && oldestAge !== null && oldestAge > STUCK_AFTER_SECONDS) {
    problems.push({
      code: 'sync-stalled',
      severity: 'warning',
      message: `Connected, but the oldest unsent sale is ${Math.round(oldestAge / 60)} minutes old.`,
      action: 'Call support and mention "sync stalled".',
      params: { minutes: Math.round(oldestAge / 60) },
    });
  }
  if (outbox.deadLetters > 0) {
    problems.push({
      code: 'dead-letters',
      severity: 'warning',
      message: `${outbox.deadLetters} transaction(s) were refused by head office. They are kept on this PC and the rest keep flowing.`,
      action: 'Call support; they can retry or discard them (outpost deadletters).',
      params: { count: outbox.deadLetters },
    });
  }
  if (input.promotions) {
    problems.push(...promotionProblems(input.promotions, input.promotionsExpected ?? false, now, when));
  }
  if (input.days) problems.push(...dayProblems(input.days));
  return {
    storeId: input.storeId,
    version: input.version,
    now: new Date(now).toISOString(),
    epoch: outbox.epoch,
    capture: input.captureError ? { state: 'unavailable', message: input.captureError } : { state: 'ok' },
    connection: {
      state: connection.state,
      since: iso(connection.since),
      lastError: connection.lastError,
      everConnected: connection.everConnected,
    },
    logging: !logging
      ? { state: 'off', dir: null, since: null, error: null, droppedLines: 0 }
      : logging.state === 'ok'
        ? { state: 'ok', dir: logging.dir, since: null, error: null, droppedLines: 0 }
        : {
            state: 'failing',
            dir: logging.dir,
            since: iso(logging.since),
            error: logging.error,
            droppedLines: logging.droppedLines,
          },
    backlog: {
      count: outbox.unsent.count,
      oldestCapturedAt: iso(outbox.unsent.oldestCapturedAt),
      oldestAgeSeconds: oldestAge,
      atRisk: outbox.unsent.atRisk,
    },
    lastSeq: outbox.lastSeq,
    lastAck: outbox.lastAck
      ? { seq: outbox.lastAck.seq, at: new Date(outbox.lastAck.at).toISOString() }
      : null,
    deadLetters: { count: outbox.deadLetters, items: input.deadLetters },
    promotions: input.promotions ?? { active: input.activePromotions ?? 0 },
    ...(input.days ? { days: input.days } : {}),
    problems,
  };
}
