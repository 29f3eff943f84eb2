import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineCpuPct, machineCpuTimes } from './machine.js';
import { processCpuSnapshot, processTree, type ProcessCpu } from './process-cpu.js';

/**
 * Whether someone else used the machine during a measurement. "Ours" is this process and everything
 * it started (children, mosquitto, tsx's esbuild) plus the PostgreSQL server's processes (which this
 * bench drives, though others may use the same server); "other" is the rest of the machine's CPU time.
 */
export interface Observed<T> {
  result: T;
  elapsedMs: number;
  /** CPU used by the whole machine, % of one core. */
  machineCpuPct: number;
  /** CPU used by processes that are not ours, % of one core. */
  otherCpuPct: number;
}

export function oursCpuPct(before: ProcessCpu, after: ProcessCpu, elapsedMs: number): number {
  const tree = processTree(process.pid, after);
  let ms = 0;
  for (const [pid, p] of after) {
    if (!tree.has(pid) && !p.name.startsWith('postgres')) continue;
    ms += Math.max(0, p.cpuMs - (before.get(pid)?.cpuMs ?? 0));
  }
  return (ms / elapsedMs) * 100;
}

export async function observe<T>(fn: () => T | Promise<T>): Promise<Observed<T>> {
  const before = processCpuSnapshot();
  const machineBefore = machineCpuTimes();
  const startedAt = performance.now();
  const result = await fn();
  const elapsedMs = performance.now() - startedAt;
  const after = processCpuSnapshot();
  const machinePct = machineCpuPct(machineBefore, machineCpuTimes(), elapsedMs);
  return {
    result,
    elapsedMs,
    machineCpuPct: machinePct,
    otherCpuPct: Math.max(0, machinePct - oursCpuPct(before, after, elapsedMs)),
  };
}

/**
 * Waits (at most `maxMs`) for a second in which other processes use less than `thresholdPct` of one
 * core, so the run starts on a quiet machine when it can; tells how long it waited and how busy the
 * last second was.
 */
export async function waitForQuietMachine(
  maxMs: number,
  thresholdPct: number,
): Promise<{ waitedMs: number; otherCpuPct: number; quiet: boolean }> {
  const startedAt = performance.now();
  for (;;) {
    const { otherCpuPct } = await observe(() => sleep(1000));
    const waitedMs = performance.now() - startedAt;
    if (otherCpuPct < thresholdPct) return { waitedMs, otherCpuPct, quiet: true };
    if (waitedMs >= maxMs) return { waitedMs, otherCpuPct, quiet: false };
  }
}
