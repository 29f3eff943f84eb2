import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Figures, StagedMessage, StagedSample } from './staged-protocol.js';

/** A process under test that has loaded and waits for `go` (see staged-protocol.ts). */
export interface StagedProcess {
  readonly pid: number;
  readonly script: string;
  /** Starts it; resolves with its URL once it is up. `sentAt` is when `go` was written (performance.now()). */
  go(timeoutMs?: number): Promise<{ url: string; sentAt: number; readyAt: number }>;
  /** Resolves when the child reports `name` (or at once if it already has); `at` is when it arrived here. */
  mark(name: string, timeoutMs: number): Promise<{ info: Figures; at: number }>;
  /** What the child did since `go` or the previous sample. */
  sample(): Promise<StagedSample>;
  /** Ends the CPU profile the child runs when started with PROFILE_ENV; resolves with its file. */
  endProfile(): Promise<string | null>;
  /** Stops it gracefully and returns what it reports on the way out. */
  stop(): Promise<Record<string, number | string>>;
  kill(): void;
}

const LOAD_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 30_000;

class Timeout extends Error {}

/** Spawns `node [nodeArgs] --import tsx bench/support/<script> [args]` and waits until it has loaded. */
export async function startStagedProcess(
  script: string,
  args: string[],
  options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; nice?: number } = {},
): Promise<StagedProcess> {
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const command = [process.execPath, ...(options.nodeArgs ?? []), '--import', 'tsx', file, ...args];
  // nice(1) execs the command, so the pid stays the child's and every thread it starts inherits the priority.
  const argv = options.nice ? ['nice', '-n', String(options.nice), ...command] : command;
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: options.env ?? process.env,
  });
  type Waiter = { accepts: (m: StagedMessage) => boolean; resolve: (m: StagedMessage, at: number) => void };
  const waiting: Waiter[] = [];
  const marks = new Map<string, { info: Figures; at: number }>();
  let failure: Error | null = null;

  const failAll = (error: Error) => {
    failure ??= error;
    for (const w of waiting.splice(0)) w.resolve({ type: 'error', message: error.message }, 0);
  };
  const closed = new Promise<void>((resolve) =>
    child.on('close', (code, signal) => {
      failAll(new Error(`${script} exited (code ${String(code)}, signal ${String(signal)})`));
      resolve();
    }),
  );
  child.on('error', (error) => failAll(error));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const at = performance.now();
    let message: StagedMessage;
    try {
      message = JSON.parse(line) as StagedMessage;
    } catch {
      process.stderr.write(`[${script}] ${line}\n`);
      return;
    }
    if (message.type === 'error') {
      failAll(new Error(`${script}: ${message.message}`));
      return;
    }
    if (message.type === 'mark') marks.set(message.name, { info: message.info, at });
    const index = waiting.findIndex((w) => w.accepts(message));
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message, at);
  });

  const expect = <T extends StagedMessage['type']>(
    type: T,
    timeoutMs: number,
    also: (m: Extract<StagedMessage, { type: T }>) => boolean = () => true,
  ) =>
    new Promise<{ message: Extract<StagedMessage, { type: T }>; at: number }>((resolve, reject) => {
      if (failure) return reject(failure);
      const waiter: Waiter = {
        accepts: (m) => m.type === type && also(m as Extract<StagedMessage, { type: T }>),
        resolve: (m, at) => {
          clearTimeout(timer);
          if (m.type === 'error') reject(failure ?? new Error(m.message));
          else resolve({ message: m as Extract<StagedMessage, { type: T }>, at });
        },
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(waiter), 1);
        reject(new Timeout(`${script}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.push(waiter);
    });
  const send = (line: string) => {
    if (failure) throw failure;
    child.stdin!.write(`${line}\n`);
  };
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };

  try {
    await expect('loaded', LOAD_TIMEOUT_MS);
  } catch (error) {
    kill();
    throw error;
  }
  return {
    pid: child.pid!,
    script,
    async go(timeoutMs = REPLY_TIMEOUT_MS) {
      const reply = expect('ready', timeoutMs);
      const sentAt = performance.now();
      send('go');
      const { message, at } = await reply;
      return { url: message.url, sentAt, readyAt: at };
    },
    async mark(name, timeoutMs) {
      const seen = marks.get(name);
      if (seen) return seen;
      const { message, at } = await expect('mark', timeoutMs, (m) => m.name === name);
      return { info: message.info, at };
    },
    async sample() {
      const reply = expect('sample', REPLY_TIMEOUT_MS);
      send('sample');
      return (await reply).message.sample;
    },
    async endProfile() {
      const reply = expect('profiled', REPLY_TIMEOUT_MS);
      send('endprofile');
      return (await reply).message.file;
    },
    async stop() {
      const reply = expect('stopped', REPLY_TIMEOUT_MS);
      send('stop');
      const { message } = await reply;
      await closed;
      return message.info;
    },
    kill,
  };
}

export const isTimeout = (error: unknown): boolean => error instanceof Timeout;
