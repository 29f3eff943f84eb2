import type { AgentStatus, DeadLetter, Problem } from '../contracts/status.js';
import type { OutboxStats } from '../sync/index.js';

export interface ConnectionView {
  state: AgentStatus['connection']['state'];
  since: number | null;
  lastError: string | null;
}

export interface StatusInputs {
  storeId: string;
  version: string;
  now: number;
  outbox: OutboxStats;
  captureError: string | null;
  connection: ConnectionView;
  deadLetters: DeadLetter[];
  activePromotions: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Broker answers that mean the store's credentials or permissions are wrong, not that the link is down. */
const REFUSAL = /not authori[sz]ed|bad user ?name or password|certificate/i;

/** Unsent sales older than this while the link is up mean sync is stuck, not just busy. */
const STUCK_AFTER_SECONDS = 15 * 60;

/**
 * Builds the status report and the plain-words problem list the store manager sees. Pure: the
 * same inputs always give the same report, so every message is unit-tested.
 */
export function buildStatusReport(input: StatusInputs): AgentStatus {
  const { outbox, now } = input;
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
  const refused = input.connection.lastError !== null && REFUSAL.test(input.connection.lastError);
  if (refused) {
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
        `Not connected to head office${input.connection.since ? ` since ${iso(input.connection.since)}` : ''}. ` +
        'Sales are saved on this PC and will be sent automatically.',
      action:
        'Nothing to do; keep trading. If this lasts more than a few hours, check the internet connection or call support.',
    });
  }
  if (input.connection.state === 'online' && oldestAge !== null && oldestAge > STUCK_AFTER_SECONDS) {
    problems.push({
      code: 'sync-stalled',
      severity: 'warning',
      message: `Connected, but the oldest unsent sale is ${Math.round(oldestAge / 60)} minutes old.`,
      action: 'Call support and mention "sync stalled".',
    });
  }
  if (outbox.deadLetters > 0) {
    problems.push({
      code: 'dead-letters',
      severity: 'warning',
      message: `${outbox.deadLetters} transaction(s) were refused by head office. They are kept on this PC and the rest keep flowing.`,
      action: 'Call support; they can retry or discard them (outpost deadletters).',
    });
  }
  return {
    storeId: input.storeId,
    version: input.version,
    now: new Date(now).toISOString(),
    epoch: outbox.epoch,
    capture: input.captureError ? { state: 'unavailable', message: input.captureError } : { state: 'ok' },
    connection: {
      state: input.connection.state,
      since: iso(input.connection.since),
      lastError: input.connection.lastError,
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
    promotions: { active: input.activePromotions },
    problems,
  };
}
