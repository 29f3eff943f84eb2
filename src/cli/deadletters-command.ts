import { existsSync } from 'node:fs';
import path from 'node:path';
import { agentConfigSchema } from '../contracts/agent-config.js';
import { loadConfigFile } from '../lib/config-file.js';
import { ConfigError } from '../lib/errors.js';
import { Outbox } from '../sync/index.js';

/**
 * Store IT's handle on events head office refused: list them, send one again (after the cause was fixed
 * at head office), or discard one on record. Works beside a running agent (SQLite WAL allows it).
 */
export async function deadLettersCommand(
  action: 'list' | 'retry' | 'discard',
  eventId: string | undefined,
  options: { config: string; note?: string },
): Promise<void> {
  const config = loadConfigFile(agentConfigSchema, options.config);
  const file = path.join(config.dataDir, 'outbox.sqlite');
  // Opening a missing file would create an empty outbox with a new epoch: say what is wrong instead.
  if (!existsSync(file))
    throw new ConfigError(`no outbox at ${file}: is dataDir right in ${options.config}?`);
  const outbox = new Outbox({ file });
  try {
    if (action === 'list') {
      const rows = outbox
        .deadLetters(1000)
        .map((d) => ({ ...d, capturedAt: new Date(d.capturedAt).toISOString() }));
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (!eventId)
      throw new Error(`${action} needs the eventId of a dead letter (see: outpost deadletters list)`);
    if (action === 'retry') {
      const at = outbox.retryDeadLetter(eventId);
      process.stdout.write(`${JSON.stringify({ eventId, retried: true, ...at })}\n`);
    } else {
      outbox.discardDeadLetter(eventId, options.note ?? 'discarded by operator');
      process.stdout.write(`${JSON.stringify({ eventId, discarded: true })}\n`);
    }
  } finally {
    outbox.close();
  }
}
