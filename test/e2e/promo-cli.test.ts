import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PromotionDetail, PromotionListEntry, PublishOutcome } from '../../src/hub/index.js';
import { keyIdOf, parsePublicKey } from '../../src/promotions/index.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { promotionDraft } from '../support/promotion-documents.js';
import { PromotionStoreSim } from '../support/promotion-store-sim.js';
import { runOutpost } from '../support/spawn-agent.js';
import { spawnHub, waitFor, writeHubConfig, type HubProcess } from '../support/spawn-hub.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * `outpost promo …` end to end: the real CLI against a real hub process (and a private Mosquitto),
 * from making the key to following a rollout, and what each mistake costs: one clear message, exit 2.
 */

const TOKEN = 'operator-token-for-promo-cli-0123';
const KEY_ENV = 'OUTPOST_PROMOTIONS__SIGNING_KEY_FILE';

let broker: TestMosquitto;
let keyDir: string;
let hub: HubProcess;

const promo = (args: string[], extraEnv: Record<string, string> = { OUTPOST_HUB_TOKEN: TOKEN }) =>
  runOutpost(['promo', ...args], { extraEnv });

function documentFile(overrides: Record<string, unknown> = {}): string {
  const file = path.join(makeTempDir('promo-doc'), 'promotion.json');
  writeFileSync(file, JSON.stringify(promotionDraft(overrides), null, 2));
  return file;
}

