import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from './temp-dir.js';

const run = promisify(execFile);

/** PEM file paths of one certificate and its private key. */
export interface CertPair {
  cert: string;
  key: string;
}

/** Client identities; the name is the certificate's CN, which Mosquitto takes as the MQTT username. */
export type ClientName = 'S001' | 'S002' | 'hub-1' | 'hub-2';

export interface TestCerts {
  readonly dir: string;
  /** The test CA: brokers trust it for client certificates, clients trust it for the broker. */
  readonly ca: string;
  /** The broker's certificate, for 127.0.0.1 and localhost (SAN IP:127.0.0.1, DNS:localhost). */
  readonly server: CertPair;
  readonly clients: Readonly<Record<ClientName, CertPair>>;
  /** CN=S001 but signed by another CA: a stolen name without the head-office signature. */
  readonly rogue: CertPair;
}

// EC P-256 keys: a fraction of the time of RSA to generate, and accepted by Mosquitto and Node.
// -nodes (unencrypted keys) is spelt -noenc from OpenSSL 3 on, but the old name works on 1.1.1 too.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = '2';

const SERVER_EXT = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = serverAuth',
  'subjectAltName = IP:127.0.0.1, DNS:localhost',
].join('\n');
const CLIENT_EXT = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = clientAuth',
].join('\n');

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`openssl ${args[0]} failed (is the openssl CLI installed?): ${stderr || String(error)}`);
  }
}

async function makeCa(dir: string, name: string, subject: string): Promise<CertPair> {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  await openssl(dir, [
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    DAYS,
    '-subj',
    subject,
    '-addext',
    'basicConstraints = critical, CA:TRUE',
    '-addext',
    'keyUsage = critical, keyCertSign, cRLSign',
  ]);
  return pair;
}

async function issue(
  dir: string,
  ca: CertPair,
  name: string,
  cn: string,
  extFile: string,
): Promise<CertPair> {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  await openssl(dir, ['req', '-new', ...NEW_KEY, '-keyout', pair.key, '-out', csr, '-subj', `/CN=${cn}`]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    DAYS,
    '-extfile',
    extFile,
    '-out',
    pair.cert,
  ]);
  return pair;
}

async function generate(): Promise<TestCerts> {
  const dir = makeTempDir('certs');
  const serverExt = path.join(dir, 'server.ext');
  const clientExt = path.join(dir, 'client.ext');
  writeFileSync(serverExt, SERVER_EXT + '\n');
  writeFileSync(clientExt, CLIENT_EXT + '\n');

  const ca = await makeCa(dir, 'ca', '/CN=Outpost Test CA');
  const server = await issue(dir, ca, 'server', 'localhost', serverExt);
  const names: ClientName[] = ['S001', 'S002', 'hub-1', 'hub-2'];
  const issued = await Promise.all(names.map((cn) => issue(dir, ca, cn, cn, clientExt)));
  const clients = Object.fromEntries(names.map((cn, i) => [cn, issued[i]!])) as Record<ClientName, CertPair>;
  const rogueCa = await makeCa(dir, 'rogue-ca', '/CN=Not Head Office');
  const rogue = await issue(dir, rogueCa, 'rogue-S001', 'S001', clientExt);

  // Mosquitto started as root drops to the "mosquitto" user before it loads its certificates, so the
  // directory and files must be readable by others. Test keys only; never do this with real ones.
  chmodSync(dir, 0o755);
  for (const file of readdirSync(dir)) chmodSync(path.join(dir, file), 0o644);
  return { dir, ca: ca.cert, server, clients, rogue };
}

let cached: Promise<TestCerts> | undefined;

/**
 * A throwaway PKI made with the openssl CLI in a temp dir: a CA, a broker certificate for 127.0.0.1,
 * client certificates CN=S001, S002, hub-1, hub-2, and a CN=S001 certificate from a rogue CA.
 * Generated once per test file (vitest isolates modules per file) and removed with its temp dirs.
 */
export function testCerts(): Promise<TestCerts> {
  cached ??= generate();
  return cached;
}
