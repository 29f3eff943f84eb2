import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface MachineContext {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  packages: Record<string, string>;
  tmpdir: string;
  /** Filesystem holding the temp dir (where the outbox lives in this bench), as df and /proc/mounts tell. */
  tmpdirFilesystem: { device: string; type: string; mountPoint: string; options: string } | null;
}

export function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    const file = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function filesystemOf(dir: string): MachineContext['tmpdirFilesystem'] {
  try {
    const lines = execFileSync('df', ['-PT', dir], { encoding: 'utf8' }).trim().split('\n');
    const fields = lines[lines.length - 1]!.split(/\s+/);
    const [device, type] = fields;
    const mountPoint = fields[fields.length - 1]!;
    let options = '';
    try {
      const mount = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((line) => line.split(' '))
        .filter((f) => f[1] === mountPoint)
        .pop();
      options = mount?.[3] ?? '';
    } catch {
      // not Linux: options stay unknown
    }
    return { device: device ?? '?', type: type ?? '?', mountPoint, options };
  } catch {
    return null;
  }
}

export function machineContext(): MachineContext {
  const cpus = os.cpus();
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    packages: Object.fromEntries(
      ['better-sqlite3', 'fastify', 'autocannon', 'zod'].map((name) => [name, packageVersion(name)]),
    ),
    tmpdir: os.tmpdir(),
    tmpdirFilesystem: filesystemOf(os.tmpdir()),
  };
}

/** Cumulative CPU time of the whole machine (Linux /proc/stat), to see what else ran during a measurement. */
export interface CpuTimes {
  busyMs: number;
  totalMs: number;
}

export function machineCpuTimes(): CpuTimes | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const tick = 1000 / 100; // USER_HZ is 100 on Linux
    const busy = user + nice + system + irq + softirq + steal;
    return { busyMs: busy * tick, totalMs: (busy + idle + iowait) * tick };
  } catch {
    return null;
  }
}

/** CPU the whole machine used between two readings, in % of one core (200% = both cores of two busy). */
export function machineCpuPct(before: CpuTimes | null, after: CpuTimes | null, elapsedMs: number): number {
  if (!before || !after) return Number.NaN;
  return ((after.busyMs - before.busyMs) / elapsedMs) * 100;
}
