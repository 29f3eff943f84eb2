import { z } from 'zod';
import { ianaTimeZone } from './promotion.js';
import { SYNC_LIMITS } from './sync-messages.js';
import { identifier } from './transaction.js';

/** Numbers may arrive as strings from environment overrides; anything else that is not a number is an error. */
const port = z.coerce
  .number({ error: 'must be a port number' })
  .int({ error: 'must be a whole number' })
  .min(0, { error: 'must be between 0 and 65535 (0 picks a free port)' })
  .max(65535, { error: 'must be between 0 and 65535 (0 picks a free port)' });

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}, a whole number` })
    .positive({ error: `must be ${what} above 0` });

const filePath = (what: string) =>
  z.string({ error: `must be the path of ${what}` }).min(1, { error: `must be the path of ${what}` });

export const logConfigSchema = z
  .strictObject({
    level: z
      .enum(['error', 'warn', 'info', 'debug'], { error: 'must be one of error, warn, info, debug' })
      .default('info'),
    /** Also write human-readable lines to the console (development, foreground runs). */
    console: z.union([z.stringbool(), z.boolean()], { error: 'must be true or false' }).default(false),
    /** Daily log files are kept this many days. */
    retainDays: positiveInt('a number of days').default(14),
  })
  .default({ level: 'info', console: false, retainDays: 14 });

export const terminalSchema = z.strictObject({
  id: identifier('terminal id'),
  token: z
    .string({ error: 'must be the terminal token, a string' })
    .min(16, { error: 'terminal tokens must be at least 16 characters' })
    .max(256, { error: 'terminal tokens must be at most 256 characters' }),
});

export const mqttConfigSchema = z.strictObject({
  url: z
    .string({ error: 'must be an mqtt://, mqtts://, ws:// or wss:// URL' })
    .regex(/^(mqtts?|wss?|tcp|tls):\/\//, { error: 'must be an mqtt://, mqtts://, ws:// or wss:// URL' }),
  username: z.string({ error: 'must be a string' }).optional(),
  password: z.string({ error: 'must be a string' }).optional(),
  /** File paths to PEM files: the CA that signed the broker, and this client's certificate and key. */
  ca: filePath("a PEM file with the CA that signed the broker's certificate").optional(),
  cert: filePath("a PEM file with this store's client certificate").optional(),
  key: filePath("a PEM file with this store's private key").optional(),
  topicPrefix: z
    .string()
    .regex(/^[^#+]+$/, { error: 'must not contain MQTT wildcards (# or +)' })
    .default('outpost/v1'),
  clientId: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
  keepaliveSeconds: positiveInt('a number of seconds').default(30),
  /**
   * MQTT 5 lets the broker say why it refused a publish (e.g. "not authorised" by an ACL), which then shows
   * in the status; 4 (MQTT 3.1.1) suits every broker, the embedded one included. Hubs default to 5 when
   * they use a shared subscription.
   */
  protocolVersion: z
    .union([z.literal(4), z.literal(5), z.coerce.number().pipe(z.union([z.literal(4), z.literal(5)]))], {
      error: 'must be 4 (MQTT 3.1.1) or 5 (MQTT 5)',
    })
    .optional(),
});

/** The PC's own time zone, where the runtime knows it. */
const pcTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/**
 * An Ed25519 public key as `outpost promo keygen` prints it: SPKI PEM, or its 32 raw bytes in base64. The
 * shape is checked here; that it is a usable Ed25519 key is checked when the agent starts (ConfigError
 * naming the entry), since reading a key takes node:crypto.
 */
const trustedKey = z
  .string({
    error: 'must be a public key: SPKI PEM or 32 bytes in base64, as outpost promo keygen prints it',
  })
  .trim()
  .regex(/^(-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----|[A-Za-z0-9+/_-]{43}=?)$/, {
    error:
      'must be an Ed25519 public key: the SPKI PEM (-----BEGIN PUBLIC KEY-----…) or its 32 bytes in base64, as outpost promo keygen prints it',
  });

export const promotionsConfigSchema = z
  .strictObject({
    /**
     * Head office's promotion signing keys this store accepts (several during a key rotation). Empty: every
     * promotion is refused as signed by an unknown key.
     */
    trustedKeys: z
      .array(trustedKey, { error: 'must be a list of public keys' })
      .max(16, { error: 'at most 16 keys' })
      .default([]),
  })
  .default({ trustedKeys: [] });

/** The store manager's status window, served by the agent at `/` on its API port. */
export const windowConfigSchema = z
  .strictObject({
    /**
     * The manager credential: the window's Retry and Discard need it (typed in the window's confirmation).
     * Without it the window only reads.
     */
    managerToken: z
      .string({ error: 'must be the manager credential, a string' })
      .min(16, { error: 'the manager credential must be at least 16 characters' })
      .max(256, { error: 'the manager credential must be at most 256 characters' })
      .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces (it travels in a header)' })
      .optional(),
    /** Where the built window is; by default beside the agent's code (dist/renderer). */
    filesDir: filePath("the status window's built files (a folder holding index.html)").optional(),
  })
  .default({});

export const agentConfigSchema = z.strictObject({
  storeId: identifier('storeId'),
  /** Optional grouping for promotions targeted at a region. */
  region: identifier('region').optional(),
  /**
   * The store's IANA time zone ("Europe/Paris"): store-local promotion windows are read on this clock.
   * Default: the PC's own zone.
   */
  timeZone: ianaTimeZone.prefault(pcTimeZone),
  dataDir: z.string({ error: 'must be a directory path' }).min(1, { error: 'must be a directory path' }),
  api: z.strictObject({
    host: z
      .string({ error: 'must be an address to listen on, e.g. 0.0.0.0 or 127.0.0.1' })
      .min(1, { error: 'must be an address to listen on, e.g. 0.0.0.0 or 127.0.0.1' })
      .default('127.0.0.1'),
    port: port.default(8787),
    terminals: z
      .array(terminalSchema, { error: 'must be a list of {id, token}, one per terminal' })
      .min(1, { error: 'at least one terminal is needed, or no POS could submit' })
      .refine((ts) => new Set(ts.map((t) => t.id)).size === ts.length, {
        error: 'terminal ids must be unique',
      })
      .refine((ts) => new Set(ts.map((t) => t.token)).size === ts.length, {
        error: 'terminal tokens must be unique',
      }),
    /** Every body accepted must fit one sync message, or the sale could never reach head office. */
    bodyLimitBytes: positiveInt('a number of bytes')
      .max(SYNC_LIMITS.maxBodyBytes, {
        error: `must be at most ${SYNC_LIMITS.maxBodyBytes} (1 MiB): a larger sale would not fit a message to head office`,
      })
      .default(256 * 1024),
  }),
  outbox: z
    .strictObject({
      /** Events head office has acknowledged are kept this long (for re-submission checks and support), then pruned. */
      ackedRetentionDays: positiveInt('a number of days').default(30),
      /** Optional cap on the outbox size; capture answers 503 rather than fill the PC's disk. */
      maxSizeMb: positiveInt('a number of megabytes').optional(),
    })
    .default({ ackedRetentionDays: 30 }),
  mqtt: mqttConfigSchema.optional(),
  /** Delivery tuning; the defaults suit a store. Tests shorten the timeouts. */
  sync: z
    .strictObject({
      batchMaxEvents: positiveInt('a number of events').max(SYNC_LIMITS.maxEventsPerBatch).default(500),
      batchMaxBytes: positiveInt('a number of bytes')
        .max(SYNC_LIMITS.maxBatchBytes)
        .default(1024 * 1024),
      lingerMs: z.coerce
        .number({ error: 'must be a number of milliseconds' })
        .int({ error: 'must be a number of milliseconds, a whole number' })
        .nonnegative({ error: 'must not be negative' })
        .default(5),
      /** Batches and epoch-close parts awaiting head office's answer, at most. */
      maxInFlightBatches: positiveInt('a number of batches')
        .max(SYNC_LIMITS.maxInFlightPerStore, {
          error: `must be at most ${SYNC_LIMITS.maxInFlightPerStore}: a hub holds that many messages of one store awaiting their commit and drops the rest`,
        })
        .default(8),
      ackTimeoutMs: positiveInt('a number of milliseconds').default(10_000),
      reconnectInitialMs: positiveInt('a number of milliseconds').default(500),
      reconnectMaxMs: positiveInt('a number of milliseconds').default(30_000),
    })
    .default({
      batchMaxEvents: 500,
      batchMaxBytes: 1024 * 1024,
      lingerMs: 5,
      maxInFlightBatches: 8,
      ackTimeoutMs: 10_000,
      reconnectInitialMs: 500,
      reconnectMaxMs: 30_000,
    }),
  log: logConfigSchema,
  promotions: promotionsConfigSchema,
  window: windowConfigSchema,
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
export type MqttConfig = z.infer<typeof mqttConfigSchema>;
export type LogConfig = z.infer<typeof logConfigSchema>;
export type PromotionsConfig = z.infer<typeof promotionsConfigSchema>;
export type WindowConfig = z.infer<typeof windowConfigSchema>;
