import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { observe } from './disturbance.js';
import { startStagedProcess } from './staged-process.js';

export interface RawMqttResult {
  messages: number;
  events: number;
  bytes: number;
  elapsedS: number;
  eventsPerSecond: number;
  megabytesPerSecond: number;
  /** CPU of the receiving process, % of one core. */
  subscriberCpuPct: number;
  /** CPU used meanwhile by processes that are not the bench's, % of one core. */
  otherCpuPct: number;
}

/**
 * mqtt.js QoS 1 through the broker, nothing else: a publisher (this process, MQTT 3.1.1 like the agent)
 * sends the sync engine's exact `events` messages as fast as mqtt.js takes them, without the engine's
 * in-flight window; a subscriber in another process (as the hub is) counts them. Timed from the first
 * publish until the subscriber holds every message.
 */
export async function measureRawMqtt(
  url: string,
  payloads: readonly string[],
  events: number,
  timeoutMs: number,
): Promise<RawMqttResult> {
  const topic = 'bench/raw/stores/BENCH-RAW/events';
  const subscriber = await startStagedProcess('mqtt-subscriber-child.ts', [
    '--mqtt-url',
    url,
    '--topic',
    topic,
    '--messages',
    String(payloads.length),
  ]);
  try {
    await subscriber.go();
    const publisher = await mqtt.connectAsync(url, {
      clientId: `bench-raw-publisher-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
    });
    try {
      await subscriber.sample(); // starts the subscriber's CPU interval
      const startedAt = performance.now();
      // Observed while the subscriber is still running, so its CPU counts as ours.
      const { result: received, otherCpuPct } = await observe(async () => {
        const acked = Promise.all(
          payloads.map((payload) => publisher.publishAsync(topic, payload, { qos: 1 })),
        );
        const mark = await subscriber.mark('received', timeoutMs);
        await acked;
        return mark;
      });
      const sample = await subscriber.sample();
      const elapsedS = (received.at - startedAt) / 1000;
      const bytes = received.info.bytes ?? 0;
      return {
        messages: payloads.length,
        events,
        bytes,
        elapsedS,
        eventsPerSecond: events / elapsedS,
        megabytesPerSecond: bytes / 1e6 / elapsedS,
        subscriberCpuPct: (sample.cpuMs / sample.elapsedMs) * 100,
        otherCpuPct,
      };
    } finally {
      await publisher.endAsync();
    }
  } finally {
    await subscriber.stop().catch(() => subscriber.kill());
  }
}
