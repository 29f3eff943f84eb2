import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  MOSQUITTO_BINARY as MOSQUITTO,
  plainBrokerConfig,
  waitForPort,
} from '../../test/support/mosquitto-binary.js';

/**
 * A private Mosquitto for the bench: a free loopback port, a temp config, no persistence. The same
 * settings as test/support/mosquitto.ts, without its vitest hooks: the bench stops it itself.
 */
export interface MosquittoProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly version: string;
  /** What mosquitto printed (errors and warnings only), for a failure report. */
  log(): string;
  stop(): Promise<void>;
  /** Last resort for cleanup after a failure. */
  kill(): void;
}

function mosquittoVersion(binary: string): string {
  try {
    // `mosquitto -h` exits 3 after printing its version on the first line.
    execFileSync(binary, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const out = (error as { stdout?: unknown }).stdout;
    const match = typeof out === 'string' ? /version (\S+)/.exec(out) : null;
    if (match) return match[1]!;
  }
  return 'unknown';
}

/** Starts mosquitto in `dir` on a free port, at nice `nice` (0: the bench's own priority). */
export async function startMosquittoProcess(dir: string, nice = 0): Promise<MosquittoProcess> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const port = await freePort();
  const confFile = path.join(dir, 'mosquitto.conf');
  writeFileSync(confFile, plainBrokerConfig(port));

  let logText = '';
  const argv =
    nice > 0 ? ['nice', '-n', String(nice), MOSQUITTO, '-c', confFile] : [MOSQUITTO, '-c', confFile];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (logText = (logText + d.toString()).slice(-16_000)));
  child.stderr!.on('data', (d: Buffer) => (logText = (logText + d.toString()).slice(-16_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await waitForPort(port, 10_000);
  } catch (error) {
    kill();
    throw error;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    version: mosquittoVersion(MOSQUITTO),
    log: () => logText,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
    kill,
  };
}
