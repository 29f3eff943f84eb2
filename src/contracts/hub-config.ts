import { z } from 'zod';
import { identifier } from './transaction.js';
import { logConfigSchema, mqttConfigSchema } from './agent-config.js';

export const hubConfigSchema = z.strictObject({
  hubId: identifier('hubId'),
  db: z.strictObject({
    /** `sqlite:/path/hub.sqlite` (embedded, the default) or `postgres://user@host/db` (production). */
    url: z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
      error: 'must be sqlite:PATH or a postgres:// URL',
    }),
  }),
  mqtt: mqttConfigSchema.extend({
    /**
     * Hubs in one share group split the stores' event stream between them ($share/{group}/…, MQTT 5).
     * false subscribes directly: for a single hub on a broker without shared subscriptions (the embedded one).
     */
    shareGroup: identifier('shareGroup').or(z.literal(false)).default('outpost-hubs'),
  }),
  api: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8788),
    token: z.string().min(16, { error: 'the operator API token must be at least 16 characters' }),
  }),
  ingest: z
    .strictObject({
      /** Parse and validate batches on a worker thread while the main thread commits (uses a second core). */
      parseWorker: z.stringbool().or(z.boolean()).default(true),
    })
    .default({ parseWorker: true }),
  /** Directory for log files; omitted, logs go to the console only. */
  logDir: z.string().optional(),
  promotions: z.strictObject({ signingKeyFile: z.string().optional() }).default({}),
  log: logConfigSchema,
});

export type HubConfig = z.infer<typeof hubConfigSchema>;
export type HubConfigInput = z.input<typeof hubConfigSchema>;
