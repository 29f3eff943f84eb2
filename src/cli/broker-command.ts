import { startEmbeddedBroker } from '../broker/index.js';
import { ConfigError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { runUntilSignal } from './run-until-signal.js';

export async function brokerCommand(options: {
  port: number;
  host: string;
  tlsKey?: string;
  tlsCert?: string;
  tlsCa?: string;
}): Promise<void> {
  if (Boolean(options.tlsKey) !== Boolean(options.tlsCert))
    throw new ConfigError('--tls-key and --tls-cert go together');
  const logger = createLogger({ name: 'broker', level: 'info', console: true });
  const broker = await startEmbeddedBroker({
    host: options.host,
    port: options.port,
    logger,
    ...(options.tlsKey && options.tlsCert
      ? {
          tls: {
            key: options.tlsKey,
            cert: options.tlsCert,
            ...(options.tlsCa ? { ca: options.tlsCa } : {}),
          },
        }
      : {}),
  });
  runUntilSignal(() => broker.stop());
  // One machine-readable line on stdout, so supervisors and tests learn the bound address; written only
  // once a SIGTERM would already stop the process gracefully.
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: broker.url })}\n`);
}
