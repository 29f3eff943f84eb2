import type { z } from 'zod';
import { apiErrorSchema } from '../../contracts/api.js';
import {
  ACTION_HEADER,
  actionAnswerSchema,
  chainDaySchema,
  CONSOLE_ROUTES,
  consoleMessageSchema,
  consoleSnapshotSchema,
  promotionDetailSchema,
  promotionListSchema,
  quarantinePageSchema,
  sessionAnswerSchema,
  storeDaySchema,
  storeDetailSchema,
  transactionsPageSchema,
  type ChainDay,
  type CommandView,
  type ConsoleMessage,
  type ConsoleSnapshot,
  type PromotionDetailView,
  type PromotionList,
  type QuarantinePage,
  type ResyncRequest,
  type StoreDay,
  type StoreDetail,
  type TransactionsPage,
} from '../../contracts/console-api.js';
import { openEventStream, type EventSourceLike, type LinkState } from '../../ui/event-stream.js';

/** The hub answered 401: the console's session is missing or expired; the operator signs in again. */
export class SignedOutError extends Error {
  override readonly name = 'SignedOutError';
}

/** The hub answered a read with an error status; `message` is the hub's own words. */
export class ReadError extends Error {
  override readonly name = 'ReadError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Why an action or a sign-in did not happen, for the page to say in words. */
export type Refusal =
  | 'signed-out'
  | 'token-refused'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'invalid'
  | 'unavailable'
  | 'unreachable';

export type ActionOutcome =
  { ok: true; command: CommandView } | { ok: false; refusal: Refusal; message: string };

export type SignInOutcome =
  { ok: true; expiresAt: string } | { ok: false; refusal: Refusal; message: string };

export interface ConsoleClientOptions {
  /** The hub's origin, e.g. location.origin. */
  baseUrl: string;
  fetch?: typeof fetch;
  createEventSource?: (url: string) => EventSourceLike;
}

const REFUSAL_BY_STATUS: Record<number, Refusal> = {
  400: 'invalid',
  401: 'signed-out',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
};

/** A success whose body does not match the contract (a hub of another version): said as unavailable. */
const NOT_UNDERSTOOD = {
  ok: false,
  refusal: 'unavailable',
  message: 'the hub gave an answer this console does not understand',
} as const;

/** What a token in an `Authorization: Bearer` header may hold (RFC 6750 b64token, any visible character). */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * The console's view of the hub, over HTTP and server-sent events. Reads and the live stream carry the
 * session cookie (same origin); actions carry it too, with `X-Outpost-Action` and the browser's Origin.
 * The operator token is sent once, to sign in, in a header: never kept, never in a URL.
 */
export function createConsoleClient(options: ConsoleClientOptions) {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const url = (route: string) => new URL(route, options.baseUrl).toString();

  const read = async <S extends z.ZodType>(route: string, schema: S): Promise<z.infer<S>> => {
    const response = await doFetch(url(route), {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (response.status === 401) throw new SignedOutError('signed out');
    const payload: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = apiErrorSchema.safeParse(payload);
      throw new ReadError(error.success ? error.data.error : `HTTP ${response.status}`, response.status);
    }
    return schema.parse(payload);
  };

  const send = async (
    method: 'POST' | 'DELETE',
    route: string,
    body: object | undefined,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ response: Response; payload: unknown } | { failed: string }> => {
    try {
      const response = await doFetch(url(route), {
        method,
        headers: {
          Accept: 'application/json',
          [ACTION_HEADER.name]: ACTION_HEADER.value,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...extraHeaders,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: 'same-origin',
        cache: 'no-store',
      });
      return { response, payload: await response.json().catch(() => undefined) };
    } catch (error) {
      return { failed: error instanceof Error ? error.message : String(error) };
    }
  };

  const refusalOf = (response: Response, payload: unknown): { refusal: Refusal; message: string } => {
    const error = apiErrorSchema.safeParse(payload);
    return {
      refusal: REFUSAL_BY_STATUS[response.status] ?? 'unavailable',
      message: error.success ? error.data.error : `HTTP ${response.status}`,
    };
  };

  const act = async (route: string, body: object): Promise<ActionOutcome> => {
    const sent = await send('POST', route, body);
    if ('failed' in sent) return { ok: false, refusal: 'unreachable', message: sent.failed };
    if (!sent.response.ok) return { ok: false, ...refusalOf(sent.response, sent.payload) };
    const answer = actionAnswerSchema.safeParse(sent.payload);
    return answer.success ? { ok: true, command: answer.data.command } : NOT_UNDERSTOOD;
  };

  return {
    async signIn(token: string): Promise<SignInOutcome> {
      const presented = token.trim();
      if (!presented || !HEADER_SAFE.test(presented))
        return {
          ok: false,
          refusal: 'token-refused',
          message: 'the token holds a space or a character it cannot have',
        };
      const sent = await send('POST', CONSOLE_ROUTES.session, undefined, {
        Authorization: `Bearer ${presented}`,
      });
      if ('failed' in sent) return { ok: false, refusal: 'unreachable', message: sent.failed };
      if (sent.response.status === 401)
        return {
          ok: false,
          refusal: 'token-refused',
          message: refusalOf(sent.response, sent.payload).message,
        };
      if (!sent.response.ok) return { ok: false, ...refusalOf(sent.response, sent.payload) };
      const answer = sessionAnswerSchema.safeParse(sent.payload);
      return answer.success ? { ok: true, expiresAt: answer.data.expiresAt } : NOT_UNDERSTOOD;
    },

    async signOut(): Promise<void> {
      await send('DELETE', CONSOLE_ROUTES.session, undefined);
    },

    snapshot: (): Promise<ConsoleSnapshot> => read(CONSOLE_ROUTES.snapshot, consoleSnapshotSchema),

    /** Every live message until the returned function is called; the stream reconnects by itself. */
    subscribe(onMessage: (message: ConsoleMessage) => void, onLink?: (state: LinkState) => void): () => void {
      return openEventStream({
        url: url(CONSOLE_ROUTES.events),
        parse: (data) => {
          const message = consoleMessageSchema.safeParse(data);
          return message.success ? message.data : undefined;
        },
        onMessage,
        ...(onLink ? { onLink } : {}),
        ...(options.createEventSource ? { createEventSource: options.createEventSource } : {}),
      });
    },

    store: (storeId: string): Promise<StoreDetail> => read(CONSOLE_ROUTES.store(storeId), storeDetailSchema),
    transactions: (
      storeId: string,
      query: { epoch?: string; after?: number; limit?: number },
    ): Promise<TransactionsPage> => read(CONSOLE_ROUTES.transactions(storeId, query), transactionsPageSchema),
    quarantine: (storeId: string): Promise<QuarantinePage> =>
      read(CONSOLE_ROUTES.quarantine(storeId), quarantinePageSchema),
    chainDay: (day: string): Promise<ChainDay> => read(CONSOLE_ROUTES.chainDay(day), chainDaySchema),
    storeDay: (storeId: string, day: string): Promise<StoreDay> =>
      read(CONSOLE_ROUTES.storeDay(storeId, day), storeDaySchema),
    promotions: (): Promise<PromotionList> => read(CONSOLE_ROUTES.promotions, promotionListSchema),
    promotion: (promotionId: string): Promise<PromotionDetailView> =>
      read(CONSOLE_ROUTES.promotion(promotionId), promotionDetailSchema),

    resync: (storeId: string, request: ResyncRequest) => act(CONSOLE_ROUTES.resync(storeId), request),
    retry: (storeId: string, eventId: string, note?: string) =>
      act(CONSOLE_ROUTES.retry(storeId, eventId), note ? { note } : {}),
    discard: (storeId: string, eventId: string, note: string) =>
      act(CONSOLE_ROUTES.discard(storeId, eventId), { note }),
  };
}

export type ConsoleClient = ReturnType<typeof createConsoleClient>;
