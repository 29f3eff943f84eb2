import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TransactionType } from '../../src/contracts/transaction.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { ConfigError, ConflictError, StorageUnavailableError } from '../../src/lib/errors.js';
import { DatabaseTooNewError, Outbox, type CaptureInput, type CaptureResult } from '../../src/sync/index.js';
import { outboxMigrations } from '../../src/sync/outbox-migrations.js';
import { eventsToPublish, leaveEpoch, recordAck, seqsToPublish } from '../support/outbox-delivery.js';

let dir: string;
let file: string;
const opened: Outbox[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-outbox-'));
  file = path.join(dir, 'store', 'outbox.sqlite');
});
afterEach(() => {
  for (const outbox of opened.splice(0)) outbox.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(options: { maxSizeMb?: number; storeId?: string } = {}): Outbox {
  const outbox = new Outbox({ file, storeId: 'S1', ...options });
  opened.push(outbox);
  return outbox;
}

/** A capture as the API would hand it over; `body` defaults to a small JSON document naming the transaction. */
function capture(transactionId: string, body = JSON.stringify({ transactionId, total: 100 })): CaptureInput {
  return {
    terminalId: 'T1',
    transactionId,
    type: 'sale',
    currency: 'EUR',
    signedTotal: 100,
    body,
    bodyHash: textDigest(body),
  };
}

const captures = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => capture(`${prefix}-${i + 1}`));

/** Every result must be a stored event, not a conflict: narrows the type for the assertions that follow. */
function stored(results: (CaptureResult | ConflictError)[]): CaptureResult[] {
  return results.map((result) => {
    if (result instanceof ConflictError) throw result;
    return result;
  });
}

const seqsInTable = (outbox: Outbox) =>
  outbox.database
    .prepare('SELECT seq FROM events ORDER BY id')
    .pluck()
    .all()
    .map((seq) => Number(seq));

describe('outbox', () => {
  it('hands out gapless seqs across batches and across a close and reopen, under one stable epoch', () => {
    const first = open();
    const epoch = first.epoch;
    expect(epoch).toMatch(/^[0-9a-f]{16}$/);
    expect(stored(first.appendBatch(captures('a', 3))).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(stored(first.appendBatch(captures('b', 2))).map((r) => r.seq)).toEqual([4, 5]);
    first.close();

    const again = open();
    expect(again.epoch).toBe(epoch);
    expect(again.stats().lastSeq).toBe(5);
    const results = stored(again.appendBatch(captures('c', 2)));
    expect(results.map((r) => r.seq)).toEqual([6, 7]);
    expect(results.every((r) => r.epoch === epoch && !r.duplicate)).toBe(true);
    expect(seqsInTable(again)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(again.stats()).toMatchObject({ epoch, lastSeq: 7, total: 7, unsent: { count: 7 } });
  });

  it('gives a new database a new epoch, so a re-installed store never collides with its former self', () => {
    const first = open();
    const epoch = first.epoch;
    first.close();
    fs.rmSync(path.dirname(file), { recursive: true });
    expect(open().epoch).not.toBe(epoch);
  });

  it('answers an exact re-submission with the stored event and consumes no seq', () => {
    const outbox = open();
    const [original] = stored(outbox.appendBatch([capture('t-1')]));
    // Same document, re-serialised with other key order and spacing: the canonical hash is the same.
    const reserialised = capture('t-1', '{ "total": 100,\n  "transactionId": "t-1" }');
    const [repeat, next] = stored(outbox.appendBatch([reserialised, capture('t-2')]));
    expect(repeat).toEqual({ ...original, duplicate: true });
    expect(next?.seq).toBe(2);
    expect(outbox.stats().total).toBe(2);
  });

  it('returns a ConflictError for the same key with a different body, keeps the stored body, and commits the rest', () => {
    const outbox = open();
    const [original] = stored(outbox.appendBatch([capture('t-1')]));
    const results = outbox.appendBatch([
      capture('t-1', JSON.stringify({ transactionId: 't-1', total: 999 })),
      capture('t-2'),
    ]);
    expect(results[0]).toBeInstanceOf(ConflictError);
    expect((results[0] as ConflictError).existing).toEqual({ eventId: original?.eventId, seq: 1 });
    expect((results[0] as ConflictError).message).toMatch(/t-1.*different body/);
    expect(results[1]).toMatchObject({ seq: 2, duplicate: false });
    const body = outbox.database.prepare('SELECT body FROM event_log WHERE seq = 1').pluck().get();
    expect(body).toBe(JSON.stringify({ transactionId: 't-1', total: 100 }));
  });

  it('rolls back a batch that fails midway entirely: nothing stored, no seq consumed', () => {
    const outbox = open();
    stored(outbox.appendBatch(captures('before', 2)));
    const before = outbox.stats();
    const bogus = { ...capture('bogus-1'), type: 'bogus' as unknown as TransactionType };

    expect(() => outbox.appendBatch([capture('good-1'), bogus, capture('good-2')])).toThrow(
      /CHECK constraint failed/,
    );

    expect(outbox.stats()).toEqual(before);
    const keys = outbox.database.prepare('SELECT transaction_id FROM events ORDER BY id').pluck().all();
    expect(keys).toEqual(['before-1', 'before-2']);
    // The first item of the failed batch was not kept: submitting it again stores it, with the next seq.
    expect(stored(outbox.appendBatch([capture('good-1')]))[0]).toMatchObject({ seq: 3, duplicate: false });
  });

  it('stores the body byte for byte as the POS sent it', () => {
    const outbox = open();
    const body =
      '{\r\n\t"transactionId" : "t-1",  "total":100, "note":"Crème brûlée \\u00e9 \\" 🥐",' +
      ' "n": 1.50, "z": 1e2 }\n';
    stored(outbox.appendBatch([capture('t-1', body)]));
    const row = outbox.database
      .prepare('SELECT body FROM event_log WHERE transaction_id = ?')
      .pluck()
      .get('t-1');
    expect(row).toBe(body);
    expect(Buffer.from(row as string, 'utf8').equals(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('prunes only acknowledged events older than the cut-off, never pending or dead ones, and seqs go on', () => {
    const outbox = open();
    stored(outbox.appendBatch(captures('t', 6)));
    const db = outbox.database;
    db.prepare("UPDATE events SET state = 'acked', acked_at = 1000 WHERE seq IN (1, 2)").run();
    db.prepare("UPDATE events SET state = 'acked', acked_at = 9000 WHERE seq = 3").run();
    db.prepare("UPDATE events SET state = 'dead', dead_reason = 'refused' WHERE seq = 4").run();

    expect(outbox.pruneAcknowledged(5000)).toBe(2);
    expect(seqsInTable(outbox)).toEqual([3, 4, 5, 6]);
    // Even pruning every acknowledged event leaves all pending and dead ones.
    expect(outbox.pruneAcknowledged(Number.MAX_SAFE_INTEGER)).toBe(1);
    expect(seqsInTable(outbox)).toEqual([4, 5, 6]);
    expect(outbox.stats()).toMatchObject({ lastSeq: 6, deadLetters: 1, unsent: { count: 2 } });
    expect(stored(outbox.appendBatch([capture('t-7')]))[0]?.seq).toBe(7);
  });

  it('refuses to open a database written by a newer Outpost, and leaves it as it was', () => {
    const outbox = open();
    stored(outbox.appendBatch(captures('t', 2)));
    outbox.close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();

    expect(() => open()).toThrow(DatabaseTooNewError);
    expect(() => open()).toThrow(
      new RegExp(`schema version 99.*knows only up to ${outboxMigrations.length}`),
    );

    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(99);
    expect(check.prepare('SELECT count(*) FROM events').pluck().get()).toBe(2);
    check.close();
  });

  it('fails appends as disk-full beyond maxSizeMb, keeps every stored row intact, and seqs stay gapless', () => {
    const outbox = open({ maxSizeMb: 1 });
    const padding = 'x'.repeat(20_000);
    let n = 0;
    const nextBig = () => {
      n += 1;
      return capture(`big-${n}`, JSON.stringify({ transactionId: `big-${n}`, padding }));
    };
    /** Appends big captures one by one until the outbox refuses one; returns that refusal. */
    const fillUp = (): unknown => {
      for (let i = 0; i < 200; i++) {
        const item = nextBig();
        try {
          outbox.appendBatch([item]);
        } catch (error) {
          n -= 1; // the refused item is retried below
          return error;
        }
      }
      return undefined;
    };

    // Head office has acknowledged the first ten while there was still room.
    stored(outbox.appendBatch(Array.from({ length: 10 }, nextBig)));
    outbox.database.prepare("UPDATE events SET state = 'acked', acked_at = 1 WHERE seq <= 10").run();

    const failure = fillUp();
    expect(failure).toBeInstanceOf(StorageUnavailableError);
    expect((failure as StorageUnavailableError).reason).toBe('disk-full');
    expect((failure as StorageUnavailableError).message).toMatch(/full/);
    const full = n;
    expect(full).toBeGreaterThan(20);
    expect(outbox.quickCheck()).toBe('ok');
    expect(outbox.stats()).toMatchObject({ lastSeq: full, total: full });
    expect(seqsInTable(outbox)).toEqual(Array.from({ length: full }, (_, i) => i + 1));
    // Trying again fails the same way and consumes nothing either.
    expect(() => outbox.appendBatch([capture(`big-${n + 1}`, JSON.stringify({ padding }))])).toThrow(
      StorageUnavailableError,
    );
    expect(outbox.stats().lastSeq).toBe(full);

    // Pruning the acknowledged ten frees room: capture resumes with the very next seq.
    expect(outbox.pruneAcknowledged(2)).toBe(10);
    expect(stored(outbox.appendBatch([nextBig()]))[0]?.seq).toBe(full + 1);
    expect(outbox.quickCheck()).toBe('ok');

    // Full again; the operator raises the cap and restarts: nothing lost, seqs go on without a gap.
    expect(fillUp()).toBeInstanceOf(StorageUnavailableError);
    const lastBeforeRestart = n;
    outbox.close();
    const reopened = open({ maxSizeMb: 2 });
    expect(reopened.quickCheck()).toBe('ok');
    expect(reopened.stats()).toMatchObject({ lastSeq: lastBeforeRestart, total: lastBeforeRestart - 10 });
    expect(stored(reopened.appendBatch([nextBig()]))[0]?.seq).toBe(lastBeforeRestart + 1);
    expect(seqsInTable(reopened)).toEqual(Array.from({ length: lastBeforeRestart - 9 }, (_, i) => i + 11));
  });

  it('applies an acknowledgement only to the batch it answers: other seqs stay unsent, conflicts stay for a new epoch', () => {
    const outbox = open();
    const results = stored(outbox.appendBatch(captures('ack', 10)));
    const epoch = outbox.epoch;
    const applied = recordAck(file, {
      v: 1,
      kind: 'batch',
      epoch,
      ackedThrough: 10, // the hub holds 1..10, but it judged only seqs 4..6 of this database's events
      highestSeq: 10,
      batch: { firstSeq: 4, lastSeq: 6, lastEventId: results[5]!.eventId },
      rejected: [{ seq: 5, reason: 'invalid' }],
      conflicts: [{ seq: 6, reason: 'different event' }],
    });
    // The conflict makes this database leave the epoch in the same transaction: 1..3, 6..10 move on.
    expect(applied).toMatchObject({
      action: 'applied',
      acked: 1,
      dead: 1,
      newEpoch: { previousEpoch: epoch, moved: 8 },
    });
    const next = outbox.epoch;
    expect(next).not.toBe(epoch);
    expect(seqsToPublish(file)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(outbox.stats()).toMatchObject({ epoch: next, lastSeq: 8, deadLetters: 1 });
    const [first] = stored(outbox.appendBatch(captures('after', 1)));
    expect(first).toMatchObject({ epoch: next, seq: 9 });
  });

  it('ignores an acknowledgement whose last event is not this database’s', () => {
    const outbox = open();
    stored(outbox.appendBatch(captures('ack', 3)));
    const outcome = recordAck(file, {
      v: 1,
      kind: 'batch',
      epoch: outbox.epoch,
      ackedThrough: 3,
      highestSeq: 3,
      batch: { firstSeq: 1, lastSeq: 3, lastEventId: '01SOMEONEELSE0000000000000' },
      rejected: [],
      conflicts: [],
    });
    expect(outcome).toMatchObject({ action: 'ignored' });
    expect(outbox.unsentCount()).toBe(3);
  });
});

describe('outbox: leaving an epoch', () => {
  it('records, in the transaction that moves the unsent events, where the old epoch ends and where each moved', () => {
    const outbox = open();
    const results = stored(outbox.appendBatch(captures('e', 7)));
    const epoch = outbox.epoch;
    outbox.database.prepare("UPDATE events SET state = 'acked', acked_at = 1 WHERE seq IN (1, 2, 4)").run();
    outbox.database.prepare("UPDATE events SET state = 'dead', dead_reason = 'refused' WHERE seq = 6").run();

    const next = leaveEpoch(file, 'restored from backup', { epochFactory: () => 'feedfacefeedface' });
    expect(next).toEqual({
      previousEpoch: epoch,
      epoch: 'feedfacefeedface',
      moved: 3,
      reason: 'restored from backup',
    });
    const db = outbox.database;
    expect(db.prepare('SELECT epoch, last_seq, next_epoch, reason, parts FROM epoch_closes').all()).toEqual([
      { epoch, last_seq: 7, next_epoch: 'feedfacefeedface', reason: 'restored from backup', parts: 1 },
    ]);
    expect(
      db.prepare('SELECT seq, event_id, to_seq FROM epoch_moves WHERE epoch = ? ORDER BY seq').all(epoch),
    ).toEqual([3, 5, 7].map((seq, i) => ({ seq, event_id: results[seq - 1]!.eventId, to_seq: i + 1 })));
    expect(db.prepare('SELECT part, acked_at FROM epoch_close_parts WHERE epoch = ?').all(epoch)).toEqual([
      { part: 1, acked_at: null },
    ]);
    // Acknowledged and dead events stay where head office knows them.
    expect(db.prepare('SELECT seq, state FROM events WHERE epoch = ? ORDER BY seq').all(epoch)).toEqual([
      { seq: 1, state: 'acked' },
      { seq: 2, state: 'acked' },
      { seq: 4, state: 'acked' },
      { seq: 6, state: 'dead' },
    ]);
  });

  it('never lets a capture land in an epoch another connection has just closed', () => {
    const agent = open();
    stored(agent.appendBatch(captures('a', 2)));
    const before = agent.epoch;
    // The delivery connection leaves the epoch; the capture connection had read it earlier.
    const { epoch } = leaveEpoch(file, 'cloned');
    const [result] = stored(agent.appendBatch([capture('after-close')]));
    expect(result).toMatchObject({ epoch, seq: 3 });
    expect(agent.epoch).toBe(epoch);
    expect(agent.database.prepare('SELECT last_seq FROM epochs WHERE epoch = ?').pluck().get(before)).toBe(2);
  });

  it('retries a dead letter into the current epoch, even when another process moved to a new one after it opened', () => {
    const agent = open();
    stored(agent.appendBatch(captures('d', 3)));
    agent.database.prepare("UPDATE events SET state = 'dead', dead_reason = 'refused' WHERE seq = 2").run();
    const deadId = agent.deadLetters()[0]!.eventId;
    // `outpost deadletters retry` opens the outbox beside the running agent...
    const cli = open();
    expect(cli.epoch).toBe(agent.epoch);
    // ...and before it acts, the agent leaves the epoch (head office said it was restored).
    const { epoch } = leaveEpoch(file, 'restored');
    expect(cli.retryDeadLetter(deadId)).toEqual({ epoch, seq: 3 });
    expect(eventsToPublish(file).events.map((e) => [e.seq, e.eventId])).toEqual([
      [1, expect.any(String)],
      [2, expect.any(String)],
      [3, deadId],
    ]);
  });
});

describe('outbox: store identity', () => {
  it('refuses to open under another storeId, naming both, the dataDir and what to do', () => {
    stored(open({ storeId: 'S042' }).appendBatch(captures('t', 2)));
    let refusal: unknown;
    try {
      open({ storeId: 'S043' });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    const message = (refusal as ConfigError).message;
    expect(message).toContain('"S043"');
    expect(message).toContain('"S042"');
    expect(message).toContain(path.dirname(file));
    expect(message).toMatch(/set storeId back to "S042".*new, empty dataDir/);
    // Nothing was changed: the right store opens it as before.
    expect(open({ storeId: 'S042' }).stats()).toMatchObject({ lastSeq: 2 });
  });

  it('records the storeId of a database written before it kept one, counts included', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    old.exec(outboxMigrations[0]!);
    old.pragma('user_version = 1');
    old.exec(`INSERT INTO meta (key, value) VALUES ('epoch', 'aaaabbbbccccdddd');
      INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES ('aaaabbbbccccdddd', 1, 3, 'new database')`);
    const insert = old.prepare(
      `INSERT INTO events (event_id, epoch, seq, terminal_id, transaction_id, type, captured_at, currency, signed_total, body_hash, state)
       VALUES (?, 'aaaabbbbccccdddd', ?, 'T1', ?, 'sale', 1, 'EUR', 100, 'h', ?)`,
    );
    insert.run('01OLDEVENT0000000001', 1, 't1', 'acked');
    insert.run('01OLDEVENT0000000002', 2, 't2', 'pending');
    insert.run('01OLDEVENT0000000003', 3, 't3', 'dead');
    old.close();

    const outbox = open({ storeId: 'S042' });
    expect(outbox.stats()).toMatchObject({
      lastSeq: 3,
      total: 3,
      deadLetters: 1,
      unsent: { count: 1, atRisk: [{ currency: 'EUR', amount: 200 }] },
    });
    outbox.close();
    expect(() => open({ storeId: 'S043' })).toThrow(ConfigError);
  });
});

describe('outbox: work that does not grow with history', () => {
  /** The truth, counted the slow way. */
  function counted(outbox: Outbox) {
    const db = outbox.database;
    const count = (where: string) => db.prepare(`SELECT count(*) FROM events WHERE ${where}`).pluck().get();
    return {
      total: count('1'),
      unsent: count("state = 'pending'"),
      dead: count("state = 'dead'"),
      atRisk: db
        .prepare(
          "SELECT currency, sum(signed_total) AS amount FROM events WHERE state IN ('pending', 'dead') GROUP BY currency HAVING amount <> 0 ORDER BY currency",
        )
        .all(),
    };
  }
  const fromStats = (outbox: Outbox) => {
    const s = outbox.stats();
    return { total: s.total, unsent: s.unsent.count, dead: s.deadLetters, atRisk: s.unsent.atRisk };
  };

  it('keeps the status counts right through captures, acks, dead letters, moves, retries, discards and pruning, from any connection', () => {
    const agent = open();
    const cli = open();
    const results = stored(agent.appendBatch(captures('c', 20)));
    agent.appendBatch([{ ...capture('usd'), currency: 'USD', signedTotal: -250 }]);
    expect(fromStats(agent)).toEqual(counted(agent));
    recordAck(file, {
      v: 1,
      kind: 'batch',
      epoch: agent.epoch,
      ackedThrough: 10,
      highestSeq: 10,
      batch: { firstSeq: 1, lastSeq: 10, lastEventId: results[9]!.eventId },
      rejected: [{ seq: 3, reason: 'invalid' }],
      conflicts: [],
    });
    expect(fromStats(cli)).toEqual(counted(cli));
    cli.retryDeadLetter(results[2]!.eventId);
    agent.database.prepare("UPDATE events SET state = 'dead', dead_reason = 'x' WHERE seq = 12").run();
    cli.discardDeadLetter(results[11]!.eventId, 'refunded');
    leaveEpoch(file, 'restored');
    expect(agent.pruneAcknowledged(Number.MAX_SAFE_INTEGER, 4)).toBe(4);
    expect(fromStats(agent)).toEqual(counted(agent));
    expect(fromStats(agent).total).toBe(17);
  });

  it('prunes in chunks, yielding between them, and stops when told', async () => {
    const outbox = open();
    stored(outbox.appendBatch(captures('p', 25)));
    outbox.database.prepare("UPDATE events SET state = 'acked', acked_at = 1000 WHERE seq <= 22").run();
    expect(outbox.pruneAcknowledged(5000, 10)).toBe(10);
    const acknowledgedLeft = () =>
      outbox.database.prepare("SELECT count(*) FROM events WHERE state = 'acked'").pluck().get() as number;
    const pruning = outbox.pruneAcknowledgedInChunks(5000, { chunk: 3 });
    // Work queued while it prunes (a till's request) runs between its chunks, not after the last one.
    const leftWhenOthersRan = await new Promise<number>((resolve) =>
      setImmediate(() => resolve(acknowledgedLeft())),
    );
    expect(await pruning).toBe(12);
    expect(leftWhenOthersRan).toBeGreaterThan(0);
    expect(seqsInTable(outbox)).toEqual([23, 24, 25]);
    expect(outbox.stats()).toMatchObject({ total: 3, unsent: { count: 3 } });

    outbox.database.prepare("UPDATE events SET state = 'acked', acked_at = 1000").run();
    expect(await outbox.pruneAcknowledgedInChunks(5000, { chunk: 1, stopped: () => true })).toBe(0);
  });
});
