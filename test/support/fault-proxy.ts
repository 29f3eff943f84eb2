import net from 'node:net';

/**
 * A TCP proxy on loopback in front of a broker, whose link can be made to fail at run time: the network
 * faults of DESIGN.md promise 1 (cut or stalled link) made on purpose, between one client (the store
 * agent) and the broker, while the hub keeps its own direct connection.
 *
 * - pass: bytes flow both ways.
 * - drop: new connections are reset as soon as they are accepted (a refused connection); current ones
 *   are left alone unless asked.
 * - delay: every chunk is held N ms before it is forwarded, both ways, order kept (a slow link).
 * - black-hole: connections stay open but nothing moves either way (a stalled link); bytes wait in the
 *   socket buffers, as TCP would keep them, and flow again on pass if the endpoints have not given up.
 * - reset(): every current connection is destroyed with a TCP RST, both sides.
 * - cutAfterBytes(n): the next n bytes in one direction get through, then that connection is reset:
 *   a cut in the middle of an MQTT packet, in the middle of a batch.
 *
 * Bounded: at most MAX_LINKS connections, at most MAX_QUEUED_BYTES held per direction (the source is
 * paused beyond it), and close() destroys everything it opened.
 */
export type FaultMode = 'pass' | 'drop' | 'delay' | 'black-hole';
export type Direction = 'up' | 'down';

export interface FaultProxyStats {
  accepted: number;
  active: number;
  refused: number;
  resets: number;
  cuts: number;
  bytesUp: number;
  bytesDown: number;
}

export interface FaultProxy {
  readonly port: number;
  /** mqtt://127.0.0.1:PORT */
  readonly url: string;
  readonly mode: FaultMode;
  pass(): void;
  drop(options?: { resetExisting?: boolean }): void;
  delay(ms: number): void;
  blackHole(): void;
  /** RSTs every current connection; the mode stays as it is. Returns how many were reset. */
  reset(): number;
  /**
   * Lets the next `bytes` bytes through in `direction` (up: client to broker), then resets that
   * connection. Resolves when the cut happened; one cut is armed at a time.
   */
  cutAfterBytes(bytes: number, direction?: Direction): Promise<void>;
  stats(): FaultProxyStats;
  close(): Promise<void>;
}

const MAX_LINKS = 64;
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const RESUME_BELOW_BYTES = 1024 * 1024;

interface Held {
  chunk: Buffer;
  dueAt: number;
}

/** One direction of one connection: what is held back, and whether it may flow. */
class Channel {
  private readonly queue: Held[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sourceEnded = false;
  private destinationEnded = false;
  private waitingForDrain = false;

  constructor(
    private readonly link: Link,
    readonly direction: Direction,
    readonly source: net.Socket,
    readonly destination: () => net.Socket | undefined,
  ) {
    source.on('data', (chunk: Buffer) => this.push(chunk));
    source.on('end', () => {
      this.sourceEnded = true;
      this.flush();
    });
  }

  private push(chunk: Buffer): void {
    this.queue.push({ chunk, dueAt: Date.now() + this.link.proxy.delayMs });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > MAX_QUEUED_BYTES) this.source.pause();
    this.flush();
  }

  /** Forwards what is due, unless the link is stalled, not connected yet, being cut, or the destination is full. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const destination = this.destination();
    const { link } = this;
    if (link.closed || link.cutting || !destination || !link.upstreamReady || link.proxy.stalled) return;
    if (this.waitingForDrain) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.dueAt - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.flush(), wait);
        return;
      }
      this.queue.shift();
      this.queuedBytes -= head.chunk.length;
      const allowed = link.proxy.takeCut(this.direction, head.chunk.length);
      if (allowed !== undefined) {
        // The allowed bytes reach the kernel first, so the peer sees a packet cut short, then the RST.
        link.cutting = true;
        link.proxy.count(this.direction, allowed);
        destination.write(head.chunk.subarray(0, allowed), () => {
          link.reset();
          link.proxy.cutDone();
        });
        return;
      }
      link.proxy.count(this.direction, head.chunk.length);
      if (!destination.write(head.chunk)) {
        this.waitingForDrain = true;
        destination.once('drain', () => {
          this.waitingForDrain = false;
          this.flush();
        });
        return;
      }
    }
    if (this.queuedBytes < RESUME_BELOW_BYTES) this.source.resume();
    if (this.sourceEnded && !this.destinationEnded) {
      // A FIN travels like data: after everything sent before it.
      this.destinationEnded = true;
      destination.end();
    }
  }

  stall(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.source.pause();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

/** A client connection and its upstream connection to the broker. */
class Link {
  upstream: net.Socket | undefined;
  upstreamReady = false;
  closed = false;
  cutting = false;
  private clientClosed = false;
  private upstreamClosed = false;
  private readonly up: Channel;
  private down: Channel | undefined;

