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
    ingestSeconds: new Histogram({
      name: 'outpost_hub_ingest_seconds',
      help: 'Time from receiving a batch to its durable commit',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}

export type HubMetrics = ReturnType<typeof createHubMetrics>;
