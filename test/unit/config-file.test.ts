import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { applyEnvOverrides, loadConfigFile } from '../../src/lib/config-file.js';
import { ConfigError } from '../../src/lib/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-config-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const goodConfig = () => ({
  storeId: 'store-0042',
  dataDir: path.join(dir, 'data'),
  api: {
    port: 8787,
    terminals: [{ id: 'T1', token: 'till-one-token-0001' }],
  },
});

function writeConfig(content: unknown, name = 'agent.json'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** The ConfigError message loadConfigFile throws for this file and environment. */
function configErrorOf(file: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfigFile(agentConfigSchema, file, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

describe('loadConfigFile', () => {
  it('loads a valid file and fills in the defaults', () => {
    const config = loadConfigFile(agentConfigSchema, writeConfig(goodConfig()), {});
    expect(config.storeId).toBe('store-0042');
    expect(config.api.host).toBe('127.0.0.1');
    expect(config.api.port).toBe(8787);
    expect(config.api.bodyLimitBytes).toBe(256 * 1024);
    expect(config.outbox.ackedRetentionDays).toBe(30);
    expect(config.mqtt).toBeUndefined();
  });

  it('lets OUTPOST_API__PORT, OUTPOST_STORE_ID and OUTPOST_MQTT__URL override the file', () => {
    const config = loadConfigFile(agentConfigSchema, writeConfig(goodConfig()), {
      OUTPOST_API__PORT: '9000',
      OUTPOST_STORE_ID: 'store-0099',
      OUTPOST_MQTT__URL: 'mqtts://broker.example.com:8883',
      UNRELATED: 'ignored',
    });
    expect(config.api.port).toBe(9000);
    expect(config.storeId).toBe('store-0099');
    expect(config.mqtt?.url).toBe('mqtts://broker.example.com:8883');
    expect(config.mqtt?.topicPrefix).toBe('outpost/v1');
    // The rest of the file is untouched by the overrides.
    expect(config.api.terminals).toEqual([{ id: 'T1', token: 'till-one-token-0001' }]);
  });

  it('lets an agent and a hub on one machine each take only the overrides that name their own fields', () => {
    const env = { OUTPOST_STORE_ID: 'store-0099', OUTPOST_HUB_ID: 'hub-7', OUTPOST_API__PORT: '9100' };
    const hub = loadConfigFile(
      hubConfigSchema,
      writeConfig(
        {
          hubId: 'hub-1',
          db: { url: 'sqlite:/tmp/x.sqlite' },
          mqtt: { url: 'mqtt://127.0.0.1:1883' },
          api: { token: 'operator-token-0001' },
        },
        'hub.json',
      ),
      env,
    );
    expect(hub.hubId).toBe('hub-7');
    expect(hub.api.port).toBe(9100);
    const agent = loadConfigFile(agentConfigSchema, writeConfig(goodConfig()), env);
    expect(agent.storeId).toBe('store-0099');
  });

  it('does not modify the object it overrides', () => {
    const raw = goodConfig();
    const { config, applied } = applyEnvOverrides(raw, { OUTPOST_API__PORT: '1', OTHER: 'x' });
    expect(applied).toEqual(['OUTPOST_API__PORT']);
    expect((config.api as { port: unknown }).port).toBe('1');
    expect(raw.api.port).toBe(8787);
  });

  it('names api.port when an environment override is not a number', () => {
    const message = configErrorOf(writeConfig(goodConfig()), { OUTPOST_API__PORT: 'eighty' });
    expect(message).toMatch(/api\.port: must be a port number/);
  });

  it.each([
    ['api.port', { api: { terminals: [{ id: 'T1', token: 'till-one-token-0001' }], port: 70000 } }, /65535/],
    ['storeId', { storeId: 'store 42/x' }, /may contain only letters/],
    ['api.terminals.0.token', { api: { terminals: [{ id: 'T1', token: 'short' }] } }, /at least 16/],
    ['api.terminals', { api: { terminals: [] } }, /at least one terminal/],
    ['mqtt.url', { mqtt: { url: 'http://broker' } }, /mqtt:\/\//],
    ['dataDir', { dataDir: undefined }, /expected string/],
  ])('names %s in the message when it is invalid', (field, change, reason) => {
    const message = configErrorOf(writeConfig({ ...goodConfig(), ...change }));
    const line = message.split('\n').find((l) => l.trim().startsWith(`${field}:`));
    expect(line, message).toBeDefined();
    expect(line).toMatch(reason);
    expect(message).toContain(path.join(dir, 'agent.json'));
  });

  it('names an unknown (misspelt) field instead of ignoring it', () => {
    const message = configErrorOf(writeConfig({ ...goodConfig(), storeID: 'x' }));
    expect(message).toMatch(/storeID/);
  });

  it('says a file that is not JSON cannot be read, and names the file', () => {
    const file = writeConfig('{ "storeId": "s1", ');
    const message = configErrorOf(file);
    expect(message).toContain(`cannot read config file ${file}`);
    expect(message).toMatch(/JSON/);
  });

  it('says a JSON array is not a config object', () => {
    expect(configErrorOf(writeConfig([goodConfig()]))).toMatch(/must hold a JSON object/);
  });

  it('says a missing file cannot be read, and names it', () => {
    const file = path.join(dir, 'nowhere.json');
    const message = configErrorOf(file);
    expect(message).toContain(`cannot read config file ${file}`);
    expect(message).toMatch(/ENOENT|no such file/);
  });
});

/** Runs the real CLI with an environment free of OUTPOST_ overrides; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('OUTPOST_')),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/outpost.js'), ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('outpost agent: bad configuration', () => {
  it('exits 2 with one message naming the bad field', async () => {
    const file = writeConfig({ ...goodConfig(), api: { ...goodConfig().api, port: 'eighty' } });
    const { code, stdout, stderr } = await runCli(['agent', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^outpost: invalid config/);
    expect(stderr).toMatch(/api\.port: must be a port number/);
    expect(stdout).not.toMatch(/listening/);
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('exits 2 naming the file when the config file does not exist', async () => {
    const file = path.join(dir, 'missing.json');
    const { code, stderr } = await runCli(['agent', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(file);
  });

  it('exits 2 naming --config when it is not given', async () => {
    const { code, stderr } = await runCli(['agent']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--config/);
  });
});
