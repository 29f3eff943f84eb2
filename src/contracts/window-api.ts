import { z } from 'zod';
import { agentStatusSchema } from './status.js';

/**
 * The store manager's status window: what it shows, the live messages that keep it current, and the
 * two actions it may take. One renderer reads it through one narrow interface (`WindowApi`), served
 * over HTTP + server-sent events by the headless agent and over a preload bridge inside the desktop app.
 */

/** One minute of the store's activity; the agent keeps these so the chart survives a window reload. */
export const activityPointSchema = z.object({
  /** Start of the minute (ISO-8601). */
  at: z.string(),
  /** Sales not yet acknowledged by head office at the end of that minute. */
  backlog: z.number().int().nonnegative(),
  /** Sales, returns and voids captured during that minute. */
  sales: z.number().int().nonnegative(),
});

export const activityHistorySchema = z.object({
  bucketSeconds: z.number().int().positive(),
  /** Oldest first, at most a few hours. */
  points: z.array(activityPointSchema),
});

/** A till that submitted something today, so one that fell silent stands out. */
export const terminalSeenSchema = z.object({
  terminalId: z.string(),
  lastSaleAt: z.string(),
  salesToday: z.number().int().nonnegative(),
});

/** What fills the blanks of a notice's or a problem's words: a count, a name, an instant (ISO-8601). */
export const wordParamsSchema = z.record(z.string(), z.union([z.string(), z.number()]));

/** A recent warning or error from the agent's log: plain words for the manager, the details for IT. */
export const logNoticeSchema = z.object({
  at: z.string(),
  level: z.enum(['warning', 'error']),
  /**
   * What happened, stable across versions (`capture-unavailable`, `head-office-unreachable`; `other-error`
   * and `other-warning` for events without words of their own): the window words it in its own language
   * from `params`, and falls back to `message` for a code it does not know.
   */
  code: z.string(),
  params: wordParamsSchema,
  /** What happened, in English words a store manager understands. */
  message: z.string(),
  /** The technical detail (log message, fields, error) for support, shown on demand. */
  details: z.string(),
});

/**
 * Where the desktop app's self-update stands. `not-applicable`: the headless agent, which store IT updates
 * with the system's package manager.
 */
export const updateStateSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('not-applicable') }),
  /** `no-feed`: desktop.json names no update feed; `not-packaged`: a development run. */
  z.object({ state: z.literal('disabled'), reason: z.enum(['no-feed', 'not-packaged']) }),
  z.object({ state: z.literal('idle'), channel: z.string(), checkedAt: z.string().nullable() }),
  z.object({ state: z.literal('checking'), channel: z.string() }),
  z.object({ state: z.literal('up-to-date'), channel: z.string(), checkedAt: z.string() }),
  z.object({
    state: z.literal('downloading'),
    channel: z.string(),
    version: z.string(),
    percent: z.number().min(0).max(100),
  }),
  z.object({
    state: z.literal('ready'),
    channel: z.string(),
    version: z.string(),
    /** What holds the install back (the window says it in words); null: it waits for quit or the quiet hour. */
    waitingFor: z.enum(['commit-in-progress', 'storage-unwritable', 'sales-unsent', 'agent-down']).nullable(),
  }),
  z.object({ state: z.literal('error'), channel: z.string(), message: z.string(), at: z.string() }),
]);

export const appInfoSchema = z.object({
  version: z.string(),
  update: updateStateSchema,
});

export const promotionSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  startsAt: z.string().nullable(),
  endsAt: z.string().nullable(),
});

export const promotionsPanelSchema = z.object({
  inForce: z.array(promotionSummarySchema),
  /** The next promotion to start, or null when none is scheduled. */
  next: promotionSummarySchema.nullable(),
});

/** Everything the window shows, in one read. */
export const windowSnapshotSchema = z.object({
  /** The store's IANA time zone: the window tells times on the store's clock, wherever it is opened. */
  timeZone: z.string().optional(),
  status: agentStatusSchema,
  history: activityHistorySchema,
  terminals: z.array(terminalSeenSchema),
  notices: z.array(logNoticeSchema),
  promotions: promotionsPanelSchema,
  app: appInfoSchema,
});

/**
 * A live message: one SSE event's `data` (JSON), or one IPC message under the desktop app. A full snapshot
 * is small (a few hours of minutes), so a change sends the whole picture: a window that missed messages is
 * right again with the next one. The desktop shell adds the update state, which only it knows.
 */
export const windowMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), snapshot: windowSnapshotSchema }),
  z.object({ type: z.literal('update'), update: updateStateSchema }),
]);

/** A dead letter is named by its eventId. Discard keeps it on record with the manager's note. */
export const deadLetterIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[0-9A-Za-z_-]+$/, { error: 'must be the eventId of a dead letter' });

export const discardRequestSchema = z.object({
  note: z
    .string()
    .trim()
    .min(3, { error: 'say in a few words why this sale is discarded' })
    .max(500, { error: 'keep the note under 500 characters' }),
});

/** The answer to a successful retry or discard. */
export const deadLetterActionResultSchema = z.object({
  eventId: z.string(),
  state: z.enum(['retried', 'discarded']),
});

/**
 * Why an action did not happen, for the window to say in plain words. `credential-required` and
 * `credential-refused` only come from the HTTP transport, where actions need the manager credential.
 */
export const actionRefusalSchema = z.enum([
  'credential-required',
  'credential-refused',
  'forbidden',
  'not-found',
  'not-dead',
  'invalid',
  'unavailable',
  'unreachable',
]);

export const deadLetterActionOutcomeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: deadLetterActionResultSchema }),
  z.object({ ok: z.literal(false), refusal: actionRefusalSchema, message: z.string() }),
]);

