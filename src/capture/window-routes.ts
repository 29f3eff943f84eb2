import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ACTION_HEADER,
  deadLetterIdSchema,
  discardRequestSchema,
  WINDOW_CSP_HEADER,
  WINDOW_ROUTES,
  WINDOW_SESSION_COOKIE,
  type DeadLetterActionOutcome,
  type ReadSessionAnswer,
  type WindowMessage,
  type WindowSnapshot,
} from '../contracts/window-api.js';
import { toApiIssues } from '../lib/api-issues.js';
import { bearerMatches } from '../lib/bearer-token.js';
import {
  AuthenticationError,
  ConfigError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  StorageUnavailableError,
  ValidationError,
} from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { notBuiltPage, registerPageFiles } from '../lib/page-files.js';
import { SseFanout } from '../lib/sse-fanout.js';
import { readCookie, sessionCookie, signedSessions, type SignedSessions } from '../lib/signed-session.js';
import type { JsonBody } from './json-body.js';
import { isLocalReader } from './loopback-reader.js';

/** What the window routes read and act on: the running agent's window face. */
export interface WindowSource {
  windowSnapshot(): Promise<WindowSnapshot>;
  /** Called (coalesced) whenever the snapshot may have changed; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  retryDeadLetter(eventId: string): Promise<DeadLetterActionOutcome>;
  discardDeadLetter(eventId: string, note: string): Promise<DeadLetterActionOutcome>;
}

export interface WindowRoutesOptions {
  source: WindowSource;
  /** The built window (index.html and its assets); when it is missing, `/` says how to build it. */
  filesDir: string;
  /** The manager credential (agent.json `window.managerToken`); actions are refused without one. */
  managerToken: string | undefined;
  /** Whether an `Authorization` header carries a token of this agent's terminals. */
  isTerminalToken: (authorization: string | undefined) => boolean;
  logger: Logger;
  /** The wall clock, for the sessions' expiry. */
  now?: () => number;
  /** A comment line keeps idle streams (and any proxy between) open. */
  heartbeatMs?: number;
  /** Open event streams at most; a window beyond gets 503 and its EventSource retries. */
  maxStreams?: number;
}

/** A window opened from another computer reads for a shop day on one entry of the credential. */
export const WINDOW_SESSION_TTL_MS = 12 * 3600_000;

/**
 * Live updates are already coalesced by the agent (window-changes.ts); this only keeps two pushes from
 * running back to back when building a snapshot gets slow.
 */
const MIN_PUSH_INTERVAL_MS = 100;

/**
 * Where the built window is: beside the compiled code (dist/renderer) when the agent runs from dist/, and
 * the project's dist/renderer when it runs from its TypeScript sources.
 */
export function defaultWindowFilesDir(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/renderer' : '../renderer', import.meta.url));
}

/**
 * The status window's routes on the agent's API port: the built page at `/`, its snapshot, its live
 * updates as server-sent events, the read session, and the two actions on dead letters.
 *
 * - Reading: from this PC (a loopback connection naming a loopback host); with a token of this agent (a
 *   terminal's or the manager's) in `Authorization`; or with the window's session cookie, which a window
 *   opened on another computer gets once for the manager credential (`POST /v1/window/session`), since
 *   its EventSource cannot send headers. No route takes a credential from the URL.
 * - Acting: only with the manager credential, and only from the agent's own page: the Origin must be the
 *   agent's own and the request must carry `X-Outpost-Action`, a header no form and no cross-site request
 *   without a CORS preflight (which this server never grants) can send. The session does not act: an
 *   action asks for the credential each time.
 */
