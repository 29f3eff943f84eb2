import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ACTION_HEADER,
  CONSOLE_CSP_HEADER,
  CONSOLE_ROUTES,
  consoleDiscardRequestSchema,
  resyncRequestSchema,
  retryRequestSchema,
  type ActionAnswer,
  type ConsoleMessage,
  type SessionAnswer,
} from '../contracts/console-api.js';
import { identifier } from '../contracts/transaction.js';
import { parseRequestPart } from '../lib/api-issues.js';
import { bearerMatches } from '../lib/bearer-token.js';
import type { Clock } from '../lib/clock.js';
import { AuthenticationError, ForbiddenError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { escapeHtml, pageFileHandler } from '../lib/page-files.js';
import { SseFanout } from '../lib/sse-fanout.js';
import { commandView } from './command-rules.js';
import {
  clearedSessionCookie,
  consoleSessions,
  readCookie,
  sessionCookie,
  type ConsoleSessions,
} from './console-session.js';
import { consoleSnapshot, storeDetail } from './console-view.js';
import type { HubCommands } from './hub-commands.js';
import type { HubStore } from './hub-store.js';

export interface ConsoleOptions {
  store: HubStore;
  hubId: string;
  /** The operator token (hub.json `api.token`): what signs in, and what the session is signed with. */
  token: string;
  commands: HubCommands;
  logger: Logger;
  clock: Clock;
  /** The built console (index.html and its assets); when it is missing, `/` says how to build it. */
  filesDir: string;
  /** Live updates: coalesced to one build this often at most; rebuilt this often regardless. */
  minIntervalMs?: number;
  refreshEveryMs?: number;
  heartbeatMs?: number;
  maxStreams?: number;
}

/**
 * Where the built console is: beside the compiled code (dist/console) when the hub runs from dist/, and
 * the project's dist/console when it runs from its TypeScript sources.
 */
export function defaultConsoleFilesDir(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/console' : '../console', import.meta.url));
}

/** The console's face towards the operator API's own request check (hub-api.ts). */
export interface ConsoleAccess {
  /**
   * Whether a request passes without the bearer token: the console's page files and its sign-in route,
   * or a request carrying a valid console session. A session's request that changes anything must come
   * from the hub's own page (Origin, `X-Outpost-Action`), else this throws ForbiddenError.
   */
  admits(request: FastifyRequest): boolean;
  /** Adds the console's routes to the operator API. */
  register(app: FastifyInstance): void;
  /** Something the console shows may have changed (a commit, a status, a command). Cheap. */
  changed(): void;
}

const PAGE_PATHS = new Set(['/', '/index.html', '/favicon.png']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);
const pathOf = (request: FastifyRequest) => request.url.split('?')[0] ?? '';

const notBuiltPage = (dir: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost: operator's console not built</title></head>
<body>
<h1>The operator's console is not built in this installation</h1>
<p>The hub is running and storing every store's sales, but the console's files are missing from
<code>${escapeHtml(dir)}</code>.</p>
<p>Build them in the Outpost folder with <code>npm run build</code> (or only the console:
<code>npm run build:console</code>), then reload this page.</p>
<p>Meanwhile the operator API answers with the operator token, e.g. <code>GET /v1/stores</code>.</p>
</body></html>
`;

const storeParams = z.object({ storeId: identifier('storeId') });
const deadLetterParams = z.object({
  storeId: identifier('storeId'),
  eventId: z.string().regex(/^[0-9A-Za-z_-]{10,64}$/, { error: 'must be the eventId of a dead letter' }),
});

/**
 * The operator's console on the hub's API port: the built page at `/`, sign-in (the operator token for a
 * session cookie), the stores as a snapshot and as server-sent events, one store in detail, and the
 * actions (resync from a seq, retry or discard a dead letter), which become commands to the store
 * (hub-commands.ts). The rest of the operator API (transactions, quarantine, business days, promotions)
 * answers the console's session too, read-only unless the request passes the same checks as an action.
 */
export function createConsole(options: ConsoleOptions): ConsoleAccess {
  const { logger, clock } = options;
  const sessions: ConsoleSessions = consoleSessions(options.token);
  /** Requests let in by their session cookie (not the bearer token): they must show their Origin. */
  const bySession = new WeakSet<FastifyRequest>();
  const feed = new SseFanout({
    name: "operator's console",
    logger,
    minIntervalMs: options.minIntervalMs ?? 1_000,
    refreshEveryMs: options.refreshEveryMs ?? 5_000,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    maxStreams: options.maxStreams ?? 64,
    async build() {
      const snapshot = await consoleSnapshot(options.store, options.hubId, clock.now());
      const message: ConsoleMessage = { type: 'snapshot', snapshot };
      return { data: JSON.stringify(message), fingerprint: JSON.stringify({ ...snapshot, now: null }) };
    },
  });

  const refuse = (request: FastifyRequest, why: string): never => {
    logger.warn("operator's console: action refused, not from the hub's own page", {
      url: pathOf(request),
      why,
    });
    throw new ForbiddenError(`refused: actions are taken only from the console this hub serves (${why})`);
  };

  /**
   * An action must come from the hub's own page: same-origin fetch metadata where the browser sends it,
   * an Origin naming this hub (required of a session's request, which a browser always labels), and
   * `X-Outpost-Action`, which no form and no cross-site request without a CORS preflight (never granted
   * here) can carry.
   */
  const requireOwnPage = (request: FastifyRequest) => {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') refuse(request, `Sec-Fetch-Site: ${String(site)}`);
    const origin = request.headers.origin;
    const host = request.headers.host;
    if (origin !== undefined && (!host || (origin !== `http://${host}` && origin !== `https://${host}`)))
      refuse(request, `Origin ${origin}`);
    if (origin === undefined && bySession.has(request)) refuse(request, 'no Origin header');
    if (request.headers[ACTION_HEADER.name.toLowerCase()] !== ACTION_HEADER.value)
      refuse(request, `no ${ACTION_HEADER.name} header`);
  };

  const secure = (request: FastifyRequest) => request.protocol === 'https';

  const admits = (request: FastifyRequest): boolean => {
    const path = pathOf(request);
    if (SAFE_METHODS.has(request.method) && (PAGE_PATHS.has(path) || path.startsWith('/assets/')))
      return true;
    if (path === CONSOLE_ROUTES.session) return true;
    if (sessions.verify(readCookie(request.headers.cookie), clock.now()) === undefined) return false;
    bySession.add(request);
    if (!SAFE_METHODS.has(request.method)) requireOwnPage(request);
    return true;
  };

  const register = (app: FastifyInstance) => {
    app.addHook('preClose', (done) => {
      feed.closeAll();
      done();
    });
    const page = pageFileHandler({
      dir: options.filesDir,
      csp: CONSOLE_CSP_HEADER,
      what: "the operator's console",
      notBuilt: notBuiltPage,
    });
    app.get(CONSOLE_ROUTES.page, page);
    app.get('/index.html', page);
    app.get('/favicon.png', page);
    app.get('/assets/*', page);

    app.post(CONSOLE_ROUTES.session, async (request, reply) => {
      requireOwnPage(request);
      if (!bearerMatches(request.headers.authorization, options.token)) {
        logger.warn("operator's console: sign-in with a wrong operator token", {});
        throw new AuthenticationError(
          request.headers.authorization
            ? 'the operator token is not right'
            : 'the operator token is required',
        );
      }
      const session = sessions.issue(clock.now());
      logger.info("operator's console: signed in", { hubId: options.hubId });
      const answer: SessionAnswer = { expiresAt: new Date(session.expiresAt).toISOString() };
      return reply
        .header('Set-Cookie', sessionCookie(session.value, session.expiresAt - clock.now(), secure(request)))
        .header('Cache-Control', 'no-store')
        .send(answer);
    });

    app.delete(CONSOLE_ROUTES.session, async (request, reply) => {
      requireOwnPage(request);
      return reply
        .header('Set-Cookie', clearedSessionCookie(secure(request)))
        .status(204)
        .send();
    });

    app.get(CONSOLE_ROUTES.snapshot, async (_request, reply) =>
      reply
        .header('Cache-Control', 'no-store')
        .send(await consoleSnapshot(options.store, options.hubId, clock.now())),
    );

    app.get(CONSOLE_ROUTES.events, (request, reply) =>
      feed.serve(request, reply, 'too many consoles are open on this hub; close one'),
    );

    app.get('/v1/console/stores/:storeId', async (request, reply) => {
      const { storeId } = parseRequestPart(storeParams, request.params, 'store id');
      return reply
        .header('Cache-Control', 'no-store')
        .send(await storeDetail(options.store, storeId, clock.now()));
    });

    const action = { onRequest: async (request: FastifyRequest) => requireOwnPage(request) };
    const accepted = (reply: FastifyReply, command: Parameters<typeof commandView>[0]) => {
      feed.changed();
      const answer: ActionAnswer = { command: commandView(command) };
      return reply.status(202).send(answer);
    };

    app.post('/v1/console/stores/:storeId/resync', action, async (request, reply) => {
      const { storeId } = parseRequestPart(storeParams, request.params, 'store id');
      const body = parseRequestPart(resyncRequestSchema, request.body, 'resync request');
      return accepted(reply, await options.commands.requestResync(storeId, body));
    });

    app.post('/v1/console/stores/:storeId/dead-letters/:eventId/retry', action, async (request, reply) => {
      const { storeId, eventId } = parseRequestPart(deadLetterParams, request.params, 'dead letter');
      const body = parseRequestPart(retryRequestSchema, request.body ?? {}, 'retry request');
      return accepted(reply, await options.commands.retryDeadLetter(storeId, eventId, body.note));
    });

    app.post('/v1/console/stores/:storeId/dead-letters/:eventId/discard', action, async (request, reply) => {
      const { storeId, eventId } = parseRequestPart(deadLetterParams, request.params, 'dead letter');
      const body = parseRequestPart(consoleDiscardRequestSchema, request.body, 'discard request');
      return accepted(reply, await options.commands.discardDeadLetter(storeId, eventId, body.note));
    });
  };

  return { admits, register, changed: () => feed.changed() };
}
