import { apiErrorSchema } from '../../contracts/api.js';
import {
  ACTION_HEADER,
  deadLetterActionResultSchema,
  WINDOW_ROUTES,
  windowMessageSchema,
  windowSnapshotSchema,
  type ActionRefusal,
  type DeadLetterActionOutcome,
  type WindowApi,
  type WindowLinkState,
  type WindowMessage,
  type WindowSnapshot,
} from '../../contracts/window-api.js';

/** The part of the browser's EventSource the client uses; tests pass a fake. */
export interface EventSourceLike {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent<string>) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

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
 * Actions carry the manager credential and a header a cross-site form cannot send; the agent also checks
 * the Origin. Live messages come over one EventSource, which reconnects by itself; each reconnect starts
 * with a full snapshot, so nothing missed while away stays wrong.
 */
export function createHttpWindowApi(options: HttpWindowApiOptions): WindowApi {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const createEventSource =
    options.createEventSource ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
  const url = (route: string) => new URL(route, options.baseUrl).toString();

  const act = async (
    route: string,
    body: object,
    credential: string | undefined,
  ): Promise<DeadLetterActionOutcome> => {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      [ACTION_HEADER.name]: ACTION_HEADER.value,
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
        body: JSON.stringify(body),
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
      const result = deadLetterActionResultSchema.safeParse(payload);
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
      if (!response.ok) throw new Error(`the agent answered HTTP ${response.status}`);
      return windowSnapshotSchema.parse(await response.json());
    },

    subscribe(onMessage: (message: WindowMessage) => void, onLink?: (state: WindowLinkState) => void) {
      const source = createEventSource(url(WINDOW_ROUTES.events));
      source.onopen = () => onLink?.('open');
      source.onerror = () => onLink?.('lost');
      source.onmessage = (event) => {
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          return; // not ours to act on; the next full snapshot puts the window right
        }
        const message = windowMessageSchema.safeParse(data);
        if (message.success) onMessage(message.data);
      };
      return () => source.close();
    },

    retryDeadLetter: (eventId, credential) => act(WINDOW_ROUTES.retry(eventId), {}, credential),
    discardDeadLetter: (eventId, note, credential) =>
      act(WINDOW_ROUTES.discard(eventId), { note }, credential),
  };
}
