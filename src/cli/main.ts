import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../lib/errors.js';
import { OUTPOST_VERSION } from '../lib/version.js';
import { agentCommand } from './agent-command.js';
import { brokerCommand } from './broker-command.js';
import { deadLettersCommand } from './deadletters-command.js';
import { demoCommand } from './demo-command.js';
import { hubCommand, hubExportCommand } from './hub-command.js';
import { reportFatal } from './exit.js';
import {
  promoChangeCommand,
  promoKeygenCommand,
  promoListCommand,
  promoPushCommand,
  promoStatusCommand,
  type HubFlags,
} from './promo-command.js';
import { simulateCommand } from './simulate-command.js';

export const positiveNumber = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number`);
  return n;
};

export const positiveInteger = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`${what} must be a whole number above 0`);
  return n;
};

const program = new Command()
  .name('outpost')
  .description('Outpost: the store connector for retail point of sale')
  .version(OUTPOST_VERSION)
  .exitOverride()
  // `hub` and `hub export` both take --config: each option belongs to the command it follows.
  .enablePositionalOptions()
  .configureOutput({ outputError: (text, write) => write(`outpost: ${text.replace(/^error: /, '')}`) });

program
  .command('agent')
  .description('run the headless store agent')
  .requiredOption('--config <file>', 'agent config (JSON)')
  .action(agentCommand);

program
  .command('simulate')
  .description('send realistic POS traffic to a running agent')
  .requiredOption('--agent <url>', 'agent base URL, e.g. http://127.0.0.1:8787')
  .requiredOption('--token <terminal=token...>', 'a terminal id and its token; repeat for more terminals')
  .option('--terminals <n>', 'tills selling at once', positiveInteger('--terminals'), 4)
  .option('--rate <tps>', 'transactions per second, all tills together', positiveNumber('--rate'), 5)
  .option('--duration <seconds>', 'how long to sell', positiveNumber('--duration'), 10)
  .option('--seed <n>', 'random seed, for a repeatable run', positiveInteger('--seed'))
  .option('--currency <code>', 'ISO 4217 currency of the store', 'EUR')
  .action(simulateCommand);

const hub = program
  .command('hub')
  .enablePositionalOptions()
  .description('run a head-office hub process (several may share one database and broker)')
  .option('--config <file>', 'hub config (JSON)')
  .action(async (options: { config?: string }) => {
    if (!options.config) throw new ConfigError("required option '--config <file>' not specified");
    await hubCommand({ config: options.config });
  });
hub
  .command('export')
  .description("write one store's business day as JSON Lines, for the ERP")
  .requiredOption('--config <file>', 'hub config (JSON)')
  .requiredOption('--store <storeId>', 'store id')
  .requiredOption('--day <YYYY-MM-DD>', 'business day')
  .option('--out <file>', 'write here instead of stdout (and the manifest to FILE.manifest.json)')
  .option('--require-confirmed', 'export only if every till of the day closed and is confirmed (else exit 1)')
  .action(hubExportCommand);

program
  .command('broker')
  .description('run the embedded MQTT broker (demo and tests; production uses Mosquitto)')
  .option(
    '--port <n>',
    'port (0 picks a free one)',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new InvalidArgumentError('--port must be 0–65535');
      return n;
    },
    1883,
  )
  .option('--host <address>', 'address to bind', '127.0.0.1')
  .option('--tls-key <file>', 'server key (PEM), for mqtts://')
  .option('--tls-cert <file>', 'server certificate (PEM)')
  .option('--tls-ca <file>', 'CA whose client certificates are required')
  .action(brokerCommand);

program
  .command('deadletters')
  .description('list, retry or discard transactions head office refused')
  .argument('<action>', 'list | retry | discard')
  .argument('[eventId]', 'the dead letter to retry or discard')
  .requiredOption('--config <file>', 'agent config (JSON)')
  .option('--note <text>', 'why it is discarded (kept on record)')
  .option('--json', 'print JSON, for scripts, instead of a table')
  .action(
    async (
      action: string,
      eventId: string | undefined,
      options: { config: string; note?: string; json?: boolean },
    ) => {
      if (action !== 'list' && action !== 'retry' && action !== 'discard') {
        throw new ConfigError(`action must be list, retry or discard, not ${action}`);
      }
      await deadLettersCommand(action, eventId, options);
    },
  );

const promo = program
  .command('promo')
  .description('sign and publish promotions through a hub, and follow their rollout');
promo
  .command('keygen')
  .description('make an Ed25519 key pair: the private key for hubs, the public key for stores')
  .option('--out <dir>', 'where to write the key files', '.')
  .option('--json', 'print JSON, for scripts')
  .action(promoKeygenCommand);
/** The options of every promo command that talks to a hub. */
const hubOptions = (command: Command) =>
  command
    .requiredOption('--hub <url>', 'hub operator API, e.g. http://hub.example.com:8788')
    .option('--token <token>', 'operator token (api.token of the hub); default: $OUTPOST_HUB_TOKEN')
    .option('--json', 'print JSON, for scripts, instead of text');
hubOptions(
  promo
    .command('push')
    .description('validate, sign, store and publish a promotion document (a JSON file)')
    .argument('<file>', 'the promotion document (JSON)')
    .option('--staged', 'deliver and hold it, in force nowhere until activated')
    .option(
      '--activate-when <share>',
      'staged, and activated once this share of its stores applied it (0.8 or 80%)',
    ),
).action((file: string, flags: HubFlags & { staged?: boolean; activateWhen?: string }) =>
  promoPushCommand(file, flags),
);
hubOptions(
  promo
    .command('withdraw')
    .description('publish a new version that withdraws it')
    .argument('<id>', 'promotionId'),
).action((id: string, flags: HubFlags) => promoChangeCommand('withdraw', id, flags));
hubOptions(
  promo
    .command('activate')
    .description('publish a new version that activates a staged one')
    .argument('<id>', 'promotionId'),
).action((id: string, flags: HubFlags) => promoChangeCommand('activate', id, flags));
hubOptions(promo.command('list').description('promotions with their latest version and rollout')).action(
  (flags: HubFlags) => promoListCommand(flags),
);
hubOptions(
  promo
    .command('status')
    .description('per version: targeted stores, and which applied, refused or are pending')
    .argument('<id>', 'promotionId'),
).action((id: string, flags: HubFlags) => promoStatusCommand(id, flags));

program
  .command('demo')
  .description('embedded broker + hub + one store agent + simulated tills, on free ports')
  .option('--dir <path>', 'where to keep the demo data (default: a new temp directory)')
  .option('--rate <tps>', 'transactions per second', positiveNumber('--rate'), 3)
  .option('--terminals <n>', 'tills', positiveInteger('--terminals'), 4)
  .action(demoCommand);

// A command that fails while starting up may be waiting on a part that unrefs its handles (a worker
// thread stopping): the process must live to report the failure, not end with Node's "unsettled
// top-level await" (exit 13) and no message.
const keepAlive = setInterval(() => {}, 60_000);
await program
  .parseAsync(process.argv)
  .catch(reportFatal)
  .finally(() => clearInterval(keepAlive));
