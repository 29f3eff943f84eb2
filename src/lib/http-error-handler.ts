import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { ApiError } from '../contracts/api.js';
import {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  NotConfiguredError,
  NotFoundError,
  PayloadTooLargeError,
  StorageUnavailableError,
  ValidationError,
} from './errors.js';
import type { Logger } from './logger.js';

/** Fastify's own client-error codes, reworded for someone integrating a POS. */
const FASTIFY_CLIENT_ERRORS: Record<string, (error: FastifyError) => string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => 'unsupported Content-Type: send the body as application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: () => 'request body is too large',
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'request body is empty: send the transaction as JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => 'Content-Length does not match the body',
};

/**
 * The one place typed errors become HTTP statuses and `{error, issues}` bodies. A client's mistake is
 * always a 4xx naming what is wrong; only a fault of our own is a 500, and it is logged.
 */
export function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setNotFoundHandler((request, reply) => {
    void send(reply, 404, {
      error: `no such endpoint: ${request.method} ${request.url.split('?')[0] ?? ''}`,
    });
  });
  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof ValidationError)
      return send(reply, 400, { error: error.message, issues: error.issues });
    if (error instanceof AuthenticationError) {
      void reply.header('www-authenticate', 'Bearer');
      return send(reply, 401, { error: error.message });
    }
    if (error instanceof ForbiddenError) return send(reply, 403, { error: error.message });
    if (error instanceof NotFoundError) return send(reply, 404, { error: error.message });
    if (error instanceof ConflictError) return send(reply, 409, { error: error.message });
    if (error instanceof PayloadTooLargeError) return send(reply, 413, { error: error.message });
    if (error instanceof NotConfiguredError) return send(reply, 501, { error: error.message });
    if (error instanceof StorageUnavailableError) {
      void reply.header('retry-after', '5');
      return send(reply, 503, { error: error.message });
    }
    const fastifyError = error as FastifyError;
    const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
    if (status >= 400 && status < 500) {
      const reword = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
      return send(reply, status, { error: reword ? reword(fastifyError) : fastifyError.message });
    }
    logger.error('request failed', {
      method: request.method,
      url: request.url,
      error: String(error),
      stack: (error as Error)?.stack,
    });
    return send(reply, 500, { error: 'internal error; it has been logged' });
  });
}

function send(reply: FastifyReply, status: number, body: ApiError) {
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}
