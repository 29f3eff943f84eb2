import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { signedTotal } from '../contracts/transaction.js';
import type { AgentStatus } from '../contracts/status.js';
import { textDigest } from '../lib/canonical-hash.js';
import { AuthenticationError, ForbiddenError, ValidationError } from '../lib/errors.js';
import { installErrorHandling } from '../lib/http-error-handler.js';
import type { Logger } from '../lib/logger.js';
import type { CaptureInput, CaptureResult } from '../sync/index.js';
import { registerBusinessDayRoutes, type DayCloseSink } from './business-day-routes.js';
import { acceptJsonOnly, type JsonBody } from './json-body.js';
import { registerPromotionRoutes, type StorePromotions } from './promotion-routes.js';
import { createTerminalAuthenticator, type TerminalCredential } from './terminal-auth.js';
import { validateTransaction } from './validate-transaction.js';
import { registerWindowRoutes, type WindowRoutesOptions } from './window-routes.js';
import { isLocalReader } from './loopback-reader.js';

export interface CaptureSink {
  capture(input: CaptureInput): Promise<CaptureResult>;
}

export interface CaptureServerOptions {
  sink: CaptureSink;
  terminals: readonly TerminalCredential[];
  bodyLimitBytes: number;
  logger: Logger;
  status: () => AgentStatus;
  /** Promotions in force and basket pricing, for this store; answered from memory, so they work offline. */
  promotions: StorePromotions;
  /** The wall clock, for "now" in promotion answers. */
  now?: () => number;
  /** True while the outbox can take writes; /healthz reports 503 otherwise. */
  healthy: () => { ok: boolean; reason?: string };
  /** The status window's page, snapshot, live updates and actions (window-routes.ts). */
  window?: Omit<WindowRoutesOptions, 'isTerminalToken' | 'logger'>;
  /** Tills' closes of their business days (business-day-routes.ts); without it the route is not served. */
  dayCloses?: DayCloseSink;
}

/** The POS-facing HTTP API of the store agent (DESIGN.md, "Agent HTTP API"). Knows nothing of MQTT. */
export function buildCaptureServer(options: CaptureServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes,
    // A till that opens a connection and stalls must not hold a socket for ever.
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 65_000,
    logger: false,
    return503OnClosing: true,
  });
  installErrorHandling(app, options.logger);
  acceptJsonOnly(app, options.bodyLimitBytes);
  const authenticate = createTerminalAuthenticator(options.terminals);

  const requireTerminal = (request: FastifyRequest): string => {
    const header = request.headers.authorization;
    if (!header)
      throw new AuthenticationError(
        'missing Authorization header: send "Authorization: Bearer <terminal token>"',
      );
    if (!/^Bearer\s/i.test(header))
      throw new AuthenticationError(
        'the Authorization header must use the Bearer scheme: "Bearer <terminal token>"',
      );
    const terminalId = authenticate(header);
    if (!terminalId) throw new AuthenticationError('unknown terminal token');
    return terminalId;
  };

  // Credentials are checked before the body is read: an unknown caller cannot make the agent parse anything.
  const terminalOf = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request) => {
    const url = request.url;
    if (
      url.startsWith('/v1/transactions') ||
      url.startsWith('/v1/promotions') ||
      url.startsWith('/v1/baskets') ||
      url.startsWith('/v1/business-days')
    ) {
      terminalOf.set(request, requireTerminal(request));
    } else if (url.startsWith('/v1/status')) {
      // The store manager's own PC may read status without a token; anything else on the LAN needs one.
      if (!isLocalReader(request)) requireTerminal(request);
    }
  });

  app.post('/v1/transactions', async (request, reply) => {
    const terminalId = terminalOf.get(request)!;
    const body = request.body as JsonBody | undefined;
    if (!body)
      throw new ValidationError(
        'request body is empty: send the transaction as JSON with Content-Type application/json',
      );
    const tx = validateTransaction(body.value);
    if (tx.terminalId !== terminalId) {
      throw new ForbiddenError(
        `this token belongs to terminal ${terminalId}, but the transaction says terminalId ${tx.terminalId}`,
      );
    }
    const result = await options.sink.capture({
      terminalId: tx.terminalId,
      transactionId: tx.transactionId,
      type: tx.type,
      currency: tx.currency,
      signedTotal: signedTotal(tx),
      body: body.text,
      bodyHash: textDigest(body.text),
      businessDay: tx.businessDay,
    });
    options.logger.info(result.duplicate ? 'capture repeated' : 'captured', {
      eventId: result.eventId,
      transactionId: tx.transactionId,
      terminalId,
      type: tx.type,
      epoch: result.epoch,
      seq: result.seq,
    });
    if (result.duplicate)
      return reply.status(200).send({ eventId: result.eventId, seq: result.seq, duplicate: true });
    return reply.status(201).send({ eventId: result.eventId, seq: result.seq });
  });

  registerPromotionRoutes(app, options.promotions, options.now ?? Date.now);

  if (options.dayCloses)
    registerBusinessDayRoutes(app, {
      sink: options.dayCloses,
      terminalOf: (request) => terminalOf.get(request)!,
      logger: options.logger,
    });

  app.get('/v1/status', async () => options.status());

  if (options.window)
    registerWindowRoutes(app, {
      ...options.window,
      isTerminalToken: (authorization) => authenticate(authorization) !== undefined,
      logger: options.logger,
    });

  app.get('/healthz', async (_request, reply) => {
    const health = options.healthy();
    return reply
      .status(health.ok ? 200 : 503)
      .send(health.ok ? { ok: true } : { ok: false, reason: health.reason });
  });

  return app;
}