/** The headless agent's routes for the window, beside its POS API on the same port. */
export const WINDOW_ROUTES = {
  page: '/',
  snapshot: '/v1/window/snapshot',
  events: '/v1/window/events',
  /** POST with `Authorization: Bearer <manager credential>`: a read session for a window on another computer. */
  session: '/v1/window/session',
  /** The routes the session cookie is sent to (its Path): the window's reads, nothing else on the agent. */
  sessionScope: '/v1/window',
  retry: (eventId: string) => `/v1/window/dead-letters/${encodeURIComponent(eventId)}/retry`,
  discard: (eventId: string) => `/v1/window/dead-letters/${encodeURIComponent(eventId)}/discard`,
} as const;

/**
 * The read session's cookie: HttpOnly (the page never sees it), SameSite=Strict, host-only, sent to
 * `WINDOW_ROUTES.sessionScope` only. Its own name, apart from the hub console's, as a browser keeps the
 * cookies of one host together whatever the port.
 */
export const WINDOW_SESSION_COOKIE = 'outpost_window';

export const readSessionAnswerSchema = z.object({ expiresAt: z.string() });

/**
 * A header a plain HTML form or a cross-site `fetch` without a CORS preflight cannot send: actions without
 * it are refused, which together with the Origin check keeps other web pages from acting for the manager.
 */
export const ACTION_HEADER = { name: 'X-Outpost-Action', value: '1' } as const;

export type ActivityPoint = z.infer<typeof activityPointSchema>;
export type ActivityHistory = z.infer<typeof activityHistorySchema>;
export type TerminalSeen = z.infer<typeof terminalSeenSchema>;
export type WordParams = z.infer<typeof wordParamsSchema>;
export type LogNotice = z.infer<typeof logNoticeSchema>;
export type ReadSessionAnswer = z.infer<typeof readSessionAnswerSchema>;
export type UpdateState = z.infer<typeof updateStateSchema>;
export type AppInfo = z.infer<typeof appInfoSchema>;
export type PromotionSummary = z.infer<typeof promotionSummarySchema>;
export type PromotionsPanel = z.infer<typeof promotionsPanelSchema>;
export type WindowSnapshot = z.infer<typeof windowSnapshotSchema>;
export type WindowMessage = z.infer<typeof windowMessageSchema>;
export type DeadLetterActionResult = z.infer<typeof deadLetterActionResultSchema>;
export type ActionRefusal = z.infer<typeof actionRefusalSchema>;
export type DeadLetterActionOutcome = z.infer<typeof deadLetterActionOutcomeSchema>;

/** Whether a read session was opened, or why not (in the terms of an action's refusal). */
export type ReadSessionOutcome =
  { ok: true; expiresAt: string } | { ok: false; refusal: ActionRefusal; message: string };

/** Whether the window can currently hear the agent; shown when the link is lost. */
export type WindowLinkState = 'open' | 'lost';

/**
 * The window's whole view of the agent. Two implementations: HTTP + SSE (the headless agent, any browser)
 * and the preload bridge (`window.outpost` inside the desktop app). Actions never throw for a refusal:
 * they answer an outcome the window can put into words.
 */
export interface WindowApi {
  /** True where actions need the manager credential (HTTP); the window then asks for it. */
  readonly actionsNeedCredential: boolean;
  snapshot(): Promise<WindowSnapshot>;
  /** Pushes every live message until the returned function is called. */
  subscribe(
    onMessage: (message: WindowMessage) => void,
    onLink?: (state: WindowLinkState) => void,
  ): () => void;
  retryDeadLetter(eventId: string, credential?: string): Promise<DeadLetterActionOutcome>;
  discardDeadLetter(eventId: string, note: string, credential?: string): Promise<DeadLetterActionOutcome>;
  /**
   * HTTP only: a window opened from another computer than the agent's reads with a session, which the
   * manager credential opens once (in a header; the credential is not kept). The window asks for it when
   * `snapshot()` rejects with `WindowReadRefusedError`, also when a session has expired.
   */
  openReadSession?(credential: string): Promise<ReadSessionOutcome>;
}

/** The agent refused to show its status to this window: it is not on the agent's PC and has no credential. */
export class WindowReadRefusedError extends Error {
  override readonly name = 'WindowReadRefusedError';
}

/**
 * The window's Content-Security-Policy: its own files only, no inline script or style, no plugins, no
 * framing. The page carries it in a meta element (minus frame-ancestors, which only a header can set);
 * whoever serves the page sends `WINDOW_CSP_HEADER` too.
 */
export const WINDOW_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
export const WINDOW_CSP_HEADER = `${WINDOW_CSP}; frame-ancestors 'none'`;

/** The name under which the desktop app's preload exposes its bridge to the page (`window.outpost`). */
export const WINDOW_BRIDGE_KEY = 'outpost';

/**
 * What the desktop app's preload exposes through contextBridge: the narrow API and nothing else. Answers
 * cross a process boundary, so they are `unknown` here and the page validates them with the schemas above.
 */
export interface WindowBridge {
  snapshot(): Promise<unknown>;
  subscribe(onMessage: (message: unknown) => void, onLink: (state: WindowLinkState) => void): () => void;
  retryDeadLetter(eventId: string): Promise<unknown>;
  discardDeadLetter(eventId: string, note: string): Promise<unknown>;
}

/** IPC channels between the preload and the main process; the main process answers these and no others. */
export const WINDOW_IPC = {
  snapshot: 'outpost:window:snapshot',
  retry: 'outpost:window:retry',
  discard: 'outpost:window:discard',
  /** main → page: one WindowMessage. */
  message: 'outpost:window:message',
  /** main → page: the agent's link state (lost while the agent process restarts). */
  link: 'outpost:window:link',
} as const;
