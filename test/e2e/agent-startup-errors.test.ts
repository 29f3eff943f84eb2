import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  makeTerminals,
  runOutpost,
  spawnAgent,
  writeAgentConfig,
  type CompletedOutpost,
} from '../support/spawn-agent.js';
import { makeDiskReadOnly, makeTempDir, mountSmallDisk } from '../support/temp-dir.js';
import { testCerts } from '../support/test-certs.js';

/**
 * README: "Bad flags or config print one message naming the field and exit with code 2." Each mistake a
 * technician can make in an agent's set-up, run through the real CLI: one line on stderr naming the
 * setting (or the variable), the path and what is wrong, exit 2, and never a raw errno trace.
 */

const TERMINALS = makeTerminals(['T1']);
const NOBODY = 65534;

function config(dataDir: string, extra: Record<string, unknown> = {}) {
  return { storeId: 'S042', dataDir, api: { host: '127.0.0.1', port: 0, terminals: TERMINALS }, ...extra };
}

async function agentWith(
  settings: Record<string, unknown>,
  options: Parameters<typeof runOutpost>[1] = {},
): Promise<CompletedOutpost> {
  return runOutpost(['agent', '--config', writeAgentConfig(settings)], options);
}

/** Exit 2, and stderr is exactly one line: the message, with no stack trace or errno dump. */
function expectOneMessage(result: CompletedOutpost, message: string | RegExp): string {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toBe(`outpost: ${message}`);
  else expect(lines[0]).toMatch(message);
  expect(lines[0]).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

function logLines(dataDir: string): { message: string; error?: string; level: string }[] {
  const dir = path.join(dataDir, 'logs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').trim().split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { message: string; error?: string; level: string });
}

