import { currencyCode } from '../contracts/money.js';
import { identifier } from '../contracts/transaction.js';
import { ConfigError } from '../lib/errors.js';
import { runSimulation, type SimulatedTerminal, type SimulationSummary } from '../simulate/index.js';

/** The flags declared on `outpost simulate` in main.ts, as commander hands them over. */
export interface SimulateFlags {
  agent: string;
  token: string[];
  terminals: number;
  rate: number;
  duration: number;
  seed?: number;
  currency: string;
}

const PROGRESS_EVERY_MS = 5000;
const terminalId = identifier('terminal id');

/**
 * `--token T1=secret` pairs. A malformed value is reported by position, never echoed: it may well be a
 * token typed without its terminal id, and stderr ends up in shell histories and CI logs.
 */
export function parseTerminalTokens(values: readonly string[]): SimulatedTerminal[] {
  const seen = new Set<string>();
  return values.map((value, i) => {
    const where = values.length > 1 ? ` (value ${i + 1} of ${values.length})` : '';
    const at = value.indexOf('=');
    if (at === -1) {
      throw new ConfigError(
        `--token must be TERMINAL=TOKEN, e.g. --token T1=<token of T1>; got a value without "="${where}`,
      );
    }
    const id = value.slice(0, at);
    const token = value.slice(at + 1);
    const parsedId = terminalId.safeParse(id);
    if (!parsedId.success)
      throw new ConfigError(`--token${where}: ${parsedId.error.issues[0]?.message ?? 'bad terminal id'}`);
    if (token.length === 0) throw new ConfigError(`--token${where}: the token of terminal ${id} is empty`);
    if (seen.has(id)) throw new ConfigError(`--token: terminal ${id} is given more than once`);
    seen.add(id);
    return { id, token };
  });
}

function agentUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--agent must be a URL such as http://127.0.0.1:8787, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`--agent must be an http:// or https:// URL, got "${value}"`);
  }
  return url.toString();
}

function wholeNumber(flag: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value > max)
    throw new ConfigError(`${flag} must be a whole number up to ${max}, got ${value}`);
  return value;
}

function progressLine(p: SimulationSummary): string {
  const errors = Object.values(p.errors).reduce((n, e) => n + e.count, 0);
  // Tills re-send after a 503 or a lost answer, as real ones do: worth seeing while it happens.
  const resent = p.unavailableRetries + p.unansweredRetries;
  return (
    `outpost: simulate ${p.elapsedSeconds.toFixed(1)}s: ${p.submitted} submitted (${p.achievedRate}/s), ` +
    `${p.created} created, ${p.duplicates} duplicates, ${errors} errors, ` +
    `${resent ? `${resent} re-sent, ` : ''}p99 ${p.latencyMs.p99} ms\n`
  );
}

/** `outpost simulate`: realistic tills against a running agent; progress on stderr, the summary as JSON on stdout. */
export async function simulateCommand(flags: SimulateFlags): Promise<void> {
  const terminals = parseTerminalTokens(flags.token);
  const currency = currencyCode.safeParse(flags.currency);
  if (!currency.success)
    throw new ConfigError(`--currency ${currency.error.issues[0]?.message ?? 'is not valid'}`);
  const options = {
    agentUrl: agentUrl(flags.agent),
    terminals,
    tills: wholeNumber('--terminals', flags.terminals, 10_000),
    ratePerSecond: flags.rate,
    durationSeconds: flags.duration,
    seed: flags.seed === undefined ? undefined : wholeNumber('--seed', flags.seed, 2 ** 32 - 1),
    currency: currency.data,
    // Like a real till: each sale priced by the agent first, with the promotions the store holds.
    priceWithAgent: true,
  };

  // Ctrl-C ends the run early but still prints the summary of what was sent; a second one exits at once.
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('outpost: stopping the simulation (again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await runSimulation({
      ...options,
      utcOffsetMinutes: -new Date().getTimezoneOffset(),
      signal: controller.signal,
      onProgress: (p) => process.stderr.write(progressLine(p)),
      progressIntervalMs: PROGRESS_EVERY_MS,
    });
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    const failed = Object.values(summary.errors).reduce((n, e) => n + e.count, 0);
    if (failed > 0) {
      // The summary is still the result; a non-zero exit lets a script or CI notice the failures.
      process.stderr.write(`outpost: ${failed} of ${summary.submitted} submissions failed (see "errors")\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
