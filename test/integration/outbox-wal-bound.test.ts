import { closeSync, existsSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { StorageUnavailableError } from '../../src/lib/errors.js';
import { DeliveryThread, Outbox, type CaptureInput } from '../../src/sync/index.js';
import { waitFor } from '../support/sync-harness.js';
import { mountSmallDisk } from '../support/temp-dir.js';

/**
 * On a small disk the outbox's write-ahead log gives its space back: it shrinks once a burst is over
 * (left alone it keeps the size of the largest burst, and that space never comes back to captures), and
 * capture takes writes again as soon as space is freed.
 */

const MiB = 1024 * 1024;
/** An idle outbox's WAL holds at most a few frames: the rest of its space is given back. */
const EMPTY_WAL_BYTES = 64 * 1024;

let n = 0;
function sales(count: number, padding = 1500): CaptureInput[] {
  return Array.from({ length: count }, () => {
    n += 1;
    const body = JSON.stringify({ transactionId: `t-${n}`, padding: 'x'.repeat(padding) });
    return {
      terminalId: 'T1',
      transactionId: `t-${n}`,
      type: 'sale',
      currency: 'EUR',
      signedTotal: 100,
      body,
      bodyHash: textDigest(body),
    };
  });
}

const walSize = (file: string) => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

/** Fills the disk holding `dir` until about `leaveBytes` are free, with real pages (tmpfs ignores sparse files). */
function fillDisk(dir: string, leaveBytes: number): string {
  const filler = path.join(dir, 'filler.bin');
  const { bavail, bsize } = statfsSync(dir);
  let remaining = bavail * bsize - leaveBytes;
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const fd = openSync(filler, 'w');
  try {
    while (remaining > 0) remaining -= writeSync(fd, chunk, 0, Math.min(chunk.length, remaining));
  } catch {
    // the disk is full already: as full as it gets
  } finally {
    closeSync(fd);
  }
  return filler;
}

describe('the outbox write-ahead log on a small disk', () => {
  it('shrinks after a burst, and capture takes writes again as soon as space is freed', async () => {
    const disk = mountSmallDisk('wal-bound', 4 * MiB);
    const file = path.join(disk, 'data', 'outbox.sqlite');
    const outbox = new Outbox({ file, storeId: 'S1' });
    const checkpointerErrors: string[] = [];
    // The outbox's worker thread checkpoints the WAL, as in the agent.
    const checkpointer = new DeliveryThread({
      file,
      storeId: 'S1',
      checkpointEveryMs: 100,
      onCheckpointError: (message) => checkpointerErrors.push(message),
    });
    try {
      // A reader holding an old snapshot through a burst (the sync engine reading a batch, a backup tool)
      // keeps checkpoints from catching up, so the WAL grows with the burst.
      const reader = new Database(file, { readonly: true });
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM events').pluck().get();
      for (let i = 0; i < 4; i++) outbox.appendBatch(sales(100));
      const high = walSize(file);
      reader.exec('COMMIT');
      reader.close();
      expect(high, 'the burst should have grown the WAL to megabytes').toBeGreaterThan(MiB);

      // Idle: the WAL gives its space back.
      await waitFor('the WAL to shrink after the burst', () => walSize(file) <= EMPTY_WAL_BYTES, {
        timeoutMs: 5000,
        describe: () => ({ wal: walSize(file), high, checkpointerErrors }),
      });

      // The disk fills (another program's file): captures fail as disk-full, nothing is corrupted.
      const filler = fillDisk(disk, 16 * 1024);
      let refusal: unknown;
      for (let i = 0; i < 200 && refusal === undefined; i++) {
        try {
          outbox.appendBatch(sales(5));
        } catch (error) {
          refusal = error;
        }
      }
      expect(refusal).toBeInstanceOf(StorageUnavailableError);
      expect((refusal as StorageUnavailableError).reason).toBe('disk-full');

      // Space is freed: the very next capture is stored.
      rmSync(filler);
      outbox.probeWritable();
      const [result] = outbox.appendBatch(sales(1));
      expect(result).toMatchObject({ duplicate: false });
      expect(outbox.quickCheck()).toBe('ok');

      // And once idle again, the WAL is back within its bound.
      await waitFor('the WAL to shrink again', () => walSize(file) <= EMPTY_WAL_BYTES, {
        timeoutMs: 5000,
        describe: () => ({ wal: walSize(file) }),
      });
    } finally {
      await checkpointer.close();
      outbox.close();
    }
  }, 30_000);
});
