/**
 * The headless store agent's resident memory while it drains a 100,000-event backlog to head office:
 * `npm run bench:memory`.
 *
 * The agent runs as it does on a store PC: the compiled CLI (`node dist/cli/main.js agent`, no TypeScript
 * loader), its outbox on disk holding the backlog a long outage leaves (about 1 KB of JSON per sale), a
 * private Mosquitto and a real hub (`node dist/cli/main.js hub`, SQLite). A status window stays open on
 * the agent's event stream throughout, so its pushes are part of the figure. The resident set (VmRSS of
 * the whole process, its worker threads included) is sampled every 50 ms from /proc; the kernel's own
 * high-water mark (VmHWM) catches what falls between samples. Reference in the same run: a bare Node
 * process doing nothing.
 *
 *   npm run bench:memory [-- --events N] [--node-options "--max-semi-space-size=1"]
 *
 * --node-options is given to the agent's process only (NODE_OPTIONS), to measure a runtime setting store IT
 * might use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fillBacklog } from './support/backlog.js';
import { observe } from './support/disturbance.js';
import { machineContext } from './support/machine.js';
import { processCpuMs } from './support/process-cpu.js';
import { startMosquittoProcess, type MosquittoProcess } from './support/mosquitto-process.js';
import { benchTerminals } from './support/terminals.js';
import { resultsPath } from './support/report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_MB = 120;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'node-options': { type: 'string' },
    outpost: { type: 'string', default: path.join(ROOT, 'bin', 'outpost.js') },
  },
});
/** The `outpost` command as a store PC runs it, forced onto the compiled program beside it. */
const OUTPOST = path.resolve(values.outpost);
const EVENTS = Number(values.events);
const AGENT_NODE_OPTIONS = values['node-options'];

interface Memory {
  rssMb: number;
  hwmMb: number;
}

/** VmRSS and VmHWM of a process, from /proc (Linux). */
function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * What the resident set is made of (Linux): file-backed pages (the Node executable's code and data, ICU
 * included, and the libraries: shared with any other Node process, and read back from disk if the
 * kernel needs the room) and anonymous memory (JavaScript heaps, the C heap, thread stacks), with the
 * process's thread count.
 */
function compositionOf(pid: number): { fileMb: number; anonMb: number; threads: number } | null {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
    const threads = Number(
      /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN,
    );
    return { fileMb: (kb('Rss') - kb('Anonymous')) / 1024, anonMb: kb('Anonymous') / 1024, threads };
  } catch {
    return null;
  }
}

