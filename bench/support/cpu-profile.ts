import { readFileSync } from 'node:fs';

/** The parts of a V8 .cpuprofile (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Wall time the profile covers, ms, and how much of it the thread was busy (not idle). */
  wallMs: number;
  busyMs: number;
  /** Self time by where the code lives (package, Node internals, our src/ file, GC…), ms. */
  byPlace: { place: string; ms: number }[];
  /** Self time of the busiest functions, ms. */
  byFunction: { fn: string; place: string; ms: number }[];
}

function placeOf(functionName: string, url: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return 'V8/native, unattributed';
    return 'native (C++ bindings, builtins)';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node internals';
  const src = url.lastIndexOf('/src/');
  if (src >= 0) return `outpost ${url.slice(src + 1)}`;
  const bench = url.lastIndexOf('/bench/');
  if (bench >= 0) return `bench ${url.slice(bench + 1)}`;
  return url;
}

/** Self time per place and per function, from the sample stream (each sample lasts until the next). */
export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
  const places = new Map<string, number>();
  const functions = new Map<string, { fn: string; place: string; ms: number }>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id);
    if (!frame) continue;
    const place = placeOf(frame.functionName, frame.url);
    if (place === '(idle)') {
      idleUs += us;
      continue;
    }
    places.set(place, (places.get(place) ?? 0) + us / 1000);
    const fn = `${frame.functionName || '(anonymous)'}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    const key = `${fn}\u0000${place}`;
    const entry = functions.get(key) ?? { fn, place, ms: 0 };
    entry.ms += us / 1000;
    functions.set(key, entry);
  }
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  return {
    file,
    wallMs,
    busyMs: wallMs - idleUs / 1000,
    byPlace: [...places]
      .map(([place, ms]) => ({ place, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
    byFunction: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, top),
  };
}
