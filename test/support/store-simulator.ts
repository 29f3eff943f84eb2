import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import winston from 'winston';
import type { DayResult } from '../../src/contracts/day-close.js';
import {
  acksTopicMessageSchema,
  storeCommandSchema,
  topics,
  type StoreCommand,
  type StoreEventType,
  type StoreStatusMessage,
} from '../../src/contracts/sync-messages.js';
import type { Logger } from '../../src/lib/logger.js';

/** One event of the simulated outbox. */
export interface SimEvent {
  seq: number;
  eventId: string;
  type: StoreEventType;
  /** The body's exact text. */
  text: string;
  businessDay: string | null;
  capturedAt: string;
  acked: boolean;
}

const topic = topics('outpost/v1');

/**
 * Polls `check` until it returns something other than undefined, at most `timeoutMs`; fails naming what
 * it waited for and, when given, what it saw last.
 */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const seen = options.describe?.();
      throw new Error(
        `timed out waiting for ${what}${seen === undefined ? '' : `; last seen: ${JSON.stringify(seen)}`}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/**
 * A lightweight store agent speaking the real protocol (docs/protocol.md) over a real broker, for hub
 * tests that must control what the store holds: an outbox in memory (one epoch), batches published and
 * applied only on their own `batch` acknowledgement, day verdicts collected, a retained status with what
 * head office acknowledged and what is unsent per day, pruning of acknowledged events (the agent's
 * `outbox.ackedRetentionDays`), and answers to `resend` commands with what it still retains.
 */
export class StoreSimulator {
  readonly events = new Map<number, SimEvent>();
  /** The latest verdict per till and day (latest `at` wins, as at the agent). */
  readonly verdicts = new Map<string, DayResult>();
  readonly verdictLog: DayResult[] = [];
  readonly commands: StoreCommand[] = [];
  /** Set to ignore resend commands (a store offline at the time, or one that lost the command). */
  ignoreCommands = false;
  private lastSeq = 0;
  private prunedBelow = 1;

  private constructor(
    private readonly client: MqttClient,
    readonly storeId: string,
    readonly epoch: string,
  ) {
    client.on('message', (t, payload) => {
      if (t === topic.acks(storeId)) this.onAck(payload);
      else if (t === topic.commands(storeId)) void this.onCommand(payload);
    });
  }

  static async connect(url: string, storeId: string, epoch: string): Promise<StoreSimulator> {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clean: true,
      will: {
        topic: topic.status(storeId),
        payload: Buffer.from(JSON.stringify({ v: 1, state: 'offline' })),
        qos: 1,
        retain: true,
      },
    });
    await client.subscribeAsync([topic.acks(storeId), topic.commands(storeId)], { qos: 1 });
    return new StoreSimulator(client, storeId, epoch);
  }

  /** Captures an event as the agent's outbox would: the next seq, a unique eventId, the exact text. */
  capture(type: StoreEventType, body: Record<string, unknown>): SimEvent {
    const seq = ++this.lastSeq;
    const event: SimEvent = {
      seq,
      eventId: `01SIM${this.storeId.replace(/[^A-Za-z0-9]/g, '')}${this.epoch.slice(0, 4)}${String(seq).padStart(10, '0')}`,
      type,
      text: JSON.stringify(body),
      businessDay: typeof body.businessDay === 'string' ? body.businessDay : null,
      capturedAt: new Date(Date.parse('2026-11-23T08:00:00Z') + seq * 1000).toISOString(),
      acked: false,
    };
    this.events.set(seq, event);
    return event;
  }

  /** Publishes every unacknowledged event, in batches of `batchSize`, until all are acknowledged (bounded). */
  async deliver(batchSize = 20, timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      `store ${this.storeId}: every event acknowledged`,
      async () => {
        const unsent = [...this.events.values()].filter((e) => !e.acked);
        if (unsent.length === 0) return true;
        await this.publishEvents(unsent, batchSize);
        await new Promise((r) => setTimeout(r, 300));
        return [...this.events.values()].every((e) => e.acked) ? true : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** Acknowledged events below `seq` are gone, as the agent prunes them after its retention. */
  prune(belowSeq: number): void {
    for (const seq of this.events.keys())
      if (seq < belowSeq && this.events.get(seq)!.acked) this.events.delete(seq);
    this.prunedBelow = Math.max(this.prunedBelow, belowSeq);
  }

  /** Highest seq through which every event is acknowledged (pruned ones were). */
  ackedThrough(): number {
    let through = this.prunedBelow - 1;
    while (this.events.get(through + 1)?.acked) through++;
    return through;
  }

  statusMessage(extra: Partial<StoreStatusMessage> = {}): StoreStatusMessage {
    const unsent = [...this.events.values()].filter((e) => !e.acked);
    const byDay = new Map<string, number>();
    for (const e of unsent) if (e.businessDay) byDay.set(e.businessDay, (byDay.get(e.businessDay) ?? 0) + 1);
    return {
      v: 1,
      state: 'online',
      at: new Date().toISOString(),
      epoch: this.epoch,
      backlog: unsent.length,
      ...(unsent[0] ? { oldestUnsentAt: unsent[0].capturedAt } : {}),
      acked: [{ epoch: this.epoch, through: this.ackedThrough() }],
      unsentByDay: [...byDay].sort().map(([businessDay, count]) => ({ businessDay, count })),
      version: 'simulator',
      ...extra,
    };
  }

  /** The retained status, as the agent publishes it on connect and after changes. */
  async publishStatus(extra: Partial<StoreStatusMessage> = {}): Promise<void> {
    await this.client.publishAsync(topic.status(this.storeId), JSON.stringify(this.statusMessage(extra)), {
      qos: 1,
      retain: true,
    });
  }

  /** The latest verdict head office sent for a till's day that satisfies `matches`, waited for within a bound. */
  waitForVerdict(
    terminalId: string,
    businessDay: string,
    matches: (d: DayResult) => boolean,
    timeoutMs = 15_000,
  ): Promise<DayResult> {
    return waitUntil(
      `store ${this.storeId}: a verdict on ${terminalId} ${businessDay}`,
      async () => {
        const d = this.verdicts.get(`${terminalId}/${businessDay}`);
        return d && matches(d) ? d : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private async publishEvents(events: readonly SimEvent[], batchSize: number): Promise<void> {
    for (let i = 0; i < events.length; i += batchSize) {
      const chunk = events.slice(i, i + batchSize);
      const message = {
        v: 1,
        storeId: this.storeId,
        epoch: this.epoch,
        events: chunk.map((e) => ({
          seq: e.seq,
          eventId: e.eventId,
          type: e.type,
          capturedAt: e.capturedAt,
          body: e.text,
        })),
      };
      await this.client.publishAsync(topic.events(this.storeId), JSON.stringify(message), { qos: 1 });
    }
  }

  private onAck(payload: Buffer): void {
    const message = acksTopicMessageSchema.parse(JSON.parse(payload.toString('utf8')));
    if (message.kind === 'day') {
      const key = `${message.day.terminalId}/${message.day.businessDay}`;
      this.verdictLog.push(message.day);
      const held = this.verdicts.get(key);
      if (!held || Date.parse(message.day.at) >= Date.parse(held.at)) this.verdicts.set(key, message.day);
      return;
    }
    if (message.kind !== 'batch' || message.epoch !== this.epoch) return;
    // Only a batch it sent: same last seq and eventId (batchAckSchema).
    const { firstSeq, lastSeq, lastEventId } = message.batch;
    if (this.events.get(lastSeq)?.eventId !== lastEventId) return;
    for (let seq = firstSeq; seq <= lastSeq; seq++) {
      const event = this.events.get(seq);
      if (event) event.acked = true;
    }
  }

  private async onCommand(payload: Buffer): Promise<void> {
    const command = storeCommandSchema.parse(JSON.parse(payload.toString('utf8')));
    this.commands.push(command);
    if (this.ignoreCommands || command.kind !== 'resend' || command.epoch !== this.epoch) return;
    const retained = retainedFrom(this.events.values(), command.fromSeq);
    await this.publishEvents(retained, 20);
    await this.client.publishAsync(
      topic.events(this.storeId),
      resendReport(this.storeId, this.epoch, command, retained, this.lastSeq),
      { qos: 1 },
    );
  }
}

/** A logger that keeps every entry, for tests that check what the hub logged. */
/** What a simulated store still retains from `fromSeq` on, in seq order: what it publishes again for a resend. */
export function retainedFrom<E extends { seq: number }>(events: Iterable<E>, fromSeq: number): E[] {
  return [...events].filter((e) => e.seq >= fromSeq).sort((a, b) => a.seq - b.seq);
}

/** The store's answer to a resend command, as the agent sends it after the events (docs/protocol.md, "Resync"). */
export function resendReport(
  storeId: string,
  epoch: string,
  command: { requestId: string; fromSeq: number },
  retained: readonly { seq: number }[],
  lastSeq: number,
): string {
  return JSON.stringify({
    v: 1,
    storeId,
    epoch,
    resend: {
      requestId: command.requestId,
      fromSeq: command.fromSeq,
      availableFrom: retained[0]?.seq ?? lastSeq + 1,
      through: lastSeq,
    },
  });
}

export function recordingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      entries.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, entries };
}