export function registerWindowRoutes(app: FastifyInstance, options: WindowRoutesOptions): void {
  const { source, logger } = options;
  const now = options.now ?? Date.now;
  if (options.managerToken !== undefined && options.isTerminalToken(`Bearer ${options.managerToken}`))
    // A till holding the manager credential could retry and discard what head office refused.
    throw new ConfigError('window.managerToken: must differ from every terminal token (api.terminals)');
  // Keyed by the manager credential: a new credential in agent.json ends every session at the restart.
  const sessions: SignedSessions | undefined =
    options.managerToken === undefined
      ? undefined
      : signedSessions(options.managerToken, 'outpost status window session', WINDOW_SESSION_TTL_MS);
  const feed = new SseFanout({
    name: 'status window',
    logger,
    minIntervalMs: MIN_PUSH_INTERVAL_MS,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    maxStreams: options.maxStreams ?? 32,
    subscribe: (changed) => source.onChange(changed),
    async build() {
      const data = JSON.stringify({
        type: 'snapshot',
        snapshot: await source.windowSnapshot(),
      } satisfies WindowMessage);
      // Every snapshot is news: its time moves the ages the window puts in words.
      return { data, fingerprint: data };
    },
  });
  app.addHook('preClose', (done) => {
    feed.closeAll();
    done();
  });

  const mayRead = (request: FastifyRequest): boolean => {
    if (isLocalReader(request)) return true;
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      if (options.isTerminalToken(authorization)) return true;
      if (options.managerToken !== undefined && bearerMatches(authorization, options.managerToken))
        return true;
    }
    return sessions?.verify(readCookie(request.headers.cookie, WINDOW_SESSION_COOKIE), now()) !== undefined;
  };
  const requireReader = async (request: FastifyRequest) => {
    if (!mayRead(request))
      throw new AuthenticationError(
        "the status window is readable from this PC, or with this agent's manager credential: open a session " +
          `(POST ${WINDOW_ROUTES.session} with Authorization: Bearer <credential>) or send the header itself`,
      );
  };

  registerPageFiles(app, {
    dir: options.filesDir,
    csp: WINDOW_CSP_HEADER,
    what: 'the status window',
    notBuilt: (dir) =>
      notBuiltPage(dir, {
        title: 'status window',
        running: 'The Outpost agent is running and the tills can sell',
        buildScript: 'build:renderer',
        meanwhile: 'Meanwhile the store’s status is at <a href="/v1/status">/v1/status</a>.',
      }),
  });

  app.get(WINDOW_ROUTES.snapshot, { onRequest: requireReader }, async (_request, reply) =>
    reply.header('Cache-Control', 'no-store').send(await source.windowSnapshot()),
  );

  app.get(WINDOW_ROUTES.events, { onRequest: requireReader }, (request, reply) =>
    feed.serve(request, reply, 'too many status windows are open on this agent; close one'),
  );

  const refuseCrossSite = (request: FastifyRequest, why: string): never => {
    logger.warn('status window action refused: not from the agent’s own page', { url: request.url, why });
    throw new ForbiddenError(
      `refused: actions are taken only from the status window the agent serves (${why})`,
    );
  };
  /** The agent's own page: same-origin fetch metadata where sent, its own Origin, and the action header. */
  const requireOwnPage = (request: FastifyRequest) => {
    const host = request.headers.host;
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin')
      refuseCrossSite(request, `Sec-Fetch-Site: ${String(site)}`);
    if (!origin || !host || (origin !== `http://${host}` && origin !== `https://${host}`))
      refuseCrossSite(request, origin ? `Origin ${origin}` : 'no Origin header');
    if (request.headers[ACTION_HEADER.name.toLowerCase()] !== ACTION_HEADER.value)
      refuseCrossSite(request, `no ${ACTION_HEADER.name} header`);
  };
  /** The manager credential in `Authorization`; `what` names the attempt in the log. */
  const requireManager = (request: FastifyRequest, what: 'action' | 'sign-in') => {
    if (options.managerToken === undefined)
      throw new ForbiddenError(
        `no manager credential is configured on this agent, so the status window cannot ${
          what === 'action' ? 'act' : 'be read from another computer'
        }: add "window": {"managerToken": "<a secret of 16 characters or more>"} to agent.json (or set ` +
          'OUTPOST_WINDOW__MANAGER_TOKEN) and restart the agent',
      );
    const authorization = request.headers.authorization;
    if (!authorization)
      throw new AuthenticationError('the manager credential is required: Authorization: Bearer <credential>');
    if (!bearerMatches(authorization, options.managerToken)) {
      logger.warn(`status window ${what} with a wrong manager credential`, { url: request.url });
      throw new AuthenticationError('the manager credential is not right');
    }
  };

  app.post(WINDOW_ROUTES.session, async (request, reply) => {
    requireOwnPage(request);
    requireManager(request, 'sign-in');
    const issuedAt = now();
    const session = sessions!.issue(issuedAt);
    logger.info('status window session opened', { remoteAddress: request.socket.remoteAddress });
    const answer: ReadSessionAnswer = { expiresAt: new Date(session.expiresAt).toISOString() };
    return reply
      .header(
        'Set-Cookie',
        sessionCookie({
          name: WINDOW_SESSION_COOKIE,
          value: session.value,
          maxAgeMs: session.expiresAt - issuedAt,
          secure: request.protocol === 'https',
          path: WINDOW_ROUTES.sessionScope,
        }),
      )
      .header('Cache-Control', 'no-store')
      .send(answer);
  });

  const eventIdOf = (request: FastifyRequest): string => {
    const { eventId } = request.params as { eventId: string };
    const parsed = deadLetterIdSchema.safeParse(eventId);
    if (!parsed.success)
      throw new ValidationError('not the eventId of a dead letter', [
        { path: ['eventId'], message: parsed.error.issues[0]!.message },
      ]);
    return parsed.data;
  };

  const answer = (outcome: DeadLetterActionOutcome) => {
    if (outcome.ok) return outcome.result;
    switch (outcome.refusal) {
      case 'not-found':
        throw new NotFoundError(outcome.message);
      case 'not-dead':
        throw new ConflictError(outcome.message);
      case 'invalid':
        throw new ValidationError(outcome.message);
      case 'forbidden':
        throw new ForbiddenError(outcome.message);
      default:
        throw new StorageUnavailableError(outcome.message, 'io-error');
    }
  };

  const action = {
    onRequest: async (request: FastifyRequest) => {
      requireOwnPage(request);
      requireManager(request, 'action');
    },
  };
  app.post('/v1/window/dead-letters/:eventId/retry', action, async (request) =>
    answer(await source.retryDeadLetter(eventIdOf(request))),
  );
  app.post('/v1/window/dead-letters/:eventId/discard', action, async (request) => {
    const eventId = eventIdOf(request);
    const body = discardRequestSchema.safeParse((request.body as JsonBody | undefined)?.value);
    if (!body.success)
      throw new ValidationError('a discard needs a note saying why', toApiIssues(body.error));
    return answer(await source.discardDeadLetter(eventId, body.data.note));
  });
}
