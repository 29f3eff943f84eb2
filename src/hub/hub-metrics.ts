import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one hub process, on its own registry (several hubs may share a test process). */
export function createHubMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    events: new Counter({
      name: 'outpost_hub_events_total',
      help: 'Events received, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    batches: new Counter({
      name: 'outpost_hub_batches_total',
      help: 'Event batches committed',
      registers: [registry],
    }),
    refusedMessages: new Counter({
      name: 'outpost_hub_refused_messages_total',
      help: 'MQTT messages refused whole (malformed, oversized, wrong topic)',
      registers: [registry],
    }),
    failedCommits: new Counter({
      name: 'outpost_hub_failed_commits_total',
      help: 'Commits that failed (a database bound hit, a lost connection); their stores publish them again',
      registers: [registry],
    }),
    droppedMessages: new Counter({
      name: 'outpost_hub_dropped_messages_total',
      help: 'Messages dropped because their store already had many waiting (its commits are stuck); republished by the store',
      registers: [registry],
    }),
    poolErrors: new Counter({
      name: 'outpost_hub_db_pool_errors_total',
      help: 'Errors on idle pooled database connections (server restart, dropped link); the pool replaces them',
      registers: [registry],
    }),
    promotionVersions: new Counter({
      name: 'outpost_hub_promotion_versions_total',
      help: 'Promotion versions this hub signed and stored, by origin (push, activate, auto-activate, withdraw)',
      labelNames: ['origin'] as const,
      registers: [registry],
    }),
    promotionCatalogues: new Counter({
      name: 'outpost_hub_promotion_catalogues_total',
      help: "Stores' catalogue statements this hub answered, by outcome (in-sync, re-offered, ignored)",
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    promotionReoffers: new Counter({
      name: 'outpost_hub_promotion_reoffers_total',
      help: 'Promotion versions re-offered to stores that lacked them',
      registers: [registry],
    }),
    dayVerdicts: new Counter({
      name: 'outpost_hub_day_verdicts_sent_total',
      help: "Verdicts on tills' business days published to their stores, by state (confirmed, mismatch)",
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    resendCommands: new Counter({
      name: 'outpost_hub_resend_commands_total',
      help: 'Resend commands this hub published to stores whose acknowledged events the hub no longer holds (first ask, or again)',
      labelNames: ['ask'] as const,
      registers: [registry],
    }),
    unrecoverableSeqs: new Counter({
      name: 'outpost_hub_unrecoverable_seqs_total',
      help: 'Seqs head office lost that their stores no longer had when asked to resend them',
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: 'outpost_hub_ingest_seconds',
      help: 'Time from receiving a batch to its durable commit',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}

export type HubMetrics = ReturnType<typeof createHubMetrics>;
