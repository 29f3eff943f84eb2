import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type RunningBroker } from '../../src/broker/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { testCerts, type CertPair, type TestCerts } from '../support/test-certs.js';

/**
 * The embedded (Aedes) broker with TLS and a client CA: mutual TLS for the demo and fast tests. It has
 * no ACL, so any certificate the CA signed may use any topic; production uses docs/mosquitto.conf.
 */
describe('embedded broker over TLS with client certificates', () => {
  let certs: TestCerts;
  let broker: RunningBroker;
  const clients: MqttClient[] = [];

  const options = (client?: CertPair): IClientOptions => ({
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ca: readFileSync(certs.ca),
    ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
  });

  /** 'connected', or why the connection failed before a CONNACK. */
  function attempt(
    client?: CertPair,
  ): Promise<{ outcome: 'connected' | 'refused'; reason?: string; mqtt: MqttClient }> {
    const c = mqtt.connect(broker.url, options(client));
    clients.push(c);
    return new Promise((resolve) => {
      c.once('connect', () => resolve({ outcome: 'connected', mqtt: c }));
      c.once('error', (error) => resolve({ outcome: 'refused', reason: error.message, mqtt: c }));
      c.once('close', () => resolve({ outcome: 'refused', reason: 'closed', mqtt: c }));
    });
  }

  beforeAll(async () => {
    certs = await testCerts();
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca },
    });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('listens on mqtts://', () => {
    expect(broker.url).toBe(`mqtts://127.0.0.1:${broker.port}`);
  });

  it('accepts a client whose certificate the CA signed, and carries its messages', async () => {
    const result = await attempt(certs.clients.S001);
    expect(result).toMatchObject({ outcome: 'connected' });
    const c = result.mqtt;
    const received = new Promise<string>((resolve) =>
      c.once('message', (_t, payload) => resolve(payload.toString())),
    );
    await c.subscribeAsync('outpost/v1/stores/S001/acks', { qos: 1 });
    await c.publishAsync('outpost/v1/stores/S001/acks', 'hello over mTLS', { qos: 1 });
    await expect(received).resolves.toBe('hello over mTLS');
  });

  it('refuses a client without a certificate', async () => {
    const result = await attempt();
    expect(result.outcome).toBe('refused');
    expect(result.reason).toMatch(/certificate required|ECONNRESET|EPIPE|closed/);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const result = await attempt(certs.rogue);
    expect(result.outcome).toBe('refused');
    expect(result.reason).toMatch(/unknown ca|ECONNRESET|EPIPE|closed/);
  });
});