  constructor(
    readonly proxy: Proxy,
    readonly client: net.Socket,
  ) {
    client.on('error', () => this.close());
    client.on('close', () => {
      this.clientClosed = true;
      if (!this.upstream || this.upstreamClosed) this.close();
    });
    // Nothing is read until the upstream connection is up (and, in a stall, until the stall ends).
    client.pause();
    this.up = new Channel(this, 'up', client, () => this.upstream);
    if (!proxy.stalled) this.connectUpstream();
  }

  private connectUpstream(): void {
    if (this.upstream || this.closed) return;
    const upstream = net.connect({ host: this.proxy.targetHost, port: this.proxy.targetPort });
    this.upstream = upstream;
    // Broker down: the client's connection dies too, as if the broker had refused it.
    upstream.on('error', () => this.close());
    upstream.on('close', () => {
      this.upstreamClosed = true;
      if (this.clientClosed) this.close();
    });
    upstream.once('connect', () => {
      this.upstreamReady = true;
      if (this.proxy.stalled) upstream.pause();
      this.down = new Channel(this, 'down', upstream, () => this.client);
      this.flush();
    });
  }

  flush(): void {
    if (!this.upstream) {
      if (!this.proxy.stalled) this.connectUpstream();
      return;
    }
    this.up.flush();
    this.down?.flush();
  }

  stall(): void {
    this.up.stall();
    this.down?.stall();
  }

  reset(): void {
    if (this.closed) return;
    resetSocket(this.client);
    if (this.upstream) resetSocket(this.upstream);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.cutting) this.proxy.cutDone();
    this.up.dispose();
    this.down?.dispose();
    if (!this.client.destroyed) this.client.destroy();
    if (this.upstream && !this.upstream.destroyed) this.upstream.destroy();
    this.proxy.forget(this);
  }
}

function resetSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

interface ArmedCut {
  direction: Direction;
  remaining: number;
  resolve: () => void;
}

class Proxy implements FaultProxy {
  readonly links = new Set<Link>();
  mode: FaultMode = 'pass';
  delayMs = 0;
  port = 0;
  private cut: ArmedCut | undefined;
  private cutting: ArmedCut | undefined;
  private readonly counters = { accepted: 0, refused: 0, resets: 0, cuts: 0, bytesUp: 0, bytesDown: 0 };
  private readonly server: net.Server;

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get stalled(): boolean {
    return this.mode === 'black-hole';
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {});
    if (this.mode === 'drop' || this.links.size >= MAX_LINKS) {
      this.counters.refused++;
      resetSocket(socket);
      return;
    }
    this.counters.accepted++;
    this.links.add(new Link(this, socket));
  }

  forget(link: Link): void {
    this.links.delete(link);
  }

  private setMode(mode: FaultMode, delayMs = 0): void {
    this.mode = mode;
    this.delayMs = delayMs;
    if (mode === 'black-hole') for (const link of this.links) link.stall();
    else for (const link of this.links) link.flush();
  }

  pass(): void {
    this.setMode('pass');
  }

  drop(options: { resetExisting?: boolean } = {}): void {
    this.setMode('drop');
    if (options.resetExisting) this.reset();
  }

  delay(ms: number): void {
    this.setMode('delay', ms);
  }

  blackHole(): void {
    this.setMode('black-hole');
  }

  reset(): number {
    const links = [...this.links];
    for (const link of links) link.reset();
    this.counters.resets += links.length;
    return links.length;
  }

  cutAfterBytes(bytes: number, direction: Direction = 'up'): Promise<void> {
    if (this.cut || this.cutting) throw new Error('a cut is already armed');
    return new Promise<void>((resolve) => {
      this.cut = { direction, remaining: bytes, resolve };
    });
  }

  /** Called per forwarded chunk: undefined to forward it whole, or how many of its bytes pass before the cut. */
  takeCut(direction: Direction, length: number): number | undefined {
    const cut = this.cut;
    if (!cut || cut.direction !== direction) return undefined;
    if (length < cut.remaining) {
      cut.remaining -= length;
      return undefined;
    }
    this.cutting = cut;
    this.cut = undefined;
    this.counters.cuts++;
    return cut.remaining;
  }

  cutDone(): void {
    this.cutting?.resolve();
    this.cutting = undefined;
  }

  count(direction: Direction, bytes: number): void {
    if (direction === 'up') this.counters.bytesUp += bytes;
    else this.counters.bytesDown += bytes;
  }

  stats(): FaultProxyStats {
    return { ...this.counters, active: this.links.size };
  }

  async close(): Promise<void> {
    this.mode = 'drop';
    for (const link of [...this.links]) link.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a proxy on a free loopback port that forwards to target (host:port), in pass mode. */
export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const proxy = new Proxy(target.host ?? '127.0.0.1', target.port);
  await proxy.listen();
  return proxy;
}