describe('outpost agent: set-up mistakes', () => {
  it('says the API port is in use (naming port and host), logs it, and exits 2', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const dataDir = makeTempDir('port-in-use');
    try {
      const result = await agentWith(
        config(dataDir, { api: { host: '127.0.0.1', port, terminals: TERMINALS } }),
      );
      const message =
        `api.port ${port} is in use on 127.0.0.1: another program (perhaps another Outpost agent) ` +
        'listens there. Stop it, or set api.port to a free port.';
      expectOneMessage(result, message);
      expect(logLines(dataDir)).toContainEqual(
        expect.objectContaining({ level: 'error', message: 'agent did not start', error: message }),
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('blames a port taken by a variable on the variable', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const result = await agentWith(config(makeTempDir('port-env')), {
        extraEnv: { OUTPOST_API__PORT: String(port) },
      });
      expectOneMessage(
        result,
        new RegExp(`^outpost: api\\.port \\(set by OUTPOST_API__PORT\\) ${port} is in use`),
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('says a dataDir that cannot be created cannot be created, and why', async () => {
    const parent = makeTempDir('not-a-dir');
    writeFileSync(path.join(parent, 'file'), 'x');
    const dataDir = path.join(parent, 'file', 'data');
    expectOneMessage(
      await agentWith(config(dataDir)),
      `dataDir: ${dataDir} cannot be created: it has a file where a directory should be in its path. ` +
        'The agent keeps its outbox and logs there: give its user write access, or choose another dataDir.',
    );
  });

  it('says a dataDir on a read-only disk cannot be written', async () => {
    const disk = mountSmallDisk('read-only', 1024 * 1024);
    mkdirSync(path.join(disk, 'data'));
    makeDiskReadOnly(disk);
    const dataDir = path.join(disk, 'data');
    expectOneMessage(
      await agentWith(config(dataDir)),
      `dataDir: cannot write in ${dataDir}: it is on a read-only file system. ` +
        'The agent keeps its outbox and logs there: give its user write access, or choose another dataDir.',
    );
  });

  it("says a dataDir the agent's user may not write in is not accessible", async () => {
    const dataDir = makeTempDir('not-mine');
    const configFile = writeAgentConfig(config(dataDir));
    chmodSync(path.dirname(configFile), 0o755);
    const result = await runOutpost(['agent', '--config', configFile], { uid: NOBODY });
    expectOneMessage(
      result,
      `dataDir: cannot write in ${dataDir}: it cannot be accessed by the agent's user (permission denied). ` +
        'The agent keeps its outbox and logs there: give its user write access, or choose another dataDir.',
    );
  });

  it('says an outbox file that is no database is not an outbox, rather than open it', async () => {
    const dataDir = makeTempDir('not-an-outbox');
    const file = path.join(dataDir, 'outbox.sqlite');
    writeFileSync(file, 'these are not the sales you are looking for');
    expectOneMessage(
      await agentWith(config(dataDir)),
      `dataDir: ${file} is not an Outpost outbox (not an SQLite database). If dataDir is right, the file is ` +
        'damaged: move it aside (it may hold unsent sales) and call support; the agent then starts a new outbox.',
    );
    expect(readFileSync(file, 'utf8')).toBe('these are not the sales you are looking for');
  });

  it('says a missing mqtt.ca does not exist, naming the variable that set it', async () => {
    const missing = path.join(makeTempDir('no-ca'), 'ca.pem');
    expectOneMessage(
      await agentWith(config(makeTempDir('data'), { mqtt: { url: 'mqtts://127.0.0.1:8883', ca: missing } })),
      `mqtt.ca: ${missing} does not exist`,
    );
    expectOneMessage(
      await agentWith(config(makeTempDir('data'), { mqtt: { url: 'mqtts://127.0.0.1:8883' } }), {
        extraEnv: { OUTPOST_MQTT__CA: missing },
      }),
      `mqtt.ca (set by OUTPOST_MQTT__CA): ${missing} does not exist`,
    );
  });

  it("says an mqtt.cert the agent's user cannot read is not accessible", async () => {
    const certs = await testCerts();
    const dir = makeTempDir('secret-cert');
    chmodSync(dir, 0o755);
    const cert = path.join(dir, 'S042.pem');
    writeFileSync(cert, readFileSync(certs.clients.S001.cert), { mode: 0o600 });
    const dataDir = makeTempDir('data-nobody');
    chownSync(dataDir, NOBODY, NOBODY);
    const configFile = writeAgentConfig(
      config(dataDir, {
        mqtt: { url: 'mqtts://127.0.0.1:8883', ca: certs.ca, cert, key: certs.clients.S001.key },
      }),
    );
    chmodSync(path.dirname(configFile), 0o755);
    expectOneMessage(
      await runOutpost(['agent', '--config', configFile], { uid: NOBODY }),
      `mqtt.cert: ${cert} cannot be accessed by the agent's user (permission denied)`,
    );
  });

  it('says an mqtt.ca that is a directory is not a file, and one that holds no certificate is not one', async () => {
    const certs = await testCerts();
    const dir = makeTempDir('ca-dir');
    expectOneMessage(
      await agentWith(config(makeTempDir('data'), { mqtt: { url: 'mqtts://127.0.0.1:8883', ca: dir } })),
      `mqtt.ca: ${dir} is a directory, not a file`,
    );
    expectOneMessage(
      await agentWith(
        config(makeTempDir('data'), { mqtt: { url: 'mqtts://127.0.0.1:8883', ca: certs.clients.S001.key } }),
      ),
      `mqtt.ca: ${certs.clients.S001.key} is not a PEM certificate (the CA that signed the broker's certificate)`,
    );
  });

  it('says an mqtt.key that does not belong to mqtt.cert does not, and that one without the other is missing its pair', async () => {
    const certs = await testCerts();
    const url = 'mqtts://127.0.0.1:8883';
    expectOneMessage(
      await agentWith(
        config(makeTempDir('data'), {
          mqtt: { url, ca: certs.ca, cert: certs.clients.S001.cert, key: certs.clients.S002.key },
        }),
      ),
      `mqtt.key: ${certs.clients.S002.key} is not the private key of the certificate in ${certs.clients.S001.cert} (mqtt.cert)`,
    );
    expectOneMessage(
      await agentWith(
        config(makeTempDir('data'), { mqtt: { url, ca: certs.ca, cert: certs.clients.S001.cert } }),
      ),
      'mqtt.key: required with mqtt.cert (a client certificate and its private key go together)',
    );
    expectOneMessage(
      await agentWith(
        config(makeTempDir('data'), {
          mqtt: { url, ca: certs.ca, cert: certs.clients.S001.cert, key: certs.ca },
        }),
      ),
      `mqtt.key: ${certs.ca} is not an unencrypted PEM private key`,
    );
  });

  it('blames a bad environment override on the variable', async () => {
    const result = await agentWith(config(makeTempDir('data')), { extraEnv: { OUTPOST_API__PORT: 'abc' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^outpost: invalid environment override \(applied over .*agent\.json\):\n/);
    expect(result.stderr).toContain('\n  OUTPOST_API__PORT=abc: must be a port number\n');
  });

  it('says "required" for a missing field and suggests the key meant for a misspelt one', async () => {
    const { storeId: _storeId, ...withoutStoreId } = config(makeTempDir('data'), {
      mqtt: { url: 'mqtt://127.0.0.1:1883', keepAliveSeconds: 30 },
    });
    const result = await agentWith(withoutStoreId);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toEqual(
      expect.arrayContaining([
        '  storeId: required',
        '  mqtt.keepAliveSeconds: unknown key (did you mean keepaliveSeconds?)',
      ]),
    );
  });

  it('refuses a dataDir that belongs to another store, saying what to do, and exits 2', async () => {
    const dataDir = makeTempDir('store-id');
    const first = await spawnAgent({ dataDir, terminals: TERMINALS, storeId: 'S042' });
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const result = await agentWith({ ...config(dataDir), storeId: 'S043' });
    const line = expectOneMessage(
      result,
      /^outpost: storeId is "S043", but the outbox in dataDir .* belongs to store "S042"\./,
    );
    expect(line).toContain('set storeId back to "S042"');
    expect(line).toContain('give it a new, empty dataDir');
    // The refused start changed nothing: the store it belongs to still starts.
    const again = await spawnAgent({ dataDir, terminals: TERMINALS, storeId: 'S042' });
    expect(await again.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
