import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentConfigInput } from '../../src/contracts/agent-config.js';
import type { HubConfigInput } from '../../src/contracts/hub-config.js';
import type { QuarantinedEvent, StoredEvent, StoreSummary } from '../../src/hub/hub-store.js';
import {
  spawnAgent,
  spawnOutpost,
  type AgentProcess,
  type SpawnedOutpost,
  type TerminalCredential,
} from './spawn-agent.js';
import { makeTempDir } from './temp-dir.js';

/**
 * Hubs and MQTT-connected agents as real child processes (`outpost hub --config`, `outpost agent
 * --config`), plus the few HTTP calls the sync tests make against them. Everything here is bounded in
 * time: a helper that waits takes a deadline and fails with what it last saw.
 */

export interface HubProcessOptions {
  /** `sqlite:PATH` or a postgres:// URL; several hubs may be given the same one. */
  dbUrl: string;
  mqttUrl: string;
  hubId?: string;
  /** The shared subscription group; hubs in one group split the stores' events between them. */
  shareGroup?: string;
  /** The operator token; one is made up when omitted. */
  token?: string;
  /** Variables passed to the hub even though they start with OUTPOST_ (e.g. OUTPOST_HUB_FAULT). */
  extraEnv?: Record<string, string>;
}

export interface HubProcess extends SpawnedOutpost<{ url: string }> {
  /** Base URL of the operator API. */
  readonly url: string;
  readonly token: string;
  readonly hubId: string;
  readonly api: HubApi;
}

