import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

export interface SseFanoutOptions {
  /**
   * Builds the current message: `data` is one SSE event's JSON, `fingerprint` what must differ for it to
   * be news (e.g. the data without its timestamp), so an unchanged picture is not sent again.
   */
  build(): Promise<{ data: string; fingerprint: string }>;
  logger: Logger;
  /** What the log names the stream after. */
  name: string;
  /** A comment line this often keeps idle streams (and any proxy between) open. */
  heartbeatMs?: number;
  maxStreams?: number;
  /** Changes are coalesced: at most one build this often, and never more often than 4× the last build took. */
  minIntervalMs?: number;
  /** While a stream is open, build this often even without a change notice (writes by other processes). */
  refreshEveryMs?: number;
  /** How long the browser waits before reconnecting a lost stream. */
  retryMs?: number;
  /**
   * Where change notices come from, heard only while a stream is open: called with `changed` when the
   * first stream opens, its answer (the unsubscribe) when the last one closes. A source that runs timers
   * for its listeners runs none while nobody looks.
   */
  subscribe?: (changed: () => void) => () => void;
  /** Milliseconds from a clock that never steps back (tests pass a fake); performance.now by default. */
  monotonic?: () => number;
}

/** The log event of a failed build; the stream's name is a field. */
export const LIVE_UPDATE_FAILED = 'live update could not be built';

interface Stream {
  response: ServerResponse;
  /** A message was skipped while the client was slow to read; the latest is sent on 'drain'. */
  behind: boolean;
  /** The fingerprint of the last message written to it. */
  sent: string | undefined;
}

/**
 * Server-sent events to many pages from one source: a change (or the refresh timer) builds one message
 * and the same text goes to every stream. Changes arriving while a build runs, or sooner than the minimum
 * interval, fold into one later build; a stream slow to read is skipped until its socket drains, then gets
 * the latest message, so a stuck browser never makes the server buffer. Every (re)connection starts with
 * the whole picture; heartbeat comments keep idle connections open.
 */
export class SseFanout {
  private readonly streams = new Set<Stream>();
  private latest: { data: string; fingerprint: string; at: number } | undefined;
  private lastBuildMs = 0;
  private building: Promise<void> | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private refresh: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: SseFanoutOptions) {
    this.now = options.monotonic ?? (() => performance.now());
  }

  get size(): number {
    return this.streams.size;
  }

  hasRoom(): boolean {
    return !this.closed && this.streams.size < (this.options.maxStreams ?? 32);
  }

  /**
   * Answers a Fastify request with a stream, or with 503 and `busy` (the page's EventSource retries) when
   * as many streams are open as allowed.
   */
  async serve(request: FastifyRequest, reply: FastifyReply, busy: string): Promise<void> {
    if (!this.hasRoom()) {
      reply.status(503).header('Retry-After', '5').send({ error: busy });
      return;
    }
    reply.hijack();
    await this.open(request.raw, reply.raw);
  }

  /** Takes over the response (the caller has hijacked it) and sends the current picture. */
  async open(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // An API's idle timeout is for requests; a stream is long-lived, kept open by the heartbeat.
    request.socket.setTimeout(0);
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const stream: Stream = { response, behind: false, sent: undefined };
    this.streams.add(stream);
    const forget = () => this.forget(stream);
    response.on('close', forget);
    response.on('error', forget);
    response.on('drain', () => {
      if (!stream.behind || !this.latest) return;
      stream.behind = false;
      this.write(stream, this.latest);
    });
    if (this.streams.size === 1) this.startTimers();
    response.write(`retry: ${this.options.retryMs ?? 2000}\n\n`);
    const fresh = this.latest && this.now() - this.latest.at < (this.options.minIntervalMs ?? 1000);
    if (fresh) this.write(stream, this.latest!);
    else await this.buildNow();
  }

  /** Something the message shows may have changed. Cheap: call it from hot paths. */
  changed(): void {
    if (this.closed || this.streams.size === 0) return;
    this.dirty = true;
    if (this.timer || this.building) return;
    const interval = Math.max(this.options.minIntervalMs ?? 1000, 4 * this.lastBuildMs);
    const wait = this.latest ? Math.max(0, this.latest.at + interval - this.now()) : 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.buildNow();
    }, wait);
    this.timer.unref();
  }

  closeAll(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const stream of [...this.streams]) {
      stream.response.end();
      this.forget(stream);
    }
  }

  private startTimers(): void {
    this.unsubscribe = this.options.subscribe?.(() => this.changed());
    this.heartbeat = setInterval(() => {
      for (const stream of this.streams) if (!stream.behind) stream.response.write(': keep-alive\n\n');
    }, this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    if (this.options.refreshEveryMs) {
      this.refresh = setInterval(() => this.changed(), this.options.refreshEveryMs);
      this.refresh.unref();
    }
  }

  private forget(stream: Stream): void {
    if (!this.streams.delete(stream) || this.streams.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.heartbeat);
    clearInterval(this.refresh);
    clearTimeout(this.timer);
    this.heartbeat = this.refresh = this.timer = undefined;
  }

  /** One build for every stream; changes during it are folded into one more (after the interval). */
  private buildNow(): Promise<void> {
    this.building ??= (async () => {
      this.dirty = false;
      const started = this.now();
      try {
        const built = await this.options.build();
        this.lastBuildMs = this.now() - started;
        this.latest = { ...built, at: this.now() };
        for (const stream of this.streams) if (stream.sent !== built.fingerprint) this.write(stream, built);
      } catch (error) {
        // One event name whatever the stream, so that log readers (and the window's notices) know it.
        this.options.logger.warn(LIVE_UPDATE_FAILED, {
          stream: this.options.name,
          error: errorMessage(error),
        });
      } finally {
        this.building = undefined;
      }
      if (this.dirty) this.changed();
    })();
    return this.building;
  }

  private write(stream: Stream, message: { data: string; fingerprint: string }): void {
    if (stream.response.writableNeedDrain) {
      stream.behind = true;
      return;
    }
    stream.sent = message.fingerprint;
    stream.response.write(`data: ${message.data}\n\n`);
  }
}