interface Started {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Runs the compiled CLI and resolves with the URL of its `{"event":"listening"}` line. */
function startCli(args: string[], nodeOptions?: string): Promise<Started> {
  const env = {
    ...process.env,
    OUTPOST_RUN_FROM: 'dist',
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  };
  const child = spawn(process.execPath, [OUTPOST, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-16_000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start:\n${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}):\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === 'listening' && event.url) {
          clearTimeout(timer);
          resolve({ child, url: event.url, stderr: () => stderr });
        }
      } catch {
        // not the line we wait for
      }
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** A bare Node process's resident set, idle: what any Node program costs before it does anything. */
async function bareNode(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  const memory = memoryOf(child.pid!);
  await stopProcess(child);
  return memory?.rssMb ?? NaN;
}

/** Keeps a status window's event stream open and counts the snapshots pushed. */
function openWindowStream(url: string): { pushes: () => number; close: () => void } {
  const controller = new AbortController();
  let pushes = 0;
  void fetch(`${url}/v1/window/events`, { signal: controller.signal })
    .then(async (response) => {
      for await (const chunk of response.body!)
        pushes += (
          Buffer.from(chunk)
            .toString()
            .match(/^data: /gm) ?? []
        ).length;
    })
    .catch(() => {});
  return { pushes: () => pushes, close: () => controller.abort() };
}

async function main(): Promise<void> {
  const dir = path.join(os.tmpdir(), `outpost-bench-memory-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const storeId = 'BENCH-MEM';
  let broker: MosquittoProcess | undefined;
  let hub: Started | undefined;
  let agent: Started | undefined;
  try {
    process.stdout.write(`filling an outbox with ${EVENTS} sales…\n`);
    const dataDir = path.join(dir, 'agent');
    mkdirSync(dataDir, { recursive: true });
    const backlog = fillBacklog(path.join(dataDir, 'outbox.sqlite'), {
      storeId,
      events: EVENTS,
      chunk: 1000,
      terminals: 8,
    });
    const bare = await bareNode();

    broker = await startMosquittoProcess(dir);
    const hubConfig = path.join(dir, 'hub.json');
    writeFileSync(
      hubConfig,
      JSON.stringify({
        hubId: 'bench-hub',
        db: { url: `sqlite:${path.join(dir, 'hub.sqlite')}` },
        mqtt: { url: broker.url },
        api: { host: '127.0.0.1', port: 0, token: 'bench-hub-token-0123456789' },
      }),
    );
    hub = await startCli(['hub', '--config', hubConfig]);

    const agentConfig = path.join(dir, 'agent.json');
    writeFileSync(
      agentConfig,
      JSON.stringify({
        storeId,
        dataDir,
        api: { host: '127.0.0.1', port: 0, terminals: benchTerminals(4) },
        mqtt: { url: broker.url },
      }),
    );
    process.stdout.write('draining it through the compiled agent…\n');
    const startedAt = performance.now();
    agent = await startCli(['agent', '--config', agentConfig], AGENT_NODE_OPTIONS);
    const pid = agent.child.pid!;
    const atStart = memoryOf(pid);
    const window = openWindowStream(agent.url);
    const samples: number[] = [];
    const sampler = setInterval(() => {
      const memory = memoryOf(pid);
      if (memory) samples.push(memory.rssMb);
    }, 50);

    let drainedAt = NaN;
    const agentCpuBefore = processCpuMs(pid);
    // Other processes' CPU meanwhile (another benchmark, a test run): drain time means little if it was high.
    const { otherCpuPct } = await observe(async () => {
      for (let i = 0; i < 2400; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const status = (await (await fetch(`${agent!.url}/v1/status`)).json()) as {
          backlog: { count: number };
        };
        if (status.backlog.count === 0) {
          drainedAt = performance.now();
          break;
        }
      }
    });
    const agentCpuSeconds = (processCpuMs(pid) - agentCpuBefore) / 1000;
    if (Number.isNaN(drainedAt)) throw new Error('the backlog did not drain within 10 minutes');
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(sampler);
    const after = memoryOf(pid)!;
    const composition = compositionOf(pid);
    window.close();

    const sorted = [...samples].sort((a, b) => a - b);
    const drainSeconds = (drainedAt - startedAt) / 1000;
    const figures = {
      events: backlog.events,
      bodyBytes: Math.round(backlog.bodyBytes),
      drainSeconds: Math.round(drainSeconds * 10) / 10,
      eventsPerSecond: Math.round(backlog.events / drainSeconds),
      agentCpuSeconds: round(agentCpuSeconds),
      otherCpuPct: Math.round(otherCpuPct),
      bareNodeRssMb: round(bare),
      agentRssAtStartMb: round(atStart?.rssMb ?? NaN),
      agentRssMedianMb: round(sorted[Math.floor(sorted.length / 2)] ?? NaN),
      agentRssPeakSampledMb: round(sorted.at(-1) ?? NaN),
      agentRssPeakKernelMb: round(after.hwmMb),
      agentRssAfterDrainMb: round(after.rssMb),
      agentFileBackedAfterMb: round(composition?.fileMb ?? NaN),
      agentAnonymousAfterMb: round(composition?.anonMb ?? NaN),
      agentThreads: composition?.threads ?? null,
      samples: samples.length,
      windowPushes: window.pushes(),
      targetMb: TARGET_MB,
      agentNodeOptions: AGENT_NODE_OPTIONS ?? null,
    };
    const lines = [
      '',
      `Headless agent draining ${figures.events} sales (${figures.bodyBytes} B each) to a hub, a status window open` +
        (AGENT_NODE_OPTIONS ? ` (agent NODE_OPTIONS=${AGENT_NODE_OPTIONS}):` : ':'),
      `  drained in ${figures.drainSeconds} s (${figures.eventsPerSecond} events/s), ${figures.windowPushes} window updates pushed; ` +
        `agent CPU ${figures.agentCpuSeconds} s; other CPU ${figures.otherCpuPct}% of a core` +
        (figures.otherCpuPct > 20 ? ' (DISTURBED: compare drain times only between quiet runs)' : ''),
      `  resident memory: ${figures.agentRssAtStartMb} MB at start, ${figures.agentRssMedianMb} MB median, ` +
        `${figures.agentRssPeakKernelMb} MB peak (kernel high-water mark; ${figures.agentRssPeakSampledMb} MB sampled), ` +
        `${figures.agentRssAfterDrainMb} MB after`,
      `  after the drain: ${figures.agentFileBackedAfterMb} MB file-backed (Node's own code and libraries), ` +
        `${figures.agentAnonymousAfterMb} MB anonymous (heaps, C heap, stacks), ${figures.agentThreads} threads`,
      `  reference: a bare Node process ${figures.bareNodeRssMb} MB; the agent's peak is ` +
        `${round(figures.agentRssPeakKernelMb / figures.bareNodeRssMb)}× that`,
      `  aim: under ${TARGET_MB} MB: ${figures.agentRssPeakKernelMb < TARGET_MB ? 'met' : 'NOT MET'}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    writeFileSync(
      resultsPath(AGENT_NODE_OPTIONS ? 'memory-tuned-latest.json' : 'memory-latest.json'),
      `${JSON.stringify({ at: new Date().toISOString(), machine: machineContext(), figures }, null, 2)}\n`,
    );
  } finally {
    if (agent) await stopProcess(agent.child);
    if (hub) await stopProcess(hub.child);
    await broker?.stop();
    // The outbox and the hub's database of a run: some 300 MB.
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
