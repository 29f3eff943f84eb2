import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import type { AgentConfigInput } from '../../src/contracts/agent-config.js';
import { makeTempDir } from './temp-dir.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUTPOST_BIN = path.join(REPO_ROOT, 'bin/outpost.js');

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedOutpost<T> {
  /** What the ready predicate returned for the first stdout line it accepted. */
  readonly ready: T;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Sends the signal (SIGTERM: graceful stop; SIGKILL: crash) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  waitExit(): Promise<ExitStatus>;
  /** The last 64 KiB the process wrote on stderr, for failure messages. */
  stderr(): string;
}

export interface SpawnOptions<T> {
  /** Called with each stdout line parsed as JSON (or the raw string); a non-undefined result means ready. */
  ready: (line: unknown) => T | undefined;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Variables set in the child after OUTPOST_* ones were filtered out of `env`: for a test that means
   * to pass one on purpose, e.g. OUTPOST_HUB_FAULT.
   */
  extraEnv?: Record<string, string>;
}

/** Processes still running; killed after each test so that a failed test leaves nothing behind. */
const live = new Set<SpawnedOutpost<unknown>>();

/**
 * Runs `outpost <args>` (bin/outpost.js, the real CLI) as a child process and resolves once a stdout
 * line satisfies `ready`. Rejects, with the process's stderr, if it exits or times out first. Generic
 * over the subcommand, so hubs and brokers can be spawned the same way as agents.
 */
export function spawnOutpost<T>(args: string[], options: SpawnOptions<T>): Promise<SpawnedOutpost<T>> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  // OUTPOST_* variables of the developer's shell would override the config the test wrote.
  const env = {
    ...Object.fromEntries(
      Object.entries(options.env ?? process.env).filter(([name]) => !name.startsWith('OUTPOST_')),
    ),
    ...options.extraEnv,
  };
  const child = spawn(process.execPath, [OUTPOST_BIN, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderrTail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-64 * 1024);
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  return new Promise<SpawnedOutpost<T>>((resolve, reject) => {
    const describe = () => `outpost ${args.join(' ')} (pid ${child.pid ?? '?'})`;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${describe()} was not ready after ${timeoutMs} ms; stderr:\n${stderrTail}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${describe()}: ${error.message}`));
    });
    void exited.then((status) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${describe()} exited (code ${status.code}, signal ${status.signal}) before it was ready; stderr:\n${stderrTail}`,
        ),
      );
    });

    let isReady = false;
    // Keep reading stdout for the whole life of the process, or a chatty child would block on a full pipe.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (isReady) return;
      let parsed: unknown = line;
      try {
        parsed = JSON.parse(line);
      } catch {
        // not JSON: the predicate gets the raw line
      }
      const value = options.ready(parsed);
      if (value === undefined) return;
      isReady = true;
      clearTimeout(timer);
      const spawned: SpawnedOutpost<T> = {
        ready: value,
        pid: child.pid!,
        child,
        kill(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
        waitExit: () => exited,
        stderr: () => stderrTail,
      };
      live.add(spawned);
      void exited.then(() => live.delete(spawned));
      resolve(spawned);
    });
  });
}

export interface CompletedOutpost {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `outpost <args>` to completion, for commands that are expected to end (bad config, a CLI
 * subcommand): resolves with the exit status and everything written. Killed after `timeoutMs`.
 */
export function runOutpost(
  args: string[],
  options: { extraEnv?: Record<string, string>; uid?: number; gid?: number; timeoutMs?: number } = {},
): Promise<CompletedOutpost> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OUTPOST_'))),
    ...options.extraEnv,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OUTPOST_BIN, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Writes an agent config file (in a temp dir of its own) and returns its path. */
export function writeAgentConfig(config: AgentConfigInput | Record<string, unknown>): string {
  const file = path.join(makeTempDir('agent-config'), 'agent.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Kills every process a test left running. Registered below as an afterEach hook of every file that imports this one. */
export async function killLeftovers(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill('SIGKILL')));
}

afterEach(killLeftovers);

export interface TerminalCredential {
  id: string;
  token: string;
}

/** Terminal ids with random tokens, for an agent config. */
export function makeTerminals(ids: readonly string[]): TerminalCredential[] {
  return ids.map((id) => ({ id, token: `token-${id}-${randomBytes(12).toString('hex')}` }));
}

export interface AgentProcessOptions {
  /** Reuse a data directory to restart the "same" store agent; a fresh temp dir otherwise. */
  dataDir?: string;
  terminals: readonly TerminalCredential[];
  storeId?: string;
  /** Extra config sections (outbox, log, mqtt), merged over the defaults written here. */
  config?: Partial<Omit<AgentConfigInput, 'storeId' | 'dataDir' | 'api'>>;
}

export interface AgentProcess extends SpawnedOutpost<{ url: string }> {
  /** Base URL of the capture API, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly dataDir: string;
  readonly configFile: string;
}

/**
 * Starts `outpost agent --config <file>` on a free port (api.port 0) and resolves with its URL, which
 * the agent prints as `{"event":"listening","url":...}` once it accepts requests.
 */
export async function spawnAgent(options: AgentProcessOptions): Promise<AgentProcess> {
  const dataDir = options.dataDir ?? makeTempDir('agent-data');
  const config: AgentConfigInput = {
    storeId: options.storeId ?? 'store-test',
    dataDir,
    api: { host: '127.0.0.1', port: 0, terminals: options.terminals.map((t) => ({ ...t })) },
    ...options.config,
  };
  const configFile = path.join(makeTempDir('agent-config'), 'agent.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const spawned = await spawnOutpost(['agent', '--config', configFile], {
    ready: (line) => {
      const event = line as { event?: unknown; url?: unknown } | null;
      return event?.event === 'listening' && typeof event.url === 'string' ? { url: event.url } : undefined;
    },
  });
  // The CLI prints its listening line before it installs its SIGTERM handler, so a SIGTERM sent right
  // after the line can still find the default action and kill the agent without a graceful stop. Any
  // HTTP answer comes from a later turn of its event loop, when the handler is in place.
  await fetch(`${spawned.ready.url}/healthz`).then((response) => response.arrayBuffer());
  return { ...spawned, url: spawned.ready.url, dataDir, configFile };
}
