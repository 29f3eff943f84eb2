import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TransactionType } from '../../src/contracts/transaction.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { ConflictError, StorageUnavailableError } from '../../src/lib/errors.js';
import { DatabaseTooNewError, Outbox, type CaptureInput, type CaptureResult } from '../../src/sync/index.js';

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

function open(options: { maxSizeMb?: number } = {}): Outbox {
  const outbox = new Outbox({ file, ...options });
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
    expect(() => open()).toThrow(/schema version 99.*knows only up to 1/);

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
    stored(outbox.appendBatch(captures('ack', 10)));
    const epoch = outbox.epoch;
    const applied = outbox.applyAck({
      epoch,
      ackedThrough: 10, // the hub holds 1..10, but it judged only seqs 4..6 of this database's events
      batch: { firstSeq: 4, lastSeq: 6 },
      rejected: [{ seq: 5, reason: 'invalid' }],
      conflicts: [{ seq: 6, reason: 'different event' }],
    });
    expect(applied).toEqual({ acked: 1, dead: 1 });
    expect(outbox.unsentAfter(0, 100).map((e) => e.seq)).toEqual([1, 2, 3, 6, 7, 8, 9, 10]);
    expect(outbox.stats().deadLetters).toBe(1);

    // A new epoch takes every unsent event, in capture order, with fresh gapless seqs; acknowledged and dead stay behind.
    const next = outbox.startNewEpoch('restored from backup');
    expect(next.moved).toBe(8);
    expect(outbox.epoch).toBe(next.epoch);
    expect(outbox.unsentAfter(0, 100).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(outbox.lastSeqOf(next.epoch)).toBe(8);
    const [first] = stored(outbox.appendBatch(captures('after', 1)));
    expect(first).toMatchObject({ epoch: next.epoch, seq: 9 });
  });
});
