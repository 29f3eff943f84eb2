import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../lib/errors.js';

/** A JSON request body together with the exact text the client sent, which the outbox stores verbatim. */
export interface JsonBody {
  text: string;
  value: unknown;
}

/**
 * Replaces Fastify's parsers with one for JSON that keeps the raw text. Any other content type is
 * answered 415 by Fastify itself; malformed JSON becomes a 400 that quotes the parser's complaint.
 */
export function acceptJsonOnly(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, text, done) => {
    const raw = text as string;
    // Fastify hands an empty body to custom parsers too; JSON.parse would call it "Unexpected end of JSON input".
    if (raw.trim() === '') {
      done(new ValidationError('request body is empty: send the transaction as JSON'), undefined);
      return;
    }
    try {
      done(null, { text: raw, value: JSON.parse(raw) as unknown } satisfies JsonBody);
    } catch (error) {
      const reason = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message;
      done(new ValidationError(`request body is not valid JSON: ${reason}`), undefined);
    }
  });
}
