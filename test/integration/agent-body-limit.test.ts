import http from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeTerminals, spawnAgent, type AgentProcess } from '../support/spawn-agent.js';
import { sale } from '../support/pos-payloads.js';

/**
 * A body over api.bodyLimitBytes gets a 413 that states the limit, and the client gets it even while it
 * is still sending. Answering before the body is read and closing resets the connection under a client
 * that is still writing: Node's own http client then reports EPIPE (or ECONNRESET) instead of the 413,
 * most of the time for a 1 MB body. The agent runs in its own process, as in a store: in the test's
 * process, client and server would take turns on one event loop and the race would not show.
 */

const TERMINALS = makeTerminals(['T1']);
/** The default api.bodyLimitBytes. */
const LIMIT = 256 * 1024;
/** Each try is a fresh connection; a fault that shows about half the time shows in 30 tries for sure. */
const TRIES = 30;
let agent: AgentProcess;

// spawn-agent kills what a test leaves running after each test: every test has an agent of its own.
beforeEach(async () => {
  agent = await spawnAgent({ terminals: TERMINALS });
});

/** POSTs `size` bytes with Node's http client, writing in chunks as a till's HTTP stack would. */
function postLarge(size: number, chunked: boolean): Promise<string> {
  return new Promise((resolve) => {
    const url = new URL(`${agent.url}/v1/transactions`);
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${TERMINALS[0]!.token}`,
          'content-type': 'application/json',
          ...(chunked ? {} : { 'content-length': String(size) }),
        },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve(`${response.statusCode} ${(JSON.parse(body) as { error: string }).error}`),
        );
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve(`failed: ${error.code ?? error.message}`),
        );
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve(`failed: ${error.code ?? error.message}`));
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    let sent = 0;
    const writeMore = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!request.write(chunk.subarray(0, n))) {
          request.once('drain', writeMore);
          return;
        }
      }
      request.end();
    };
    writeMore();
  });
}

describe('agent: a body over api.bodyLimitBytes', () => {
  it.each([
    ['1 MB with a Content-Length', 1024 * 1024, false],
    ['4 MB with a Content-Length', 4 * 1024 * 1024, false],
    ['1 MB sent chunked, without a length', 1024 * 1024, true],
  ])(
    'answers 413 stating the limit to a client still sending %s, every time',
    async (_what, size, chunked) => {
      const outcomes = new Map<string, number>();
      for (let i = 0; i < TRIES; i += 1) {
        const outcome = await postLarge(size, chunked);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      expect(Object.fromEntries(outcomes)).toEqual({
        [`413 request body is too large: ${size} bytes, the limit is ${LIMIT} bytes (api.bodyLimitBytes)`]:
          TRIES,
      });
    },
  );

  it('stores none of the oversized bodies, and takes the next sale as seq 1', async () => {
    await postLarge(1024 * 1024, false);
    const response = await fetch(`${agent.url}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TERMINALS[0]!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(sale({ transactionId: 'after-413' })),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ seq: 1 });
  });
});
