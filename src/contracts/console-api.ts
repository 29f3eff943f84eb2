import { z } from 'zod';
import { epochSchema } from './sync-messages.js';
import { ACTION_HEADER, discardRequestSchema, WINDOW_CSP, WINDOW_CSP_HEADER } from './window-api.js';

/**
 * The operator's console at head office: a web page the hub serves at `/`, what it reads, the live
 * messages that keep it current, and the actions it takes. The hub's operator token is the credential:
 * the page exchanges it once for a session cookie (HttpOnly, SameSite=Strict) that its requests and its
 * EventSource carry, so the token is never kept by the page nor put in a URL. Every action also carries
 * `ACTION_HEADER` and is refused unless its Origin is the hub's own.
 */

/** Same policy and same anti-forgery header as the store's status window: the page's own files only. */
export const CONSOLE_CSP = WINDOW_CSP;
export const CONSOLE_CSP_HEADER = WINDOW_CSP_HEADER;
export { ACTION_HEADER };

/** The session cookie's name; its value is opaque to the page (which cannot read it anyway). */
export const CONSOLE_SESSION_COOKIE = 'outpost_console';

export const CONSOLE_ROUTES = {
  page: '/',
  /** POST with `Authorization: Bearer <operator token>` signs in; DELETE signs out. */
  session: '/v1/console/session',
  snapshot: '/v1/console/snapshot',
  events: '/v1/console/events',
  store: (storeId: string) => `/v1/console/stores/${encodeURIComponent(storeId)}`,
  resync: (storeId: string) => `/v1/console/stores/${encodeURIComponent(storeId)}/resync`,
  retry: (storeId: string, eventId: string) =>
    `/v1/console/stores/${encodeURIComponent(storeId)}/dead-letters/${encodeURIComponent(eventId)}/retry`,
  discard: (storeId: string, eventId: string) =>
    `/v1/console/stores/${encodeURIComponent(storeId)}/dead-letters/${encodeURIComponent(eventId)}/discard`,
  /** The hub's operator API, which the console reads with its session too. */
  transactions: (storeId: string, query: { epoch?: string; after?: number; limit?: number }) => {
    const params = new URLSearchParams();
    if (query.epoch) params.set('epoch', query.epoch);
    if (query.after) params.set('after', String(query.after));
    if (query.limit) params.set('limit', String(query.limit));
    const search = params.toString();
    return `/v1/stores/${encodeURIComponent(storeId)}/transactions${search ? `?${search}` : ''}`;
  },
  quarantine: (storeId: string) => `/v1/stores/${encodeURIComponent(storeId)}/quarantine`,
  chainDay: (day: string) => `/v1/days/${encodeURIComponent(day)}`,
  storeDay: (storeId: string, day: string) =>
    `/v1/stores/${encodeURIComponent(storeId)}/days/${encodeURIComponent(day)}`,
  promotions: '/v1/promotions',
  promotion: (promotionId: string) => `/v1/promotions/${encodeURIComponent(promotionId)}`,
} as const;

const iso = z.string();
const count = z.number().int().nonnegative();
const seqRange = z.object({ from: z.number().int(), to: z.number().int() });

/**
 * Why a store needs an operator's look, most serious first: the order the stores list is sorted by.
 * `quarantined`: another writer's events under held seqs (a cloned or restored store PC);
 * `unrecoverable`: seqs head office lost that the store no longer had; `gaps`: missing seq ranges still
 * expected; `offline-backlog`: offline with unsent events; `dead-letters`: events head office refused,
 * not since stored nor discarded; `day-mismatch` / `day-not-closed`: business days of the last week whose
 * Z-report disagrees / a till that sold and never closed; `lag`: seqs expected and not yet held
 * contiguously; `offline`: offline, nothing reported waiting.
 */
