import { Command, InvalidArgumentError } from 'commander';
import { OUTPOST_VERSION } from '../lib/version.js';
import { agentCommand } from './agent-command.js';
import { reportFatal } from './exit.js';
import { simulateCommand } from './simulate-command.js';

export const positiveNumber = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number`);
  return n;
};

const program = new Command()
  .name('outpost')
  .description('Outpost: the store connector for retail point of sale')
  .version(OUTPOST_VERSION)
  .exitOverride()
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
  .option('--terminals <n>', 'tills selling at once', positiveNumber('--terminals'), 4)
  .option('--rate <tps>', 'transactions per second, all tills together', positiveNumber('--rate'), 5)
  .option('--duration <seconds>', 'how long to sell', positiveNumber('--duration'), 10)
  .option('--seed <n>', 'random seed, for a repeatable run', positiveNumber('--seed'))
  .option('--currency <code>', 'ISO 4217 currency of the store', 'EUR')
  .action(simulateCommand);

await program.parseAsync(process.argv).catch(reportFatal);
