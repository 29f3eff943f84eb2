/**
 * A diagnostic server: the capture API exactly as the agent builds it (auth, JSON with raw text, zod
 * validation, canonical hash, logging, error mapping), but with a sink that stores nothing and answers
 * at once. Between the empty route and durable capture, it tells how much of the gap is the capture
 * pipeline's CPU and how much is the durable write.
 */
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { buildCaptureServer } from '../../src/capture/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { serveUnderControl } from './child-protocol.js';
import { benchTerminals } from './terminals.js';

const { values } = parseArgs({ options: { terminals: { type: 'string' } } });

await serveUnderControl(async () => {
  let seq = 0;
  const app = buildCaptureServer({
    sink: {
      capture: async () => {
        seq += 1;
        return { eventId: `01BENCH${String(seq).padStart(19, '0')}`, epoch: 'bench', seq, duplicate: false };
      },
    },
    terminals: benchTerminals(Number(values.terminals ?? '64')),
    bodyLimitBytes: 256 * 1024,
    logger: silentLogger(),
    status: () => {
      throw new Error('not served by the bench');
    },
    promotions: {
      activeJson: () => {
        throw new Error('not served by the bench');
      },
      price: () => {
        throw new Error('not served by the bench');
      },
    },
    healthy: () => ({ ok: true }),
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
