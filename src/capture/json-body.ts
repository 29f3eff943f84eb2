import type { FastifyInstance } from 'fastify';
import { PayloadTooLargeError, ValidationError } from '../lib/errors.js';

/** A JSON request body together with the exact text the client sent, which the outbox stores verbatim. */
export interface JsonBody {
  text: string;
  value: unknown;
}

/**
 * How much of an oversized body is read and thrown away so that its sender gets the 413. A server that
 * answers and closes while a client is still sending resets the connection, and a client such as Node's
 * http module then sees EPIPE or ECONNRESET instead of the answer. Beyond this the connection is closed
 * unread: a client sending that much is not a till.
 */
const DISCARD_AT_MOST_BYTES = 16 * 1024 * 1024;

/**
 * Replaces Fastify's parsers with one for JSON that keeps the raw text. Any other content type is
 * answered 415 by Fastify itself; malformed JSON becomes a 400 that quotes the parser's complaint; a body
 * over the limit becomes a 413 stating the limit, once the body has been read (and discarded).
 */
export function acceptJsonOnly(
  app: FastifyInstance,
  bodyLimit: number,
  limitName = 'api.bodyLimitBytes',
): void {
  const tooLarge = (received: string) =>
    new PayloadTooLargeError(
      `request body is too large: ${received}, the limit is ${bodyLimit} bytes (${limitName})`,
      bodyLimit,
    );
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', (request, payload, done) => {
    const declared = Number(request.headers['content-length']);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (error: Error | null, body?: JsonBody) => {
      if (settled) return;
      settled = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      done(error, body);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += buffer.length;
      if (received <= bodyLimit) chunks.push(buffer);
      else if (received > bodyLimit + DISCARD_AT_MOST_BYTES) finish(tooLarge(`over ${received} bytes`));
    };
    const onEnd = () => {
      if (received > bodyLimit) return finish(tooLarge(`${received} bytes`));
      if (!Number.isNaN(declared) && declared !== received)
        return finish(new ValidationError('Content-Length does not match the body'));
      const raw = Buffer.concat(chunks, received).toString('utf8');
      // An empty body would otherwise be JSON.parse's "Unexpected end of JSON input".
      if (raw.trim() === '')
        return finish(new ValidationError('request body is empty: send the transaction as JSON'));
      try {
        finish(null, { text: raw, value: JSON.parse(raw) as unknown });
      } catch (error) {
        const reason = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message;
        finish(new ValidationError(`request body is not valid JSON: ${reason}`));
      }
    };
    const onError = (error: Error) => finish(error);
    if (!Number.isNaN(declared) && declared > bodyLimit + DISCARD_AT_MOST_BYTES) {
      finish(tooLarge(`${declared} bytes`));
      return;
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}
