import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { Outbox } from '../../src/sync/index.js';
import { makeTempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/outpost.js');

function agentConfig(dataDir: string): string {
  const file = path.join(makeTempDir('deadletters-config'), 'agent.json');
  writeFileSync(
    file,
    JSON.stringify({
      storeId: 'S1',
      dataDir,
      api: { terminals: [{ id: 'T1', token: 'deadletter-token-0001' }] },
    }),
  );
  return file;
}

const outpost = (args: string[]) =>
  run(process.execPath, [BIN, ...args]).catch((e: { code: number; stdout: string; stderr: string }) => e);

describe('outpost deadletters', () => {
  it('lists a refused transaction, retries it as the newest event, and keeps a discarded one on record', async () => {
    const dataDir = makeTempDir('deadletters');
    const outbox = new Outbox({ file: path.join(dataDir, 'outbox.sqlite') });
    const bodies = ['{"n":1}', '{"n":2}'];
    outbox.appendBatch(
      bodies.map((body, i) => ({
        terminalId: 'T1',
        transactionId: `t${i}`,
        type: 'sale',
        currency: 'EUR',
        signedTotal: 1,
        body,
        bodyHash: textDigest(body),
      })),
    );
    outbox.applyAck({
      epoch: outbox.epoch,
      ackedThrough: 2,
      rejected: [1, 2].map((seq) => ({ seq, reason: 'invalid transaction: totals.total' })),
      conflicts: [],
    });
    const [first, second] = outbox.deadLetters();
    outbox.close();
    const config = agentConfig(dataDir);

    const listed = (await outpost(['deadletters', 'list', '--config', config])) as { stdout: string };
    expect(
      (JSON.parse(listed.stdout) as { eventId: string; reason: string }[]).map((d) => d.eventId),
    ).toEqual([first!.eventId, second!.eventId]);

    const retried = (await outpost(['deadletters', 'retry', first!.eventId, '--config', config])) as {
      stdout: string;
    };
    expect(JSON.parse(retried.stdout)).toMatchObject({ eventId: first!.eventId, retried: true, seq: 3 });
    await outpost([
      'deadletters',
      'discard',
      second!.eventId,
      '--config',
      config,
      '--note',
      'duplicate of t0, per store manager',
    ]);

    const after = new Outbox({ file: path.join(dataDir, 'outbox.sqlite') });
    expect(after.unsentAfter(0, 10).map((e) => e.seq)).toEqual([3]);
    expect(after.deadLetters()).toEqual([
      expect.objectContaining({
        eventId: second!.eventId,
        state: 'discarded',
        reason: expect.stringContaining('per store manager') as string,
      }),
    ]);
    after.close();
  });

  it('says there is no outbox rather than create one when dataDir is wrong (exit 2)', async () => {
    const result = (await outpost([
      'deadletters',
      'list',
      '--config',
      agentConfig(makeTempDir('empty')),
    ])) as { code: number; stderr: string };
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no outbox at/);
  });
});
