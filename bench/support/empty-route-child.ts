/**
 * The HTTP baseline: the same framework (Fastify, default JSON parser, same body limit) with a POST
 * route that reads the JSON body and answers 201 with a body of the capture API's shape, storing nothing.
 * It is the ceiling the capture API can approach on this machine.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { serveUnderControl } from './child-protocol.js';

await serveUnderControl(async () => {
  const app = Fastify({ bodyLimit: 256 * 1024, logger: false });
  let seq = 0;
  app.post('/v1/transactions', async (request, reply) => {
    const body = request.body as { transactionId?: unknown } | null;
    if (typeof body?.transactionId !== 'string') return reply.status(400).send({ error: 'no transactionId' });
    seq += 1;
    return reply.status(201).send({ eventId: `01BENCH${String(seq).padStart(19, '0')}`, seq });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    takeCommits: () => null,
    async stop() {
      await app.close();
      return { answered: seq };
    },
  };
});
