import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { Outbox } from '../../src/sync/index.js';
import { recordAck, seqsToPublish } from '../support/outbox-delivery.js';
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
    const outbox = new Outbox({ file: path.join(dataDir, 'outbox.sqlite'), storeId: 'S1' });
    const bodies = ['{"n":1}', '{"n":2}'];
    const captured = outbox.appendBatch(
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
    const last = captured[1] as { eventId: string };
    recordAck(outbox.file, {
      v: 1,
      kind: 'batch',
      epoch: outbox.epoch,
      ackedThrough: 2,
      highestSeq: 2,
      batch: { firstSeq: 1, lastSeq: 2, lastEventId: last.eventId },
      rejected: [1, 2].map((seq) => ({ seq, reason: 'invalid transaction: totals.total' })),
      conflicts: [],
    });
    const [first, second] = outbox.deadLetters();
    outbox.close();
    const config = agentConfig(dataDir);

    const listed = (await outpost(['deadletters', 'list', '--config', config, '--json'])) as {
      stdout: string;
    };
    expect(
      (JSON.parse(listed.stdout) as { eventId: string; reason: string }[]).map((d) => d.eventId),
    ).toEqual([first!.eventId, second!.eventId]);

    const retried = (await outpost([
      'deadletters',
      'retry',
      first!.eventId,
      '--config',
      config,
      '--json',
    ])) as {
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

    const after = new Outbox({ file: path.join(dataDir, 'outbox.sqlite'), storeId: 'S1' });
    expect(seqsToPublish(after.file)).toEqual([3]);
    expect(after.deadLetters()).toEqual([
      expect.objectContaining({
        eventId: second!.eventId,
        state: 'discarded',
        reason: expect.stringContaining('per store manager') as string,
      }),
    ]);
    after.close();
  });

  it('lists dead letters as a readable table by default, one line each, with what to do', async () => {
    const dataDir = makeTempDir('deadletters-table');
    const outbox = new Outbox({ file: path.join(dataDir, 'outbox.sqlite'), storeId: 'S1' });
    const captured = outbox.appendBatch(
      ['{"n":1}', '{"n":2}', '{"n":3}'].map((body, i) => ({
        terminalId: 'T1',
        transactionId: `T1-00012${i}`,
        type: 'sale',
        currency: 'EUR',
        signedTotal: 1,
        body,
        bodyHash: textDigest(body),
      })),
    );
    recordAck(outbox.file, {
      v: 1,
      kind: 'batch',
      epoch: outbox.epoch,
      ackedThrough: 3,
      highestSeq: 3,
      batch: { firstSeq: 1, lastSeq: 3, lastEventId: (captured[2] as { eventId: string }).eventId },
      rejected: [
        { seq: 1, reason: 'invalid transaction: totals.total: is 100 but gross − discount = 90' },
        { seq: 3, reason: 'invalid transaction: currency: unknown ISO 4217 currency "XXY"' },
      ],
      conflicts: [],
    });
    const [first, second] = outbox.deadLetters();
    outbox.discardDeadLetter(second!.eventId, 'test data');
    outbox.close();
    const config = agentConfig(dataDir);

    const listed = (await outpost(['deadletters', 'list', '--config', config])) as {
      code?: number;
      stdout: string;
    };
    expect(listed.code ?? 0).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^EVENT ID +STATE +SEQ +TERMINAL +TRANSACTION +CAPTURED \(UTC\) +REASON$/);
    expect(lines[1]).toMatch(/^-+( +-+){6}$/);
    // Columns line up: every row has its fields where the header has its titles.
    const column = (title: string) => lines[0]!.indexOf(title);
    const row = (eventId: string) => lines.find((l) => l.startsWith(eventId))!;
    expect(row(first!.eventId).slice(column('STATE')).split(/ +/)[0]).toBe('dead');
    expect(row(first!.eventId).slice(column('SEQ')).split(/ +/)[0]).toBe('1');
    expect(row(first!.eventId).slice(column('TRANSACTION')).split(/ +/)[0]).toBe('T1-000120');
    expect(row(first!.eventId).slice(column('REASON'))).toBe(
      'invalid transaction: totals.total: is 100 but gross − discount = 90',
    );
    expect(row(second!.eventId).slice(column('STATE')).split(/ +/)[0]).toBe('discarded');
    expect(row(first!.eventId).slice(column('CAPTURED (UTC)'))).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} /,
    );
    expect(listed.stdout).toContain('1 waiting for a decision, 1 discarded.');
  });

  it('says so, in words, when there are no dead letters', async () => {
    const dataDir = makeTempDir('deadletters-none');
    new Outbox({ file: path.join(dataDir, 'outbox.sqlite'), storeId: 'S1' }).close();
    const listed = (await outpost(['deadletters', 'list', '--config', agentConfig(dataDir)])) as {
      stdout: string;
    };
    expect(listed.stdout).toBe('No dead letters: head office has refused nothing this store sent.\n');
    const json = (await outpost(['deadletters', 'list', '--config', agentConfig(dataDir), '--json'])) as {
      stdout: string;
    };
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('says an eventId that names no dead letter names none (exit 2), and one is needed to retry', async () => {
    const dataDir = makeTempDir('deadletters-unknown');
    new Outbox({ file: path.join(dataDir, 'outbox.sqlite'), storeId: 'S1' }).close();
    const config = agentConfig(dataDir);
    const unknown = (await outpost(['deadletters', 'retry', '01KNOSUCHEVENT', '--config', config])) as {
      code: number;
      stderr: string;
    };
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
      code: 2,
      stderr: 'outpost: no dead-lettered event 01KNOSUCHEVENT\n',
    });
    const missing = (await outpost(['deadletters', 'discard', '--config', config])) as {
      code: number;
      stderr: string;
    };
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({
      code: 2,
      stderr: 'outpost: discard needs the eventId of a dead letter (see: outpost deadletters list)\n',
    });
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