beforeAll(async () => {
  broker = await startMosquitto();
  keyDir = path.join(makeTempDir('promo-keys'), 'keys');
  const made = await promo(['keygen', '--out', keyDir]);
  expect(made.code, made.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

/** A hub process signing with the key keygen made (spawned processes are killed after each test). */
const startKeyedHub = () =>
  spawnHub({
    dbUrl: `sqlite:${path.join(makeTempDir('promo-hub'), 'hub.sqlite')}`,
    mqttUrl: broker.url,
    token: TOKEN,
    extraEnv: { [KEY_ENV]: path.join(keyDir, 'promotion-signing-key.pem') },
  });

describe('outpost promo keygen', () => {
  it('writes the private key readable by its owner only, prints the public key and its id, and never overwrites', async () => {
    const dir = path.join(makeTempDir('keygen'), 'new');
    const made = await promo(['keygen', '--out', dir, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const printed = JSON.parse(made.stdout) as { keyId: string; publicKey: string; privateKeyFile: string };
    expect(statSync(printed.privateKeyFile).mode & 0o777).toBe(0o600);
    expect(keyIdOf(parsePublicKey(printed.publicKey))).toBe(printed.keyId);
    const before = readFileSync(printed.privateKeyFile, 'utf8');

    const again = await promo(['keygen', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/promotion-signing-key\.pem exists already; a key is never overwritten/);
    expect(readFileSync(printed.privateKeyFile, 'utf8')).toBe(before);

    const text = await promo(['keygen', '--out', path.join(dir, 'other')]);
    expect(text.stdout).toMatch(/promotions\.trustedKeys/);
    expect(text.stdout).toMatch(/key id: {6}[A-Za-z0-9_-]{22}/);
  });
});

describe('outpost promo push, list, status, activate, withdraw', () => {
  beforeEach(async () => {
    hub = await startKeyedHub();
  }, 30_000);

  it('pushes a promotion, refuses the same version again and nonsense with its paths (exit 2)', async () => {
    const pushed = await promo(['push', documentFile({ promotionId: 'CLI-A' }), '--hub', hub.url]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(
      /^Promotion CLI-A version 1 \(active\) pushed, signed with key [A-Za-z0-9_-]{22}\./,
    );
    expect(pushed.stdout).toMatch(
      /Published, retained, on 1 topic\(s\): outpost\/v1\/promotions\/all\/CLI-A/,
    );

    const again = await promo(['push', documentFile({ promotionId: 'CLI-A' }), '--hub', hub.url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /promotion CLI-A is at version 1 \(active\): push it as version 2 or higher, not 1/,
    );

    const nonsense = await promo([
      'push',
      documentFile({ promotionId: 'CLI-B', rule: { kind: 'percent-off', percent: 120 } }),
      '--hub',
      hub.url,
    ]);
    expect(nonsense.code).toBe(2);
    expect(nonsense.stderr).toMatch(/the hub refused it: not a valid promotion document/);
    expect(nonsense.stderr).toMatch(/\n {2}rule\.percent: must be more than 0 and at most 100/);
  });

  it('stages a promotion, activates it, lists it, shows its rollout and withdraws it', async () => {
    const store = await PromotionStoreSim.connect({ url: broker.url, storeId: 'S1' });
    try {
      await store.publishStatus('online');
      await waitFor('the hub knows S1', async () =>
        (await hub.api.get<{ stores: { storeId: string }[] }>('/v1/stores')).stores.length > 0
          ? true
          : undefined,
      );
      const staged = await promo([
        'push',
        documentFile({ promotionId: 'CLI-S' }),
        '--hub',
        hub.url,
        '--staged',
        '--json',
      ]);
      expect(staged.code, staged.stderr).toBe(0);
      expect((JSON.parse(staged.stdout) as PublishOutcome).version).toMatchObject({
        version: 1,
        state: 'staged',
      });

      const activated = await promo(['activate', 'CLI-S', '--hub', hub.url]);
      expect(activated.code, activated.stderr).toBe(0);
      expect(activated.stdout).toMatch(/^Promotion CLI-S version 2 \(active\) activated/);
      const twice = await promo(['activate', 'CLI-S', '--hub', hub.url]);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toMatch(/active already/);

      const list = await promo(['list', '--hub', hub.url]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/^PROMOTION +VERSION +STATE +APPLIED +REFUSED +PENDING/);
      expect(list.stdout).toMatch(/\nCLI-S +2 +active +0\/1 +0 +1 /);
      const json = JSON.parse((await promo(['list', '--hub', hub.url, '--json'])).stdout) as {
        promotions: PromotionListEntry[];
      };
      expect(json.promotions.find((p) => p.promotionId === 'CLI-S')?.rollout).toEqual({
        targeted: 1,
        applied: 0,
        refused: 0,
        pending: 1,
      });

      const status = await promo(['status', 'CLI-S', '--hub', hub.url]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        /^Promotion CLI-S: Ten percent off coffee\n\nVersion 2: active, activate by operator via hub-1/,
      );
      expect(status.stdout).toMatch(/0 applied, 0 refused, 1 pending, of 1 targeted store\(s\)/);
      expect(status.stdout).toMatch(/\n {2}S1 +pending +[0-9-]+ [0-9:]+ +online/);
      expect(status.stdout).toMatch(/\nVersion 1: staged, push by operator via hub-1/);
      const detail = JSON.parse(
        (await promo(['status', 'CLI-S', '--hub', hub.url, '--json'])).stdout,
      ) as PromotionDetail;
      expect(detail.versions.map((v) => [v.version, v.state])).toEqual([
        [2, 'active'],
        [1, 'staged'],
      ]);

      const withdrawn = await promo(['withdraw', 'CLI-S', '--hub', hub.url]);
      expect(withdrawn.code, withdrawn.stderr).toBe(0);
      expect(withdrawn.stdout).toMatch(/^Promotion CLI-S version 3 \(withdrawn\) withdrawn/);
      expect((await promo(['withdraw', 'CLI-S', '--hub', hub.url])).code).toBe(2);
      const unknown = await promo(['status', 'NO-SUCH', '--hub', hub.url]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no promotion NO-SUCH on this hub/);
    } finally {
      await store.close();
    }
  });

  it('pushes with --activate-when as a staged promotion with that share', async () => {
    const pushed = await promo([
      'push',
      documentFile({ promotionId: 'CLI-W' }),
      '--hub',
      hub.url,
      '--activate-when',
      '75%',
      '--json',
    ]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect((JSON.parse(pushed.stdout) as PublishOutcome).version).toMatchObject({
      state: 'staged',
      activateWhenShare: 0.75,
    });
  });

  it.each([
    [
      'no token',
      ['list', '--hub', 'HUB'],
      {},
      /no operator token: pass --token TOKEN or set OUTPOST_HUB_TOKEN/,
    ],
    [
      'a wrong token',
      ['list', '--hub', 'HUB', '--token', 'wrong-token-0123456789'],
      {},
      /the hub refused the operator token/,
    ],
    [
      'a share above 1',
      ['push', 'FILE', '--hub', 'HUB', '--activate-when', '150%'],
      undefined,
      /--activate-when must be a share/,
    ],
    [
      'a missing file',
      ['push', '/nonexistent/promo.json', '--hub', 'HUB'],
      undefined,
      /cannot read the promotion file/,
    ],
    [
      'a hub that is not a URL',
      ['list', '--hub', 'hub:8788:x'],
      undefined,
      /--hub must be an http:\/\/ or https:\/\/ URL|--hub must be a URL/,
    ],
    ['no --hub', ['list'], undefined, /required option '--hub <url>'/],
  ])('%s: one clear message, exit 2', async (_what, args, env, message) => {
    const filled = args.map((a) => (a === 'HUB' ? hub.url : a === 'FILE' ? documentFile() : a));
    const result = await promo(filled, env ?? { OUTPOST_HUB_TOKEN: TOKEN });
    expect(result.code, result.stdout).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('a hub and its signing key', () => {
  it('without a key answers a push with how to configure one (exit 1, nothing published)', async () => {
    const bare = await spawnHub({
      dbUrl: `sqlite:${path.join(makeTempDir('promo-bare-hub'), 'hub.sqlite')}`,
      mqttUrl: broker.url,
      hubId: 'hub-2',
      token: TOKEN,
    });
    try {
      const pushed = await promo(['push', documentFile({ promotionId: 'NO-KEY' }), '--hub', bare.url]);
      expect(pushed.code).toBe(1);
      expect(pushed.stderr).toMatch(
        /the hub answered 501: this hub has no promotion signing key.*outpost promo keygen/,
      );
      expect((await promo(['list', '--hub', bare.url])).stdout).toMatch(/No promotions on this hub yet/);
    } finally {
      await bare.kill();
    }
  });

  it.each([
    ['a missing file', () => path.join(keyDir, 'absent.pem'), /no such file/],
    ['the public key', () => path.join(keyDir, 'promotion-signing-key.pub.pem'), /holds a public key/],
  ])(
    'with %s as promotions.signingKeyFile does not start: exit 2 naming the field',
    async (_what, keyFile, message) => {
      const config = writeHubConfig({
        dbUrl: `sqlite:${path.join(makeTempDir('promo-bad-key'), 'hub.sqlite')}`,
        mqttUrl: broker.url,
        hubId: 'hub-3',
        token: TOKEN,
      });
      const file = keyFile();
      const result = await runOutpost(['hub', '--config', config], { extraEnv: { [KEY_ENV]: file } });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(`promotions\\.signingKeyFile ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `),
      );
      expect(result.stderr).toMatch(message);
    },
  );
});
