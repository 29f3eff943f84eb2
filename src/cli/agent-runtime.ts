import { setFlagsFromString } from 'node:v8';

/**
 * How V8 runs the headless agent: for a small resident set rather than for the last percent of speed.
 * V8's defaults suit a program that has the machine to itself; the agent runs for months on a store's
 * back-office PC beside the till software, and by default its heaps grew to match the busiest minute it
 * ever had (a backlog drained after an outage) and kept that size.
 *
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial size (1 MB per semi-space,
 *   in each thread) instead of doubling up to 16 MB per semi-space under the allocation of a start-up or
 *   a drain. Short-lived objects are collected more often, in smaller pauses.
 * - `--optimize-for-size`: the old generation grows more slowly and is collected sooner.
 *
 * V8's collector reads both as it runs, so they can be set once the process has started: services run
 * `node bin/outpost.js agent`, whose command line cannot carry them. bin/outpost.js applies them before
 * the program loads; `agentCommand` again, for `node dist/cli/main.js agent`. A setting given on the
 * command line or in NODE_OPTIONS (one of `yieldsTo`) wins. Measured with `npm run bench:memory`
 * (bench/README.md): about 40 MB less at the peak of a 100,000-sale drain, for about a quarter more CPU
 * during the drain (collections run more often).
 */
export const AGENT_V8_SETTINGS: readonly { flag: string; yieldsTo: readonly string[] }[] = [
  {
    flag: '--semi-space-growth-factor=1',
    yieldsTo: ['--semi-space-growth-factor', '--max-semi-space-size', '--min-semi-space-size'],
  },
  { flag: '--optimize-for-size', yieldsTo: ['--optimize-for-size', '--no-optimize-for-size'] },
];

/** The name of a V8 flag as V8 reads it (`--max_semi_space_size=2` and `--max-semi-space-size` alike). */
const flagName = (arg: string) => arg.split('=')[0]!.replaceAll('_', '-');

/** The settings to apply, given the process's own flags (its command line and NODE_OPTIONS). */
export function agentV8Flags(given: readonly string[]): string[] {
  const names = new Set(given.map(flagName));
  return AGENT_V8_SETTINGS.filter((s) => !s.yieldsTo.some((name) => names.has(name))).map((s) => s.flag);
}

export function applyAgentRuntimeSettings(
  given: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)],
): void {
  for (const flag of agentV8Flags(given)) setFlagsFromString(flag);
}
