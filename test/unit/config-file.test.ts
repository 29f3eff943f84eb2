import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import {
  applyEnvOverrides,
  editDistance,
  loadConfigFile,
  loadConfigWithSources,
  nearestKey,
} from '../../src/lib/config-file.js';
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

  it('blames a bad value from an environment override on the variable, not on the config file', () => {
    const file = writeConfig(goodConfig());
    const message = configErrorOf(file, { OUTPOST_API__PORT: 'abc' });
    expect(message).toBe(
      `invalid environment override (applied over ${file}):\n  OUTPOST_API__PORT=abc: must be a port number`,
    );
    expect(message).not.toMatch(/invalid config in/);
  });

  it('blames the file for what is in the file and the variable for what is in the environment', () => {
    const file = writeConfig({ ...goodConfig(), storeId: 'store 42' });
    const message = configErrorOf(file, { OUTPOST_API__PORT: '70000' });
    expect(message).toMatch(new RegExp(`^invalid config in ${file}:`));
    expect(message).toMatch(/\n {2}storeId: storeId may contain only letters/);
    expect(message).toMatch(/\n {2}OUTPOST_API__PORT=70000: must be between 0 and 65535/);
  });

  it('never echoes a secret from the environment', () => {
    const file = writeConfig(
      {
        hubId: 'hub-1',
        db: { url: 'sqlite:/tmp/x.sqlite' },
        mqtt: { url: 'mqtt://127.0.0.1:1883' },
        api: { token: 'operator-token-0001' },
      },
      'hub.json',
    );
    let message = '';
    try {
      loadConfigFile(hubConfigSchema, file, { OUTPOST_API__TOKEN: 'sesame' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/OUTPOST_API__TOKEN=\(hidden\): the operator API token must be at least 16/);
    expect(message).not.toContain('sesame');
  });

  it('takes a variable for a field the file leaves out, spelt in any case', () => {
    const config = loadConfigFile(agentConfigSchema, writeConfig(goodConfig()), {
      OUTPOST_MQTT__URL: 'mqtt://broker:1883',
      OUTPOST_MQTT__KEEPALIVESECONDS: '12',
    });
    expect(config.mqtt?.keepaliveSeconds).toBe(12);
  });

  it('suggests the variable meant when one names no field', () => {
    const message = configErrorOf(writeConfig(goodConfig()), {
      OUTPOST_MQTT__URL: 'mqtt://broker:1883',
      OUTPOST_MQTT__KEEPALIVE: '30',
    });
    expect(message).toContain(
      'OUTPOST_MQTT__KEEPALIVE=30: names no field of the config (did you mean OUTPOST_MQTT__KEEPALIVE_SECONDS?)',
    );
  });

  it('says which variable set a field, for messages about its value that come later', () => {
    const loaded = loadConfigWithSources(agentConfigSchema, writeConfig(goodConfig()), {
      OUTPOST_MQTT__URL: 'mqtts://broker:8883',
      OUTPOST_MQTT__CA: '/etc/outpost/ca.pem',
    });
    expect(loaded.fieldName('mqtt.ca')).toBe('mqtt.ca (set by OUTPOST_MQTT__CA)');
    expect(loaded.fieldName('dataDir')).toBe('dataDir');
  });

  it.each([
    ['storeId', { storeId: undefined }],
    ['dataDir', { dataDir: undefined }],
    ['api.terminals', { api: { port: 8787 } }],
    ['api', { api: undefined }],
  ])('says "required" when %s is missing', (field, change) => {
    const message = configErrorOf(writeConfig({ ...goodConfig(), ...change }));
    expect(message.split('\n')).toContain(`  ${field}: required`);
  });

  it('suggests the nearest known key for a misspelt one (keepAliveSeconds → keepaliveSeconds)', () => {
    const message = configErrorOf(
      writeConfig({ ...goodConfig(), mqtt: { url: 'mqtt://broker:1883', keepAliveSeconds: 30 } }),
    );
    expect(message).toContain('mqtt.keepAliveSeconds: unknown key (did you mean keepaliveSeconds?)');
  });

  it('suggests nothing for a key that resembles none', () => {
    const message = configErrorOf(writeConfig({ ...goodConfig(), colour: 'blue' }));
    expect(message).toContain('colour: unknown key');
    expect(message).not.toMatch(/did you mean/);
  });

  it.each([
    ['api.port', { api: { terminals: [{ id: 'T1', token: 'till-one-token-0001' }], port: 70000 } }, /65535/],
    ['storeId', { storeId: 'store 42/x' }, /may contain only letters/],
    ['api.terminals.0.token', { api: { terminals: [{ id: 'T1', token: 'short' }] } }, /at least 16/],
    ['api.terminals', { api: { terminals: [] } }, /at least one terminal/],
    ['mqtt.url', { mqtt: { url: 'http://broker' } }, /mqtt:\/\//],
    ['dataDir', { dataDir: '' }, /must be a directory path/],
  ])('names %s in the message when it is invalid', (field, change, reason) => {
    const message = configErrorOf(writeConfig({ ...goodConfig(), ...change }));
    const line = message.split('\n').find((l) => l.trim().startsWith(`${field}:`));
    expect(line, message).toBeDefined();
    expect(line).toMatch(reason);
    expect(message).toContain(path.join(dir, 'agent.json'));
  });

  it('names an unknown (misspelt) field instead of ignoring it', () => {
    const message = configErrorOf(writeConfig({ ...goodConfig(), storeID: 'x' }));
    expect(message).toMatch(/storeID: unknown key \(did you mean storeId\?\)/);
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

describe('nearest key', () => {
  it('measures edits without regard to case', () => {
    expect(editDistance('keepAliveSeconds', 'keepaliveSeconds')).toBe(0);
    expect(editDistance('topicPrefx', 'topicPrefix')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests a near miss or a key cut short, and nothing that is far off', () => {
    const known = ['url', 'keepaliveSeconds', 'topicPrefix', 'protocolVersion'];
    expect(nearestKey('topicprefx', known)).toBe('topicPrefix');
    expect(nearestKey('keepalive', known)).toBe('keepaliveSeconds');
    expect(nearestKey('urls', known)).toBe('url');
    expect(nearestKey('colour', known)).toBeUndefined();
    expect(nearestKey('x', [])).toBeUndefined();
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

describe('agent config messages', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-config-messages-'));
  });
  afterEach(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  const base = {
    storeId: 'store-0042',
    dataDir: '/var/lib/outpost',
    api: { terminals: [{ id: 'T1', token: 'till-one-token-0001' }] },
  };

  it.each([
    [
      'api.host',
      { api: { ...base.api, host: '' } },
      'must be an address to listen on, e.g. 0.0.0.0 or 127.0.0.1',
    ],
    ['api.terminals', { api: { terminals: 'T1' } }, 'must be a list of {id, token}, one per terminal'],
    [
      'api.terminals.0.token',
      { api: { terminals: [{ id: 'T1', token: 42 }] } },
      'must be the terminal token, a string',
    ],
    ['mqtt.url', { mqtt: { url: 42 } }, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'],
    [
      'mqtt.ca',
      { mqtt: { url: 'mqtts://b:8883', ca: '' } },
      "must be the path of a PEM file with the CA that signed the broker's certificate",
    ],
    [
      'mqtt.protocolVersion',
      { mqtt: { url: 'mqtt://b', protocolVersion: 3 } },
      'must be 4 (MQTT 3.1.1) or 5 (MQTT 5)',
    ],
    [
      'mqtt.keepaliveSeconds',
      { mqtt: { url: 'mqtt://b', keepaliveSeconds: 0 } },
      'must be a number of seconds above 0',
    ],
    [
      'mqtt.keepaliveSeconds',
      { mqtt: { url: 'mqtt://b', keepaliveSeconds: 1.5 } },
      'must be a number of seconds, a whole number',
    ],
    ['sync.lingerMs', { sync: { lingerMs: -1 } }, 'must not be negative'],
    ['log.level', { log: { level: 'loud' } }, 'must be one of error, warn, info, debug'],
    ['log.console', { log: { console: 'maybe' } }, 'must be true or false'],
  ])('says what %s must be', (field, change, message) => {
    const file = path.join(scratch, 'agent.json');
    fs.writeFileSync(file, JSON.stringify({ ...base, ...change }));
    let text = '';
    try {
      loadConfigFile(agentConfigSchema, file, {});
    } catch (error) {
      text = (error as Error).message;
    }
    expect(text.split('\n')).toContain(`  ${field}: ${message}`);
  });
});
