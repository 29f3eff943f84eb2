import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiErrorSchema } from '../contracts/api.js';
import { ConfigError, NotFoundError, errorMessage } from '../lib/errors.js';
import { generateSigningKeyPair } from '../promotions/index.js';
import type { PromotionDetail, PromotionListEntry, PublishOutcome, StoreRollout } from '../hub/index.js';
import { formatTable } from './text-table.js';

/** The flags every `outpost promo` command that talks to a hub takes. */
export interface HubFlags {
  hub: string;
  token?: string;
  json?: boolean;
}

export const PRIVATE_KEY_FILE = 'promotion-signing-key.pem';
export const PUBLIC_KEY_FILE = 'promotion-signing-key.pub.pem';
const REQUEST_TIMEOUT_MS = 30_000;

const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

function hubBase(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--hub must be a URL such as http://hub.example.com:8788, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`--hub must be an http:// or https:// URL, got "${value}"`);
  return url.toString().replace(/\/+$/, '');
}

/** The operator token: --token, else OUTPOST_HUB_TOKEN (which keeps it out of shell history and `ps`). */
function operatorToken(flags: HubFlags, env: NodeJS.ProcessEnv): string {
  const token = flags.token ?? env.OUTPOST_HUB_TOKEN;
  if (token === undefined || token.length === 0)
    throw new ConfigError(
      "no operator token: pass --token TOKEN or set OUTPOST_HUB_TOKEN (the hub's api.token)",
    );
  return token;
}

/**
 * One request to the hub's operator API. What the operator can fix (a refused document, a version
 * conflict, a wrong token, an unknown promotion) is a ConfigError or NotFoundError, exit 2, with the
 * hub's own words and the paths of the fields at fault; anything else is exit 1.
 */
