import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ServerSample } from './child-protocol.js';

/** A server under test running in its own process, so the load generator never shares its event loop. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** What the server did since the previous sample (the first call only starts the interval). */
  sample(): Promise<ServerSample>;
  /** Stops the server gracefully and returns what it reports on the way out. */
  stop(): Promise<Record<string, number | string>>;
  /** Last resort for cleanup after a failure. */
  kill(): void;
}

const START_TIMEOUT_MS = 20_000;
const REPLY_TIMEOUT_MS = 20_000;

/** Starts `bench/support/<script>` with `node --import tsx` and waits for the URL it prints. */
export async function startServerProcess(script: string, args: string[]): Promise<ServerProcess> {
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: { type: ChildMessage['type']; resolve: (m: ChildMessage) => void }[] = [];
  let failure: Error | null = null;

  const failAll = (error: Error) => {
    failure ??= error;
    for (const w of waiting.splice(0)) w.resolve({ type: 'error', message: error.message });
  };
  // 'close', not 'exit': it comes after stdout is drained, so a last message is never lost.
  const closed = new Promise<void>((resolve) =>
    child.on('close', (code, signal) => {
      failAll(new Error(`${script} exited (code ${String(code)}, signal ${String(signal)})`));
      resolve();
    }),
  );
  child.on('error', (error) => failAll(error));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: ChildMessage;
    try {
      message = JSON.parse(line) as ChildMessage;
    } catch {
      process.stderr.write(`[${script}] ${line}\n`);
      return;
    }
    if (message.type === 'error') {
      failAll(new Error(`${script}: ${message.message}`));
      return;
    }
    const index = waiting.findIndex((w) => w.type === message.type);
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message);
  });

  const expect = <T extends ChildMessage['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(
        () => reject(new Error(`${script}: no '${type}' within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiting.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          if (message.type === 'error') reject(failure ?? new Error(message.message));
          else resolve(message as Extract<ChildMessage, { type: T }>);
        },
      });
    });
  const command = (line: string) => {
    if (failure) throw failure;
    child.stdin!.write(`${line}\n`);
  };

  let ready: Extract<ChildMessage, { type: 'ready' }>;
  try {
    ready = await expect('ready', START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: ready.url,
    pid: ready.pid,
    async sample() {
      const reply = expect('sample', REPLY_TIMEOUT_MS);
      command('sample');
      return (await reply).sample;
    },
    async stop() {
      const reply = expect('stopped', REPLY_TIMEOUT_MS);
      command('stop');
      const { info } = await reply;
      await closed;
      return info;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
