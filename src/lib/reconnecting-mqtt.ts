import type { IClientOptions, MqttClient } from 'mqtt';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import { defaultMqttConnect, type MqttConnect } from './mqtt-connection.js';

export type LinkState = 'connecting' | 'online' | 'offline';

export interface LinkStatus {
  state: LinkState;
  since: number;
  lastError: string | null;
  /** The error's code where it has one (ECONNREFUSED, ENOTFOUND, SELF_SIGNED_CERT_IN_CHAIN, a CONNACK code). */
  lastErrorCode: string | null;
  /**
   * False until the broker has accepted a connection of this process once (CONNACK). A link that has
   * never been accepted is most likely configured wrong (address, port, certificates, credentials),
   * which waiting will not fix; a refusal after that (a subscription or publish the ACL denies) is not.
   */
  everConnected: boolean;
}

export interface ReconnectingMqttOptions {
  name: string;
  url: string;
  clientOptions: IClientOptions;
  logger: Logger;
  backoff: BackoffPolicy;
  clock?: Clock;
  connect?: MqttConnect;
  /** Called on each fresh client before it connects (e.g. to take over PUBACK timing). */
  configure?: (client: MqttClient) => void;
  /** Subscribe and announce; a throw closes the connection and it is retried. */
  onConnect: (client: MqttClient) => Promise<void>;
  onMessage: (topic: string, payload: Buffer) => void;
  onDown?: () => void;
}

/**
 * One MQTT link that keeps itself up: a fresh mqtt.js client per attempt (so no queue or session of a
 * dead connection is carried over), reconnecting after capped exponential backoff with jitter.
 */
export class ReconnectingMqtt {
  private current: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopped = false;
  private linkState: LinkState = 'connecting';
  private since: number;
  private error: string | null = null;
  private errorCode: string | null = null;
  private everConnected = false;
  private readonly clock: Clock;

  constructor(private readonly options: ReconnectingMqttOptions) {
    this.clock = options.clock ?? systemClock;
    this.since = this.clock.now();
  }

  get client(): MqttClient | undefined {
    return this.current?.connected ? this.current : undefined;
  }

  status(): LinkStatus {
    return {
      state: this.linkState,
      since: this.since,
      lastError: this.error,
      lastErrorCode: this.errorCode,
      everConnected: this.everConnected,
    };
  }

  /** Records a problem seen on a live link (e.g. a refused publish), shown as lastError in the status. */
  noteError(message: string): void {
    this.error = message;
    this.errorCode = null;
  }

  private recordError(error: unknown): void {
    this.error = errorMessage(error);
    const code = (error as { code?: unknown } | null)?.code;
    this.errorCode = typeof code === 'string' || typeof code === 'number' ? String(code) : null;
  }

  start(): void {
    this.open();
  }

  /** Closes the link; `farewell` may still publish on it first (e.g. a retained offline status). */
  async stop(farewell?: (client: MqttClient) => Promise<void>): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.current;
    this.current = undefined;
    if (client?.connected && farewell) await farewell(client).catch(() => {});
    await client?.endAsync(true).catch(() => {});
  }

  private setState(state: LinkState): void {
    if (state === this.linkState) return;
    this.linkState = state;
    this.since = this.clock.now();
    this.options.logger.info('mqtt link', { link: this.options.name, state, error: this.error ?? undefined });
  }

  private open(): void {
    if (this.stopped) return;
    const client = (this.options.connect ?? defaultMqttConnect)(this.options.url, this.options.clientOptions);
    this.current = client;
    this.options.configure?.(client);
    let attemptFailed = false;
    client.on('connect', () => {
      // The broker accepted this process (address, TLS and credentials are right), whatever happens next.
      this.everConnected = true;
      this.options.onConnect(client).then(
        () => {
          if (client !== this.current) return;
          this.attempts = 0;
          this.error = null;
          this.errorCode = null;
          this.setState('online');
        },
        (error: unknown) => {
          attemptFailed = true;
          this.recordError(error);
          this.options.logger.warn('mqtt setup failed; reconnecting', {
            link: this.options.name,
            error: this.error,
          });
          client.end(true);
        },
      );
    });
    client.on('message', (topic, payload) => this.options.onMessage(topic, payload));
    client.on('error', (error) => {
      attemptFailed = true;
      this.recordError(error);
      this.options.logger.warn('mqtt error', { link: this.options.name, error: this.error });
    });
    client.on('close', () => {
      if (client !== this.current) return;
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      this.current = undefined;
      if (this.stopped) return;
      // A connection that ends without a word (a TLS port spoken to in plain MQTT, a connect timeout)
      // still has to say something in the status.
      if (!attemptFailed && this.linkState !== 'online') {
        this.error = 'the connection closed before the broker accepted it';
        this.errorCode = null;
      }
      this.setState('offline');
      this.options.onDown?.();
      this.timer = setTimeout(() => this.open(), backoffDelay(this.attempts++, this.options.backoff));
    });
  }
}
