import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll } from 'vitest';
import {
  freePort,
  MOSQUITTO_BINARY as MOSQUITTO,
  plainBrokerConfig,
  waitForPort,
} from './mosquitto-binary.js';
import { makeTempDir } from './temp-dir.js';

export { freePort };

export interface TestMosquitto {
  readonly port: number;
  readonly url: string;
  /** kill -9: the broker vanishes with every session and queued message (it runs without persistence). */
  kill(): Promise<void>;
  /** Starts it again on the same port, with nothing remembered. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

const running = new Set<TestMosquitto>();

/**
 * A private Mosquitto on a free loopback port with a temp config and no persistence, so a test may kill
 * and restart it without touching the machine's own broker. `config` replaces the plain config (TLS, ACL).
 * Fails, never skips, when the mosquitto binary is missing: .ci/run installs it.
 */
export async function startMosquitto(
  options: { port?: number; config?: (dir: string, port: number) => string } = {},
): Promise<TestMosquitto> {
  if (!MOSQUITTO)
    throw new Error('mosquitto is not installed (apt-get install mosquitto; .ci/run does this)');
  const dir = makeTempDir('mosquitto');
  const port = options.port ?? (await freePort());
  const confFile = path.join(dir, 'mosquitto.conf');
  writeFileSync(confFile, options.config ? options.config(dir, port) : plainBrokerConfig(port));
  let child: ChildProcess | undefined;
  let logText = '';
  const launch = async () => {
    const proc = spawn(MOSQUITTO!, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (logText = (logText + d.toString()).slice(-32_000)));
    proc.stderr!.on('data', (d: Buffer) => (logText = (logText + d.toString()).slice(-32_000)));
    child = proc;
    await waitForPort(port, 10_000);
  };
  const killNow = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  const broker: TestMosquitto = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    kill: killNow,
    async restart() {
      await killNow();
      await launch();
    },
    async stop() {
      await killNow();
      running.delete(broker);
    },
    log: () => logText,
  };
  running.add(broker);
  return broker;
}

afterAll(async () => {
  await Promise.all([...running].map((b) => b.stop()));
});
