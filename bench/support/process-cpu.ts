import { readdirSync, readFileSync } from 'node:fs';

/** CPU time of every process on the machine (Linux /proc), to tell where the CPU went during a drain. */
export type ProcessCpu = Map<number, { name: string; ppid: number; cpuMs: number }>;

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

export function processCpuSnapshot(): ProcessCpu {
  const snapshot: ProcessCpu = new Map();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return snapshot;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat
        .slice(close + 2)
        .split(' ')
        .map(Number);
      // fields[0] is field 3 (state), then ppid; utime and stime are fields 14 and 15, counting all threads.
      const cpuTicks = (fields[11] ?? 0) + (fields[12] ?? 0);
      snapshot.set(Number(entry), { name, ppid: fields[1] ?? 0, cpuMs: cpuTicks * TICK_MS });
    } catch {
      // the process ended while we looked
    }
  }
  return snapshot;
}

export interface CpuGroup {
  name: string;
  matches: (pid: number, processName: string) => boolean;
}

/**
 * CPU used between two snapshots, in % of one core, by group (the first group that matches a process
 * takes it). A process born in between counts from zero; one that ended in between is missed.
 */
export function cpuByGroup(
  before: ProcessCpu,
  after: ProcessCpu,
  elapsedMs: number,
  groups: readonly CpuGroup[],
): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(groups.map((g) => [g.name, 0]));
  for (const [pid, now] of after) {
    const group = groups.find((g) => g.matches(pid, now.name));
    if (!group) continue;
    const used = now.cpuMs - (before.get(pid)?.cpuMs ?? 0);
    out[group.name]! += (Math.max(0, used) / elapsedMs) * 100;
  }
  return out;
}

/** `root` and every process below it (children, their children…), as the snapshot shows them. */
export function processTree(root: number, snapshot: ProcessCpu): Set<number> {
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of snapshot) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** CPU time of one process (all its threads), ms; 0 once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return ((fields[11] ?? 0) + (fields[12] ?? 0)) * TICK_MS;
  } catch {
    return 0;
  }
}