async function callHub<T>(
  flags: HubFlags,
  env: NodeJS.ProcessEnv,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: unknown,
): Promise<T> {
  const base = hubBase(flags.hub);
  const token = operatorToken(flags, env);
  let response: Response;
  try {
    response = await fetch(`${base}${pathAndQuery}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(`cannot reach the hub at ${base}: ${errorMessage(cause ?? error)}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (response.ok) return json as T;
  const problem = apiErrorSchema.safeParse(json);
  const said = problem.success ? problem.data.error : text.slice(0, 500) || response.statusText;
  const issues =
    problem.success && problem.data.issues && problem.data.issues.length > 0
      ? `\n${problem.data.issues.map((i) => `  ${i.path.join('.') || '(document)'}: ${i.message}`).join('\n')}`
      : '';
  switch (response.status) {
    case 400:
      throw new ConfigError(`the hub refused it: ${said}${issues}`);
    case 401:
      throw new ConfigError(
        `the hub refused the operator token (check --token or OUTPOST_HUB_TOKEN): ${said}`,
      );
    case 404:
      throw new NotFoundError(said);
    case 409:
      throw new ConfigError(said);
    default:
      throw new Error(`the hub answered ${response.status}: ${said}`);
  }
}

// ---- keygen ---------------------------------------------------------------------------------------

/**
 * `outpost promo keygen [--out DIR]`: an Ed25519 pair for signing promotions. The private key is written
 * readable by its owner only (0600) and never over an existing file: overwriting a hub's key would make
 * everything it signs afterwards untrusted by the stores.
 */
export function promoKeygenCommand(options: { out: string; json?: boolean }): void {
  const dir = path.resolve(options.out);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(`--out ${dir}: cannot create the directory: ${errorMessage(error)}`);
  }
  const pair = generateSigningKeyPair();
  const privateFile = path.join(dir, PRIVATE_KEY_FILE);
  const publicFile = path.join(dir, PUBLIC_KEY_FILE);
  try {
    writeFileSync(privateFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    // The mode of a new file is filtered by the umask; this one must be 0600 whatever the umask.
    chmodSync(privateFile, 0o600);
  } catch (error) {
    const exists = (error as { code?: unknown }).code === 'EEXIST';
    throw new ConfigError(
      exists
        ? `--out ${dir}: ${PRIVATE_KEY_FILE} exists already; a key is never overwritten (pick another --out, or move the old key away first)`
        : `--out ${dir}: cannot write the private key: ${errorMessage(error)}`,
    );
  }
  writeFileSync(publicFile, pair.publicKeyPem, { mode: 0o644 });
  if (options.json) {
    print(
      JSON.stringify({
        keyId: pair.keyId,
        publicKey: pair.publicKeyBase64,
        publicKeyPem: pair.publicKeyPem,
        privateKeyFile: privateFile,
        publicKeyFile: publicFile,
      }),
    );
    return;
  }
  print(
    [
      `Promotion signing key ${pair.keyId} made.`,
      `  private key: ${privateFile} (mode 0600; for the hubs only: set promotions.signingKeyFile in hub.json to it)`,
      `  public key:  ${publicFile}`,
      `  key id:      ${pair.keyId}`,
      '',
      "Add the public key to every store's promotions.trustedKeys (agent.json), beside any key it trusts already:",
      `  "${pair.publicKeyBase64}"`,
      '',
      'Rotating keys: trust the new public key in every store first, then point the hubs at the new private key.',
    ].join('\n'),
  );
}

// ---- push, withdraw, activate ---------------------------------------------------------------------

/** `--activate-when 0.8` or `80%`: a share of the targeted stores, more than 0 and at most 1. */
export function parseShare(value: string): number {
  const text = value.trim();
  const share = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (text === '' || !Number.isFinite(share) || share <= 0 || share > 1)
    throw new ConfigError(
      `--activate-when must be a share of the targeted stores, more than 0 and at most 1 (0.8 or 80%), not "${value}"`,
    );
  return share;
}

function readDocument(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the promotion file ${file}: ${errorMessage(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`the promotion file ${file} is not JSON: ${errorMessage(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`the promotion file ${file} must hold one promotion document (a JSON object)`);
  return value as Record<string, unknown>;
}

function describeOutcome(outcome: PublishOutcome, verb: string): string {
  const v = outcome.version;
  const head = `Promotion ${v.promotionId} version ${v.version} (${v.state}) ${verb}, signed with key ${v.keyId}.`;
  if (!outcome.created) return `${head} It existed already, identical: nothing new was made.`;
  const delivery = outcome.published
    ? `Published, retained, on ${outcome.topics.length} topic(s): ${outcome.topics.join(', ')}.`
    : 'Stored, but the broker has not acknowledged it yet: the hub sends it again as soon as it can, and stores get it from their catalogue exchange meanwhile.';
  const staged =
    v.state === 'staged'
      ? v.activateWhenShare === null
        ? `\nStaged: held by the stores, in force nowhere. Activate it with: outpost promo activate ${v.promotionId} --hub …`
        : `\nStaged: activated automatically once ${Math.round(v.activateWhenShare * 1000) / 10}% of its targeted stores have applied it.`
      : '';
  return `${head}\n${delivery}${staged}\nFollow its rollout with: outpost promo status ${v.promotionId} --hub …`;
}

export async function promoPushCommand(
  file: string,
  flags: HubFlags & { staged?: boolean; activateWhen?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const share = flags.activateWhen === undefined ? undefined : parseShare(flags.activateWhen);
  const document = readDocument(file);
  // A share only makes sense for a staged push: --activate-when implies --staged.
  if (flags.staged || share !== undefined) document.state = 'staged';
  const query = share === undefined ? '' : `?activateWhenShare=${share}`;
  const outcome = await callHub<PublishOutcome>(flags, env, 'POST', `/v1/promotions${query}`, document);
  print(flags.json ? JSON.stringify(outcome) : describeOutcome(outcome, 'pushed'));
}

export async function promoChangeCommand(
  change: 'withdraw' | 'activate',
  promotionId: string,
  flags: HubFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const outcome = await callHub<PublishOutcome>(
    flags,
    env,
    'POST',
    `/v1/promotions/${encodeURIComponent(promotionId)}/${change}`,
  );
  print(
    flags.json
      ? JSON.stringify(outcome)
      : describeOutcome(outcome, change === 'withdraw' ? 'withdrawn' : 'activated'),
  );
}

// ---- list, status ---------------------------------------------------------------------------------

const utc = (iso: string | null) => (iso === null ? '' : iso.slice(0, 19).replace('T', ' '));

/** Promotions as a table: each one's latest version and how far its rollout got. */
export function promotionListTable(promotions: readonly PromotionListEntry[]): string {
  if (promotions.length === 0)
    return 'No promotions on this hub yet. Push one with: outpost promo push FILE --hub URL\n';
  return formatTable(
    ['PROMOTION', 'VERSION', 'STATE', 'APPLIED', 'REFUSED', 'PENDING', 'CREATED (UTC)', 'NAME'],
    promotions.map((p) => [
      p.promotionId,
      String(p.latest.version),
      p.latest.state,
      `${p.rollout.applied}/${p.rollout.targeted}`,
      String(p.rollout.refused),
      String(p.rollout.pending),
      utc(p.latest.createdAt),
      p.name,
    ]),
  );
}

function storeLine(s: StoreRollout): string[] {
  const note = s.targeted ? '' : ' (not targeted)';
  switch (s.status) {
    case 'applied':
      return [s.storeId, 'applied', utc(s.at), `${s.change ?? ''}${note}`];
    case 'refused':
      return [s.storeId, 'refused', utc(s.at), `${s.reason ?? ''}: ${s.message ?? ''}${note}`];
    case 'pending':
      return [
        s.storeId,
        'pending',
        utc(s.since),
        s.online === null ? 'never seen by this hub' : s.online ? 'online' : 'offline since then',
      ];
  }
}

/** One promotion's rollout for a person: per version, newest first, each targeted store and what it did. */
export function promotionStatusText(detail: PromotionDetail): string {
  const parts = [`Promotion ${detail.promotionId}: ${detail.name}`];
  for (const v of detail.versions) {
    const s = v.rollout.summary;
    parts.push(
      '',
      `Version ${v.version}: ${v.state}, ${v.origin} by ${v.createdBy} at ${utc(v.createdAt)} UTC, key ${v.keyId}, ` +
        (v.publishedAt ? `published ${utc(v.publishedAt)} UTC` : 'not published yet'),
      `  ${s.applied} applied, ${s.refused} refused, ${s.pending} pending, of ${s.targeted} targeted store(s)` +
        (v.activateWhenShare !== null
          ? `; activates at ${Math.round(v.activateWhenShare * 1000) / 10}% applied`
          : ''),
    );
    if (v.rollout.stores.length > 0)
      parts.push(
        formatTable(['STORE', 'STATUS', 'WHEN (UTC)', 'DETAIL'], v.rollout.stores.map(storeLine))
          .trimEnd()
          .split('\n')
          .map((line) => `  ${line}`)
          .join('\n'),
      );
  }
  for (const u of detail.unknownVersions) {
    parts.push(
      '',
      `Version ${u.version}: never published by head office (forged, or from another hub database); reported by:`,
      ...u.stores.map(
        (r) => `  ${r.storeId}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''} at ${utc(r.at)} UTC`,
      ),
    );
  }
  return `${parts.join('\n')}\n`;
}

export async function promoListCommand(flags: HubFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const answer = await callHub<{ promotions: PromotionListEntry[] }>(flags, env, 'GET', '/v1/promotions');
  print(flags.json ? JSON.stringify(answer) : promotionListTable(answer.promotions));
}

export async function promoStatusCommand(
  promotionId: string,
  flags: HubFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const detail = await callHub<PromotionDetail>(
    flags,
    env,
    'GET',
    `/v1/promotions/${encodeURIComponent(promotionId)}`,
  );
  print(flags.json ? JSON.stringify(detail) : promotionStatusText(detail));
}
