import { z } from 'zod';
import { identifier } from './transaction.js';
import { logConfigSchema, mqttConfigSchema } from './agent-config.js';

/** A duration in milliseconds within sane bounds; environment overrides arrive as strings. */
const millis = (min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int({ error: 'must be a whole number of milliseconds' })
    .min(min, { error: `must be at least ${min} ms` })
    .max(max, { error: `must be at most ${max} ms` })
    .default(fallback);

/**
 * Where the hub keeps its data, and how long it may wait on it. Every wait is bounded, so one stuck
 * statement (an operator's psql session holding a row lock, a lost connection) fails and is retried by
 * its store instead of wedging the hub; the bounds are generous next to a batch commit (milliseconds).
 */
export const hubDbConfigSchema = z
  .strictObject({
    /** `sqlite:/path/hub.sqlite` (embedded, the default) or `postgres://user@host/db` (production). */
    url: z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
      error: 'must be sqlite:PATH or a postgres:// URL',
    }),
    /** PostgreSQL connections per hub process; ingest commits up to poolSize − 1 stores at once, the operator API keeps one. */
    poolSize: z.coerce
      .number({ error: 'must be a number of connections' })
      .int()
      .min(2, { error: 'must be at least 2 (one for ingest, one for the operator API)' })
      .max(100, { error: 'must be at most 100' })
      .default(10),
    /** PostgreSQL: waiting for a connection (new, or free in the pool). */
    connectTimeoutMs: millis(100, 60_000, 5_000),
    /** PostgreSQL `statement_timeout`: any one statement; the client gives up shortly after, should the server not answer. */
    statementTimeoutMs: millis(100, 600_000, 15_000),
    /** PostgreSQL `lock_timeout`: waiting for a row or table lock (e.g. another session holding a store's stream row). */
    lockTimeoutMs: millis(10, 600_000, 5_000),
    /** PostgreSQL `idle_in_transaction_session_timeout`: a session of ours left inside a transaction. */
    idleInTransactionTimeoutMs: millis(1_000, 3_600_000, 60_000),
    /** SQLite busy timeout: waiting for another process's write lock on the file (blocks the hub meanwhile). */
    busyTimeoutMs: millis(0, 60_000, 5_000),
    /**
     * PostgreSQL: whole business months kept before the current one. Older months of events are dropped,
     * a month at a time, once every till-day of it is confirmed and no epoch still needs its rows
     * (docs/scale.md, "Retention"). Absent: every event is kept.
     */
    retentionMonths: z.coerce
      .number({ error: 'must be a number of months' })
      .int({ error: 'must be a whole number of months' })
      .min(2, { error: 'must be at least 2: the current and the previous business month always stay' })
      .max(1200, { error: 'must be at most 1200' })
      .optional(),
  })
  .refine((db) => db.lockTimeoutMs <= db.statementTimeoutMs, {
    error: 'lockTimeoutMs must not exceed statementTimeoutMs',
    path: ['lockTimeoutMs'],
  })
  .refine((db) => db.retentionMonths === undefined || !db.url.startsWith('sqlite:'), {
    error:
      'applies only to a PostgreSQL hub database (db.url postgres://…): the SQLite hub keeps every event in one table',
    path: ['retentionMonths'],
  });

export const hubConfigSchema = z.strictObject({
  hubId: identifier('hubId'),
  db: hubDbConfigSchema,
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
      /** /healthz fails while a store's commit has been waiting on the database longer than this. */
      stuckAfterMs: millis(100, 600_000, 5_000),
      /** …and for this long after a store's commit failed, until one of that store epoch's commits succeeds. */
      failureHoldMs: millis(1_000, 3_600_000, 60_000),
    })
    .prefault({}),
  /**
   * Getting back what a restored hub database lost (docs/protocol.md, "Resync"): a store whose status
   * says head office acknowledged more than the hub holds is asked to send it again.
   */
  resync: z
    .strictObject({
      /** An unanswered resend command is sent again after this long, while the store is online. */
      reaskAfterMs: millis(1_000, 86_400_000, 60_000),
      /** How often a hub looks for unanswered resend commands of online stores. */
      sweepEveryMs: millis(100, 3_600_000, 15_000),
    })
    .prefault({}),
  /** The operator's console at `/` (README, "Operator's console"). */
  console: z
    .strictObject({
      /** Where the built console is (index.html and its assets) when not beside the hub's code (dist/console). */
      filesDir: z.string().optional(),
    })
    .prefault({}),
  /** Directory for log files; omitted, logs go to the console only. */
  logDir: z.string().optional(),
  promotions: z.strictObject({ signingKeyFile: z.string().optional() }).default({}),
  log: logConfigSchema,
});

export type HubConfig = z.infer<typeof hubConfigSchema>;
export type HubConfigInput = z.input<typeof hubConfigSchema>;
export type HubDbConfig = z.infer<typeof hubDbConfigSchema>;
export type HubDbConfigInput = z.input<typeof hubDbConfigSchema>;
