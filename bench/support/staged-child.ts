import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { PROFILE_ENV, type Figures, type StagedCommand, type StagedMessage } from './staged-protocol.js';

export interface StagedChildContext {
  /** Tells the parent that something happened now (e.g. the hub committed the last backlog event). */
  mark(name: string, info?: Figures): void;
}

export interface StagedServer {
  url: string;
  /** Figures since the previous call (the child resets its own counters). */
  takeFigures(): Figures;
  stop(): Promise<Record<string, number | string>>;
}

function send(message: StagedMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const describe = (error: unknown) =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);

/** The child side: says it is loaded, starts on `go`, answers `sample` and `stop`, exits when stdin closes. */
export function runStagedChild(start: (context: StagedChildContext) => Promise<StagedServer>): void {
  let server: StagedServer | undefined;
  let lastAt = 0;
  let lastCpu = process.cpuUsage();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let stopping = false;
  const context: StagedChildContext = { mark: (name, info = {}) => send({ type: 'mark', name, info }) };
  const resetInterval = () => {
    lastAt = performance.now();
    lastCpu = process.cpuUsage();
    lastElu = performance.eventLoopUtilization();
  };

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      const info = server ? await server.stop() : {};
      send({ type: 'stopped', info });
      // A plain exit once the reply is out (stdout to a pipe is synchronous on Linux).
      process.exit(0);
    } catch (error) {
      send({ type: 'error', message: describe(error) });
      process.exit(1);
    }
  };

  const profileFile = process.env[PROFILE_ENV];
  let profiler: Session | undefined;
  const startProfiler = async () => {
    if (!profileFile) return;
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
    await profiler.post('Profiler.start');
  };
  const endProfiler = async () => {
    const session = profiler;
    profiler = undefined;
    if (!session || !profileFile) return null;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(profileFile, JSON.stringify(profile));
    return profileFile;
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = line.trim() as StagedCommand;
    if (command === 'go' && !server) {
      resetInterval();
      startProfiler()
        .then(() => start(context))
        .then(
          (started) => {
            server = started;
            send({ type: 'ready', url: started.url, info: {} });
          },
          (error: unknown) => {
            send({ type: 'error', message: describe(error) });
            process.exit(1);
          },
        );
    } else if (command === 'sample') {
      const cpu = process.cpuUsage(lastCpu);
      send({
        type: 'sample',
        sample: {
          elapsedMs: performance.now() - lastAt,
          cpuMs: (cpu.user + cpu.system) / 1000,
          eventLoopUtilization: performance.eventLoopUtilization(lastElu).utilization,
          figures: server?.takeFigures() ?? {},
        },
      });
      resetInterval();
    } else if (command === 'endprofile') {
      endProfiler().then(
        (file) => send({ type: 'profiled', file }),
        (error: unknown) => send({ type: 'error', message: describe(error) }),
      );
    } else if (command === 'stop') {
      void stop();
    }
  });
  lines.on('close', () => void stop());
  send({ type: 'loaded', pid: process.pid });
}
