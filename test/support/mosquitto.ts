import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll } from 'vitest';
import { makeTempDir } from './temp-dir.js';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

/** A free TCP port on loopback, picked by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
 * and restart it without touching the machine's own broker. `extraConfig` adds listener options (TLS, ACL).
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
  writeFileSync(
    confFile,
    options.config
      ? options.config(dir, port)
      : [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence false',
          'max_queued_messages 100000',
          'log_type error',
          'log_type warning',
        ].join('\n') + '\n',
  );
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