export const ATTENTION_KINDS = [
  'quarantined',
  'unrecoverable',
  'gaps',
  'offline-backlog',
  'dead-letters',
  'day-mismatch',
  'day-not-closed',
  'lag',
  'offline',
] as const;
export const attentionKindSchema = z.enum(ATTENTION_KINDS);

/** `alert`: data integrity in question; `warning`: sales at risk or unproven; `notice`: watch it. */
export const attentionLevelSchema = z.enum(['alert', 'warning', 'notice', 'ok']);

export const attentionSchema = z.object({
  level: attentionLevelSchema,
  /** Most serious first; `count` is in the kind's unit (events, seqs, ranges, days). */
  reasons: z.array(z.object({ kind: attentionKindSchema, count })),
});

/** One store as the console lists it. */
export const consoleStoreSchema = z.object({
  storeId: z.string(),
  online: z.boolean(),
  /** When head office recorded its current state (online or offline); null when it never sent a status. */
  since: iso.nullable(),
  lastSeen: iso.nullable(),
  agentVersion: z.string().nullable(),
  currentEpoch: z.string().nullable(),
  /** Unsent events its last status reported; null when it never said. */
  backlog: count.nullable(),
  oldestUnsentAt: iso.nullable(),
  /** Seqs of the current epoch: the highest held, and through which every seq is held. */
  lastSeq: count,
  contiguousThrough: count,
  lag: count,
  /** Missing seq ranges still expected to arrive, every epoch. */
  gaps: count,
  unrecoverable: count,
  quarantined: count,
  /** Events head office refused that are neither stored since (a retry) nor discarded. */
  deadLetters: count,
  /** Business days of the last week (today excluded) with a till mismatched / sold and not closed. */
  days: z.object({ mismatched: count, notClosed: count }),
  /** Operator commands sent to the store and not yet answered. */
  pendingCommands: count,
  attention: attentionSchema,
});

export const consoleSnapshotSchema = z.object({
  hubId: z.string(),
  now: iso,
  /** The business days the `days` counts cover. */
  dayWindow: z.object({ from: z.string(), to: z.string() }),
  /** Stores needing attention first (most serious first), then the rest by id. */
  stores: z.array(consoleStoreSchema),
  counts: z.object({ stores: count, online: count, needAttention: count }),
});

/**
 * One SSE event's `data`. The whole picture every time (coalesced, at most a few a second): a console
 * that missed messages is right again with the next one. The stream also carries `: keep-alive` comments.
 */
export const consoleMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), snapshot: consoleSnapshotSchema }),
]);

export const COMMAND_KINDS = ['resend', 'retry-dead-letter', 'discard-dead-letter'] as const;
export const commandStateSchema = z.enum(['pending', 'done', 'refused', 'expired']);

/** An operator's command to a store: pending until the store's status (or resend report) answers it. */
export const commandViewSchema = z.object({
  requestId: z.string(),
  storeId: z.string(),
  kind: z.enum(COMMAND_KINDS),
  state: commandStateSchema,
  eventId: z.string().nullable(),
  epoch: z.string().nullable(),
  fromSeq: z.number().int().nullable(),
  note: z.string().nullable(),
  requestedBy: z.string(),
  requestedAt: iso,
  /** When a broker last took it; null while none did (the hub sends it again). */
  lastSentAt: iso.nullable(),
  sends: count,
  answeredAt: iso.nullable(),
  /** The store's words, or what its resend report said. */
  answer: z.string().nullable(),
});

export const epochViewSchema = z.object({
  epoch: z.string(),
  current: z.boolean(),
  firstSeen: iso,
  lastSeen: iso,
  lastSeq: count,
  contiguousThrough: count,
  gaps: z.array(seqRange),
  unrecoverable: z.array(seqRange),
  stored: count,
  rejected: count,
  duplicates: count,
  moved: count,
  closed: z.object({ lastSeq: count, nextEpoch: z.string(), at: iso }).nullable(),
  complete: z.boolean(),
});

