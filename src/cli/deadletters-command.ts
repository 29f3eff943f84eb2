import { existsSync } from 'node:fs';
import path from 'node:path';
import { agentConfigSchema } from '../contracts/agent-config.js';
import { loadConfigFile } from '../lib/config-file.js';
import { ConfigError } from '../lib/errors.js';
import { Outbox, type DeadLetterRow } from '../sync/index.js';
import { formatTable } from './text-table.js';

const LIST_LIMIT = 1000;

/** Dead letters as a table for a person: the newest reason last, where a long one can run on. */
export function deadLettersTable(rows: readonly DeadLetterRow[]): string {
  if (rows.length === 0) return 'No dead letters: head office has refused nothing this store sent.\n';
  const table = formatTable(
    ['EVENT ID', 'STATE', 'SEQ', 'TERMINAL', 'TRANSACTION', 'CAPTURED (UTC)', 'REASON'],
    rows.map((d) => [
      d.eventId,
      d.state,
      String(d.seq),
      d.terminalId,
      d.transactionId,
      new Date(d.capturedAt).toISOString().slice(0, 19).replace('T', ' '),
      d.reason,
    ]),
  );
  const dead = rows.filter((d) => d.state === 'dead').length;
  return (
    `${table}\n${dead} waiting for a decision, ${rows.length - dead} discarded. ` +
    'outpost deadletters retry|discard EVENT_ID --config … acts on one.\n'
  );
}

/**
 * Store IT's handle on events head office refused: list them, send one again (after the cause was fixed
 * at head office), or discard one on record. Works beside a running agent (SQLite WAL allows it).
 */
export async function deadLettersCommand(
  action: 'list' | 'retry' | 'discard',
  eventId: string | undefined,
  options: { config: string; note?: string; json?: boolean },
): Promise<void> {
  const config = loadConfigFile(agentConfigSchema, options.config);
  const file = path.join(config.dataDir, 'outbox.sqlite');
  // Opening a missing file would create an empty outbox with a new epoch: say what is wrong instead.
  if (!existsSync(file))
    throw new ConfigError(`no outbox at ${file}: is dataDir right in ${options.config}?`);
  if (action !== 'list' && !eventId)
    throw new ConfigError(`${action} needs the eventId of a dead letter (see: outpost deadletters list)`);
  const outbox = new Outbox({ file, storeId: config.storeId });
  try {
    if (action === 'list') {
      const rows = outbox.deadLetters(LIST_LIMIT);
      process.stdout.write(
        options.json
          ? `${JSON.stringify(
              rows.map((d) => ({ ...d, capturedAt: new Date(d.capturedAt).toISOString() })),
              null,
              2,
            )}\n`
          : deadLettersTable(rows),
      );
      return;
    }
    if (action === 'retry') {
      const at = outbox.retryDeadLetter(eventId!);
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ eventId, retried: true, ...at })}\n`
          : `Dead letter ${eventId} goes to head office again as seq ${at.seq} of epoch ${at.epoch}.\n`,
      );
    } else {
      outbox.discardDeadLetter(eventId!, options.note ?? 'discarded by operator');
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ eventId, discarded: true })}\n`
          : `Dead letter ${eventId} discarded; it stays on record in the outbox.\n`,
      );
    }
  } finally {
    outbox.close();
  }
}
