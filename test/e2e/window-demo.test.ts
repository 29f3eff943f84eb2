import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_HEADER, WINDOW_ROUTES, windowSnapshotSchema } from '../../src/contracts/window-api.js';
import { killLeftovers, spawnOutpost } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * `outpost demo` runs a broker, a hub and a store agent in one process. The store's status window shows
 * the agent's own warnings; the hub's must stay out of it, and each part keeps its own log files.
 */

afterEach(killLeftovers);

/** Everything one part wrote to its log folder. */
function logText(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .map((name) => readFileSync(path.join(dir, name), 'utf8'))
    .join('');
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not seen in time: ${what}`);
}

describe('outpost demo', () => {
  it("keeps the hub's warnings out of the store's window, each part logging to its own files", async () => {
    const dir = makeTempDir('window-demo');
    let windowUrl: string | undefined;
    const demo = await spawnOutpost(['demo', '--rate', '2', '--dir', dir], {
      ready: (line) => {
        if (typeof line !== 'string') return undefined;
        const window = /Status window:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(line);
        if (window) windowUrl = window[1];
        const hub = /Bearer ([0-9a-f]+)' (http:\/\/127\.0\.0\.1:\d+)\/v1\/stores$/.exec(line);
        return hub ? { token: hub[1]!, hubUrl: hub[2]! } : undefined;
      },
      timeoutMs: 30_000,
    });
    const { hubUrl } = demo.ready;
    const agentUrl = windowUrl!;

    // The hub warns: someone signs in to its console with a wrong operator token.
    const hubWarning = await fetch(`${hubUrl}/v1/console/session`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-operator-token', [ACTION_HEADER.name]: ACTION_HEADER.value },
    });
    expect(hubWarning.status).toBe(401);
    // The agent warns: someone acts in the status window with a wrong manager credential.
    const agentWarning = await fetch(`${agentUrl}${WINDOW_ROUTES.retry('01JDEADLETTER0000000000001')}`, {
      method: 'POST',
      headers: {
        origin: agentUrl,
        'content-type': 'application/json',
        authorization: 'Bearer not-the-manager-credential',
        [ACTION_HEADER.name]: ACTION_HEADER.value,
      },
      body: '{}',
    });
    expect(agentWarning.status).toBe(401);

    const notices = await until("the agent's warning in the window", async () => {
      const snapshot = windowSnapshotSchema.parse(
        await (await fetch(`${agentUrl}${WINDOW_ROUTES.snapshot}`)).json(),
      );
      return snapshot.notices.some((n) => n.code === 'wrong-manager-credential')
        ? snapshot.notices
        : undefined;
    });
    expect(notices.filter((n) => n.details.includes("operator's console"))).toEqual([]);

    const storeLogs = path.join(dir, 'store-001', 'logs');
    const hubLogs = path.join(dir, 'hub', 'logs');
    await until('both warnings on disk', () =>
      logText(storeLogs).includes('status window action with a wrong manager credential') &&
      logText(hubLogs).includes("operator's console: sign-in with a wrong operator token")
        ? true
        : undefined,
    );
    expect(logText(storeLogs)).not.toContain("operator's console");
    expect(logText(hubLogs)).not.toContain('status window action');
    expect(existsSync(path.join(dir, 'broker', 'logs'))).toBe(true);

    const exit = await demo.kill('SIGINT');
    expect(exit.code).toBe(0);
  }, 90_000);
});