/** Writes a hub config file (API on a free port) and returns its path. */
export function writeHubConfig(options: HubProcessOptions & { hubId: string; token: string }): string {
  const config: HubConfigInput = {
    hubId: options.hubId,
    db: { url: options.dbUrl },
    mqtt: { url: options.mqttUrl, shareGroup: options.shareGroup ?? 'hubs', keepaliveSeconds: 2 },
    api: { host: '127.0.0.1', port: 0, token: options.token },
    log: { level: 'info', console: true },
  };
  const file = path.join(makeTempDir(`hub-config-${options.hubId}`), 'hub.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Starts `outpost hub --config <file>` and resolves once it prints its listening line. */
export async function spawnHub(options: HubProcessOptions): Promise<HubProcess> {
  const hubId = options.hubId ?? 'hub-1';
  const token = options.token ?? `hub-token-${randomBytes(12).toString('hex')}`;
  const configFile = writeHubConfig({ ...options, hubId, token });
  const spawned = await spawnOutpost(['hub', '--config', configFile], {
    ready: (line) => {
      const event = line as { event?: unknown; url?: unknown } | null;
      return event?.event === 'listening' && typeof event.url === 'string' ? { url: event.url } : undefined;
    },
    ...(options.extraEnv ? { extraEnv: options.extraEnv } : {}),
  });
  const url = spawned.ready.url;
  return { ...spawned, url, token, hubId, api: hubApi(url, token) };
}

/** Sync settings that make a test's retransmissions and reconnections happen in about a second. */
export const FAST_SYNC = {
  ackTimeoutMs: 1500,
  reconnectInitialMs: 100,
  reconnectMaxMs: 1000,
} as const;

export interface SyncAgentOptions {
  mqttUrl: string;
  terminals: readonly TerminalCredential[];
  storeId: string;
  dataDir?: string;
  /** mqtt.clientId; the agent derives one from the storeId when omitted. */
  clientId?: string;
  sync?: NonNullable<AgentConfigInput['sync']>;
}

/** An agent connected to the broker with short timeouts (ack 1.5 s, reconnect 0.1–1 s, keep-alive 2 s). */
export function spawnSyncAgent(options: SyncAgentOptions): Promise<AgentProcess> {
  return spawnAgent({
    storeId: options.storeId,
    terminals: options.terminals,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    config: {
      mqtt: {
        url: options.mqttUrl,
        keepaliveSeconds: 2,
        ...(options.clientId ? { clientId: options.clientId } : {}),
      },
      sync: { ...FAST_SYNC, ...options.sync },
    },
  });
}

export type StoreEpoch = StoreSummary['epochs'][number];

export interface HubApi {
  get<T>(pathAndQuery: string): Promise<T>;
  stores(): Promise<StoreSummary[]>;
  /** The store's summary, or undefined while the hub has not heard of it. */
  store(storeId: string): Promise<StoreSummary | undefined>;
  /** Every event row of one store epoch in seq order, fetched page by page. */
  transactions(storeId: string, epoch: string): Promise<StoredEvent[]>;
  quarantine(storeId: string): Promise<QuarantinedEvent[]>;
  /** The value of one unlabelled counter or gauge of GET /metrics (0 when absent). */
  metric(name: string): Promise<number>;
}

const PAGE = 5000;

export function hubApi(url: string, token: string): HubApi {
  const headers = { authorization: `Bearer ${token}` };
  const getText = async (pathAndQuery: string) => {
    const response = await fetch(`${url}${pathAndQuery}`, { headers, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET ${pathAndQuery} answered ${response.status}: ${text}`);
    return text;
  };
  const api: HubApi = {
    get: async <T>(pathAndQuery: string) => JSON.parse(await getText(pathAndQuery)) as T,
    stores: async () => (await api.get<{ stores: StoreSummary[] }>('/v1/stores')).stores,
    store: async (storeId) => (await api.stores()).find((s) => s.storeId === storeId),
    async transactions(storeId, epoch) {
      const events: StoredEvent[] = [];
      let after = 0;
      // Bounded: a million events is far beyond any test here.
      for (let page = 0; page < 200; page++) {
        const answer = await api.get<{ events: StoredEvent[]; next: number | null }>(
          `/v1/stores/${storeId}/transactions?epoch=${epoch}&after=${after}&limit=${PAGE}`,
        );
        events.push(...answer.events);
        if (answer.next === null) return events;
        after = answer.next;
      }
      throw new Error(`more than ${200 * PAGE} events in store ${storeId} epoch ${epoch}`);
    },
    quarantine: async (storeId) =>
      (await api.get<{ events: QuarantinedEvent[] }>(`/v1/stores/${storeId}/quarantine`)).events,
    async metric(name) {
      const text = await getText('/metrics');
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line ? Number(line.slice(name.length + 1)) : 0;
    },
  };
  return api;
}

/**
 * Polls `probe` until it returns something other than undefined, at most `timeoutMs`; fails naming
 * `what` and the last thing the probe threw. Errors while polling count as "not yet" (a hub restarting).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; attempt < Math.ceil(timeoutMs / intervalMs) + 1; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `; last error: ${String(lastError)}` : ''}`,
  );
}

/** GET /v1/status of an agent (loopback, no token needed). */
export async function agentStatus(url: string): Promise<{
  epoch: string;
  lastSeq: number;
  backlog: { count: number };
  lastAck: { seq: number } | null;
  connection: { state: string };
  deadLetters: { count: number };
}> {
  const response = await fetch(`${url}/v1/status`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`agent status answered ${response.status}`);
  return (await response.json()) as Awaited<ReturnType<typeof agentStatus>>;
}

/** A sale as the till sent it and as the agent answered it. */
export interface SubmittedSale {
  terminalId: string;
  transactionId: string;
  /** The JSON the POS submitted, parsed: a stored body must deep-equal it. */
  body: Record<string, unknown>;
  eventId: string;
  seq: number;
}

/**
 * Submits sales to an agent, `concurrency` at a time, and returns them with the agent's answers. Every
 * answer must be 201: these tests are about delivery, not capture, so anything else fails loudly.
 */
export async function submitSales(
  agentUrl: string,
  terminals: readonly TerminalCredential[],
  bodies: readonly Record<string, unknown>[],
  concurrency = 16,
): Promise<SubmittedSale[]> {
  const results: SubmittedSale[] = new Array<SubmittedSale>(bodies.length);
  let next = 0;
  const till = async () => {
    while (next < bodies.length) {
      const i = next++;
      const body = bodies[i]!;
      const terminal = terminals.find((t) => t.id === body.terminalId);
      if (!terminal) throw new Error(`no credentials for terminal ${String(body.terminalId)}`);
      const response = await fetch(`${agentUrl}/v1/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${terminal.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status !== 201)
        throw new Error(`sale ${String(body.transactionId)}: ${response.status} ${text}`);
      const answer = JSON.parse(text) as { eventId: string; seq: number };
      results[i] = {
        terminalId: terminal.id,
        transactionId: String(body.transactionId),
        body,
        eventId: answer.eventId,
        seq: answer.seq,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, till));
  return results;
}

/** Every event row the hub holds for a store, by epoch, with the store's summary. */
export interface StoreSnapshot {
  summary: StoreSummary;
  events: Map<string, StoredEvent[]>;
}

export async function snapshotStore(api: HubApi, storeId: string): Promise<StoreSnapshot> {
  const summary = await api.store(storeId);
  if (!summary) throw new Error(`the hub does not know store ${storeId}`);
  const events = new Map<string, StoredEvent[]>();
  for (const e of summary.epochs) events.set(e.epoch, await api.transactions(storeId, e.epoch));
  return { summary, events };
}

/** How many of these sales the hub holds as stored, in any epoch of the store. */
export async function storedCount(api: HubApi, storeId: string): Promise<number> {
  const summary = await api.store(storeId);
  return summary ? summary.epochs.reduce((n, e) => n + e.stored, 0) : 0;
}

/**
 * Everything that breaks "each 201'd sale reaches head office exactly once, as the POS sent it", in
 * words (empty: sound): a sale not stored, stored twice, stored with another body; a stored
 * transaction no till sold.
 */
export function deliveryViolations(sales: readonly SubmittedSale[], snapshot: StoreSnapshot): string[] {
  const problems: string[] = [];
  const stored = new Map<string, StoredEvent[]>();
  for (const events of snapshot.events.values()) {
    for (const event of events) {
      if (event.status !== 'stored') continue;
      const key = `${event.terminalId}/${event.transactionId}`;
      stored.set(key, [...(stored.get(key) ?? []), event]);
    }
  }
  const sold = new Set<string>();
  for (const sale of sales) {
    const key = `${sale.terminalId}/${sale.transactionId}`;
    sold.add(key);
    const rows = stored.get(key) ?? [];
    if (rows.length !== 1) {
      problems.push(`${key} (answered 201 as seq ${sale.seq}) is stored ${rows.length} times`);
      continue;
    }
    if (!isDeepStrictEqual(rows[0]!.body, sale.body)) problems.push(`${key} is stored with another body`);
  }
  for (const key of stored.keys()) if (!sold.has(key)) problems.push(`${key} is stored but no till sold it`);
  return problems.slice(0, 20);
}

/**
 * What breaks "per-store seqs without gaps" for one epoch: contiguous-through short of the last seq,
 * reported gaps, a seq missing from 1..lastSeq or held twice.
 */
export function streamViolations(snapshot: StoreSnapshot, epoch: string): string[] {
  const stream = snapshot.summary.epochs.find((e) => e.epoch === epoch);
  if (!stream) return [`the hub has no epoch ${epoch}`];
  const problems: string[] = [];
  if (stream.contiguousThrough !== stream.lastSeq) {
    problems.push(
      `epoch ${epoch}: contiguous through ${stream.contiguousThrough} but last seq ${stream.lastSeq}`,
    );
  }
  if (stream.gaps.length > 0) problems.push(`epoch ${epoch}: gaps ${JSON.stringify(stream.gaps)}`);
  const seqs = (snapshot.events.get(epoch) ?? []).map((e) => e.seq);
  const firstBad = seqs.findIndex((seq, i) => seq !== i + 1);
  if (firstBad !== -1 || seqs.length !== stream.lastSeq) {
    problems.push(
      `epoch ${epoch}: seqs are not exactly 1..${stream.lastSeq} (${seqs.length} rows, position ${firstBad + 1} holds ${seqs[firstBad]})`,
    );
  }
  return problems;
}
