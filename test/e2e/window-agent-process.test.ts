import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { WindowSnapshot } from '../../src/contracts/window-api.js';
import { silentLogger } from '../../src/lib/logger.js';
import { UtilityAgentHost, type AgentProcess } from '../../src/main/agent-host.js';
import { AGENT_CONFIG_ARG } from '../../src/main/agent-link-messages.js';
import { freePort } from '../support/mosquitto-binary.js';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The desktop app's agent process, for real but without Electron: src/main/agent-process.ts runs in a Node
 * child process whose `process.parentPort` is a stand-in over Node's IPC channel (Electron gives a utility
 * process the same `on('message')` / `postMessage` shape). The main process's side is the real
 * UtilityAgentHost. The agent inside is the real one, with its outbox on disk.
 */

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AGENT_PROCESS = path.join(REPO_ROOT, 'src/main/agent-process.ts');
const PARENT_PORT_SHIM =
  'data:text/javascript,' +
  encodeURIComponent(
    'process.parentPort = { on: (e, l) => process.on(e, (data) => l({ data, ports: [] })), postMessage: (m) => process.send(m) };',
  );

function forkAgentProcess(configFile: string): AgentProcess {
  const child = fork(AGENT_PROCESS, [AGENT_CONFIG_ARG, configFile], {
    execArgv: ['--import', 'tsx', '--import', PARENT_PORT_SHIM],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return {
    postMessage: (message) => child.send(message as object),
    on: ((event: 'message' | 'exit', listener: (arg: never) => void) => {
      if (event === 'message') child.on('message', listener as (m: unknown) => void);
      else child.on('exit', (code) => (listener as (code: number) => void)(code ?? 1));
    }) as AgentProcess['on'],
    kill: () => child.kill('SIGKILL'),
  };
}

const hosts: UtilityAgentHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop();
});

async function until<T>(read: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the desktop app's agent process", () => {
  it('hosts the real agent: tills sell, the window hears it, Quit stops it with the unsent count', async () => {
    const dataDir = makeTempDir('agent-process');
    const port = await freePort();
    const token = 'till-one-token-0123456789';
    const configFile = path.join(dataDir, 'agent.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        storeId: 'S042',
        dataDir,
        api: { host: '127.0.0.1', port, terminals: [{ id: 'T1', token }] },
      }),
    );
    const host = new UtilityAgentHost({ fork: () => forkAgentProcess(configFile), logger: silentLogger() });
    hosts.push(host);
    const pushed: WindowSnapshot[] = [];
    host.onSnapshot((s) => pushed.push(s));
    await host.start();

    await expect(host.readiness()).resolves.toEqual({
      commitsInFlight: 0,
      storageWritable: true,
      unsentCount: 0,
    });
    const first = await host.snapshot();
    expect(first.status.storeId).toBe('S042');
    expect(first.status.connection.state).toBe('not-configured');

    for (let n = 1; n <= 3; n++) {
      const response = await fetch(`http://127.0.0.1:${port}/v1/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(numberedSale('T1', n)),
      });
      expect(response.status).toBe(201);
    }
    // Pushed, not asked for: each capture tells the window something changed, and the agent process sends it.
    const live = await until(() => pushed.find((s) => s.status.backlog.count === 3), 10_000);
    expect(live.status.backlog.atRisk).toEqual([{ currency: 'EUR', amount: expect.any(Number) }]);
    expect(live.history.points.at(-1)?.backlog).toBe(3);
    await expect(host.readiness()).resolves.toMatchObject({ unsentCount: 3 });

    await expect(host.stop()).resolves.toEqual({ unsentCount: 3, storageWritable: true });
    await expect(host.readiness()).resolves.toBeNull();
    const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
  });
});
