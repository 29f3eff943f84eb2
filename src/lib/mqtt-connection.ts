import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../contracts/agent-config.js';

export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

export const defaultMqttConnect: MqttConnect = (url, options) => mqtt.connect(url, options);

/**
 * Client options shared by agent and hub: TLS material read from files, credentials, and no automatic
 * reconnect (the caller reconnects with its own jittered backoff, on a fresh client each time, so that
 * nothing depends on mqtt.js's in-memory queues or the broker's session).
 */
export function mqttClientOptions(
  config: Pick<
    MqttConfig,
    'username' | 'password' | 'ca' | 'cert' | 'key' | 'keepaliveSeconds' | 'protocolVersion'
  >,
  extra: IClientOptions,
): IClientOptions {
  const options: IClientOptions = {
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: config.keepaliveSeconds,
    clean: true,
    resubscribe: false,
    queueQoSZero: false,
    ...extra,
  };
  if (config.protocolVersion !== undefined) options.protocolVersion = config.protocolVersion;
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (config.ca) options.ca = readFileSync(config.ca);
  if (config.cert) options.cert = readFileSync(config.cert);
  if (config.key) options.key = readFileSync(config.key);
  return options;
}
