import type { z } from 'zod';
import { apiErrorSchema } from '../../contracts/api.js';
import {
  ACTION_HEADER,
  deadLetterActionResultSchema,
  readSessionAnswerSchema,
  WINDOW_ROUTES,
  WindowReadRefusedError,
  windowMessageSchema,
  windowSnapshotSchema,
  type ActionRefusal,
  type ReadSessionOutcome,
  type WindowApi,
  type WindowLinkState,
  type WindowMessage,
  type WindowSnapshot,
} from '../../contracts/window-api.js';
import { openEventStream, type EventSourceLike } from '../../ui/event-stream.js';

/** The part of the browser's EventSource the client uses (src/ui/event-stream.ts); tests pass a fake. */
export type { EventSourceLike };

export interface HttpWindowApiOptions {
  /** The agent's origin, e.g. location.origin. */
  baseUrl: string;
  fetch?: typeof fetch;
  createEventSource?: (url: string) => EventSourceLike;
}

/** HTTP statuses of the agent's action routes, in the window's words. */
const REFUSAL_BY_STATUS: Record<number, ActionRefusal> = {
  400: 'invalid',
  403: 'forbidden',
  404: 'not-found',
  409: 'not-dead',
  503: 'unavailable',
};

/** What an `Authorization: Bearer` header can carry (RFC 6750 b64token, with any visible character). */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * The window's API over HTTP and server-sent events, for the page the headless agent serves at `/`.
 * Reads carry the read session's cookie where the window is on another computer (the browser sends it;
 * the page never holds it), so neither the credential nor the session is ever in a URL. Actions carry the
 * manager credential and a header a cross-site form cannot send; the agent also checks the Origin. Live
 * messages come over one EventSource, which reconnects by itself; each reconnect starts with a full
 * snapshot, so nothing missed while away stays wrong.
 */
export function createHttpWindowApi(options: HttpWindowApiOptions): WindowApi {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const createEventSource =
    options.createEventSource ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
  const url = (route: string) => new URL(route, options.baseUrl).toString();

  /** A POST from the agent's own page with the manager credential; its answer read with `schema`. */
  const post = async <T>(
    route: string,
    body: object | undefined,
    credential: string | undefined,
    schema: z.ZodType<T>,
  ): Promise<{ ok: true; result: T } | { ok: false; refusal: ActionRefusal; message: string }> => {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      [ACTION_HEADER.name]: ACTION_HEADER.value,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    };
    const presented = credential?.trim();
    if (presented) {
      if (!HEADER_SAFE.test(presented))
        return {
          ok: false,
          refusal: 'credential-refused',
          message: 'the credential holds a space or a character it cannot have',
        };
      headers.Authorization = `Bearer ${presented}`;
    }
    let response: Response;
    try {
      response = await doFetch(url(route), {
        method: 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (error) {
      return {
        ok: false,
        refusal: 'unreachable',
        message: error instanceof Error ? error.message : String(error),
      };
    }
    const payload: unknown = await response.json().catch(() => undefined);
    if (response.ok) {
      const result = schema.safeParse(payload);
      return result.success
        ? { ok: true, result: result.data }
        : {
            ok: false,
            refusal: 'unavailable',
            message: 'the agent gave an answer this window does not understand',
          };
    }
    const error = apiErrorSchema.safeParse(payload);
    const message = error.success ? error.data.error : `HTTP ${response.status}`;
    const refusal: ActionRefusal =
      response.status === 401
        ? presented
          ? 'credential-refused'
          : 'credential-required'
        : (REFUSAL_BY_STATUS[response.status] ?? 'unavailable');
    return { ok: false, refusal, message };
  };

  return {
    actionsNeedCredential: true,

    async snapshot(): Promise<WindowSnapshot> {
      const response = await doFetch(url(WINDOW_ROUTES.snapshot), {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      // Opened from another computer, without a session or with one that has expired.
      if (response.status === 401)
        throw new WindowReadRefusedError('the agent asks for the manager credential');
      if (!response.ok) throw new Error(`the agent answered HTTP ${response.status}`);
      return windowSnapshotSchema.parse(await response.json());
    },

    subscribe(onMessage: (message: WindowMessage) => void, onLink?: (state: WindowLinkState) => void) {
      // Shared with the operator's console: reconnects even after the agent refused a stream (a restart).
      // An EventSource sends the session cookie by itself; nothing else identifies the window.
      return openEventStream({
        url: url(WINDOW_ROUTES.events),
        parse: (data) => {
          const message = windowMessageSchema.safeParse(data);
          return message.success ? message.data : undefined;
        },
        onMessage,
        ...(onLink ? { onLink } : {}),
        createEventSource,
      });
    },

    async openReadSession(credential: string): Promise<ReadSessionOutcome> {
      // The credential goes once, in a header; the agent answers with an HttpOnly cookie.
      const outcome = await post(WINDOW_ROUTES.session, undefined, credential, readSessionAnswerSchema);
      return outcome.ok ? { ok: true, expiresAt: outcome.result.expiresAt } : outcome;
    },

    retryDeadLetter: (eventId, credential) =>
      post(WINDOW_ROUTES.retry(eventId), {}, credential, deadLetterActionResultSchema),
    discardDeadLetter: (eventId, note, credential) =>
      post(WINDOW_ROUTES.discard(eventId), { note }, credential, deadLetterActionResultSchema),
  };
}