/**
 * `open`: refused and nothing done yet (or the store refused a command on it); `retry-pending` /
 * `discard-pending`: an operator's command waits for the store's answer; `retried`: the store queued it
 * again, head office has not received it yet; `stored`: head office now stores it (under `storedAt`);
 * `discarded`: the store discarded it on an operator's command.
 */
export const deadLetterStateSchema = z.enum([
  'open',
  'retry-pending',
  'discard-pending',
  'retried',
  'stored',
  'discarded',
]);

/** An event head office refused (a `rejected` row), with what became of it. */
export const deadLetterViewSchema = z.object({
  epoch: z.string(),
  seq: z.number().int(),
  eventId: z.string(),
  type: z.string().nullable(),
  terminalId: z.string().nullable(),
  transactionId: z.string().nullable(),
  reason: z.string().nullable(),
  receivedAt: iso,
  state: deadLetterStateSchema,
  storedAt: z.object({ epoch: z.string(), seq: z.number().int() }).nullable(),
  /** The latest command on it, if any. */
  command: commandViewSchema.nullable(),
});

export const storeDetailSchema = z.object({
  store: consoleStoreSchema,
  /** Newest first. */
  epochs: z.array(epochViewSchema),
  /** Open ones first, then the newest. */
  deadLetters: z.array(deadLetterViewSchema),
  /** Newest first. */
  commands: z.array(commandViewSchema),
});

const note = z
  .string()
  .trim()
  .min(3, { error: 'say in a few words why (at least 3 characters)' })
  .max(500, { error: 'keep the note under 500 characters' });

/** Ask the store to publish an epoch again from a seq (the current epoch when none is named). */
export const resyncRequestSchema = z.strictObject({
  epoch: epochSchema.optional(),
  fromSeq: z
    .number({ error: 'fromSeq must be a number' })
    .int({ error: 'fromSeq must be a whole number' })
    .positive({ error: 'fromSeq must be 1 or more' }),
  note,
});

export const retryRequestSchema = z.strictObject({ note: note.optional() });
/** A discard keeps the event on record at the store with the note, as a manager's discard does. */
export const consoleDiscardRequestSchema = discardRequestSchema;

/** The answer to an accepted action: the command as recorded (pending until the store answers). */
export const actionAnswerSchema = z.object({ command: commandViewSchema });

export const sessionAnswerSchema = z.object({ expiresAt: iso });

/*
 * What the console reads of the hub's operator API (`GET /v1/stores/…`, `/v1/days/…`, `/v1/promotions…`):
 * only the fields it shows, so a field the hub adds never breaks the page.
 */

export const transactionsPageSchema = z.object({
  storeId: z.string(),
  epoch: z.string().nullable(),
  next: z.number().int().nullable(),
  events: z.array(
    z.object({
      epoch: z.string(),
      seq: z.number().int(),
      eventId: z.string(),
      type: z.string().nullable(),
      status: z.string(),
      reason: z.string().nullable(),
      terminalId: z.string().nullable(),
      transactionId: z.string().nullable(),
      businessDay: z.string().nullable(),
      capturedAt: z.string().nullable(),
      receivedAt: iso,
      body: z.unknown(),
    }),
  ),
});

export const quarantinePageSchema = z.object({
  storeId: z.string(),
  events: z.array(
    z.object({
      epoch: z.string(),
      seq: z.number().int(),
      eventId: z.string(),
      reason: z.string(),
      receivedAt: iso,
      body: z.unknown(),
      movedTo: z.object({ epoch: z.string(), seq: z.number().int() }).nullable(),
    }),
  ),
});

const tillDayState = z.enum(['not-closed', 'confirmed', 'mismatch']);
const counted = z.object({ count: z.number().int(), amount: z.number().int() });

export const chainDaySchema = z.object({
  businessDay: z.string(),
  counts: z.object({ stores: count, confirmed: count, mismatch: count, notClosed: count }),
  confirmed: z.array(z.string()),
  mismatch: z.array(
    z.object({ storeId: z.string(), mismatched: z.array(z.string()), notClosed: z.array(z.string()) }),
  ),
  notClosed: z.array(z.object({ storeId: z.string(), notClosed: z.array(z.string()) })),
});

