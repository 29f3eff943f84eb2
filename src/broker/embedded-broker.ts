import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../lib/logger.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** PEM file paths; with key and cert the broker speaks MQTT over TLS (mqtts://). With ca, clients must present a certificate it signed. */
  tls?: { key: string; cert: string; ca?: string };
}

export interface RunningBroker {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * The embedded MQTT broker (Aedes, MQTT 3.1.1, in memory) for the one-command demo and fast tests.
 * It keeps nothing across restarts, which is fine: Outpost never relies on broker state. Production
 * uses Mosquitto or a clustered broker (docs/mosquitto.conf).
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<RunningBroker> {
  const aedes = await Aedes.createBroker();
  aedes.on('clientError', (client, error) =>
    options.logger.debug('broker client error', { clientId: client.id, error: error.message }),
  );
  const server = options.tls
    ? tls.createServer(
        {
          key: readFileSync(options.tls.key),
          cert: readFileSync(options.tls.cert),
          ...(options.tls.ca
            ? { ca: readFileSync(options.tls.ca), requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        aedes.handle,
      )
    : net.createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'mqtts' : 'mqtt'}://${options.host}:${port}`;
  options.logger.info('broker started', { url });
  return {
    url,
    port,
    async stop() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