export const storeDaySchema = z.object({
  storeId: z.string(),
  businessDay: z.string(),
  state: tillDayState,
  tills: z.array(
    z.object({
      terminalId: z.string(),
      state: tillDayState,
      closedAt: z.string().nullable(),
      zNumber: z.string().nullable(),
      differences: z
        .object({
          missing: z.array(z.string()),
          extra: z.array(z.string()),
          totals: z.array(
            z.object({ type: z.string(), currency: z.string(), till: counted, headOffice: counted }),
          ),
        })
        .nullable(),
      totals: z.array(
        z.object({
          type: z.string(),
          currency: z.string(),
          till: counted.nullable(),
          headOffice: counted,
        }),
      ),
    }),
  ),
  unsent: z.object({ count: z.number().int().nullable() }),
});

const promotionTarget = z.object({
  all: z.boolean().optional(),
  regions: z.array(z.string()).optional(),
  storeIds: z.array(z.string()).optional(),
});
const rolloutSummary = z.object({ targeted: count, applied: count, refused: count, pending: count });

export const promotionListSchema = z.object({
  promotions: z.array(
    z.object({
      promotionId: z.string(),
      name: z.string(),
      latest: z.object({
        version: z.number().int(),
        state: z.string(),
        target: promotionTarget,
        createdAt: iso,
        publishedAt: iso.nullable(),
      }),
      rollout: rolloutSummary,
    }),
  ),
});

export const promotionDetailSchema = z.object({
  promotionId: z.string(),
  name: z.string(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      state: z.string(),
      target: promotionTarget,
      createdAt: iso,
      createdBy: z.string(),
      publishedAt: iso.nullable(),
      rollout: z.object({
        summary: rolloutSummary,
        stores: z.array(
          z.object({
            storeId: z.string(),
            targeted: z.boolean(),
            status: z.enum(['applied', 'refused', 'pending']),
            at: iso.optional(),
            reason: z.string().nullable().optional(),
            message: z.string().nullable().optional(),
            online: z.boolean().nullable().optional(),
            since: iso.nullable().optional(),
          }),
        ),
      }),
    }),
  ),
});

export type AttentionKind = z.infer<typeof attentionKindSchema>;
export type AttentionLevel = z.infer<typeof attentionLevelSchema>;
export type Attention = z.infer<typeof attentionSchema>;
export type ConsoleStore = z.infer<typeof consoleStoreSchema>;
export type ConsoleSnapshot = z.infer<typeof consoleSnapshotSchema>;
export type ConsoleMessage = z.infer<typeof consoleMessageSchema>;
export type CommandView = z.infer<typeof commandViewSchema>;
export type CommandKind = CommandView['kind'];
export type CommandState = z.infer<typeof commandStateSchema>;
export type EpochView = z.infer<typeof epochViewSchema>;
export type DeadLetterState = z.infer<typeof deadLetterStateSchema>;
export type DeadLetterView = z.infer<typeof deadLetterViewSchema>;
export type StoreDetail = z.infer<typeof storeDetailSchema>;
export type ResyncRequest = z.infer<typeof resyncRequestSchema>;
export type RetryRequest = z.infer<typeof retryRequestSchema>;
export type ActionAnswer = z.infer<typeof actionAnswerSchema>;
export type SessionAnswer = z.infer<typeof sessionAnswerSchema>;
export type TransactionsPage = z.infer<typeof transactionsPageSchema>;
export type QuarantinePage = z.infer<typeof quarantinePageSchema>;
export type ChainDay = z.infer<typeof chainDaySchema>;
export type StoreDay = z.infer<typeof storeDaySchema>;
export type PromotionList = z.infer<typeof promotionListSchema>;
export type PromotionDetailView = z.infer<typeof promotionDetailSchema>;
