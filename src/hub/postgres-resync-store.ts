import type pg from 'pg';
import type { ResendReport } from '../contracts/sync-messages.js';
import { toResendFacts, type ResendRow } from './day-rows.js';
import type { ResendAsk, ResendReportOutcome } from './hub-store.js';
import { decideResend, MAX_LOST_STEPS, reportedLoss, unrecoverableRange } from './resend-rules.js';

/**
 * An epoch the hub lost entirely (it began after the backup) still gets its row, so that /v1/stores
 * shows the resend asked of it and what the store no longer had, before (or without) any event back.
 */
async function ensureStream(c: pg.PoolClient, storeId: string, epoch: string, at: number): Promise<void> {
  await c.query(
    `INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
     VALUES ($1, $2, $3, $3, 0, 0) ON CONFLICT DO NOTHING`,
    [storeId, epoch, at],
  );
}

/**
 * The resync table of the production hub database. Hubs sharing it race only on the request row: the
 * one whose INSERT (first ask) or compare-and-set UPDATE (a re-ask) changes it sends the command.
 */
export class PostgresResyncStore {
  constructor(
    private readonly transaction: <T>(work: (c: pg.PoolClient) => Promise<T>) => Promise<T>,
    private readonly pool: pg.Pool,
    /** Contiguous-through from a seq on (a row at every seq up to it). */
    private readonly advance: (
      c: pg.PoolClient,
      storeId: string,
      epoch: string,
      from: number,
    ) => Promise<number>,
  ) {}

  async planResend(
    storeId: string,
    epoch: string,
    ackedThrough: number,
    options: { hubId: string; now: number; reaskAfterMs: number; requestId: string },
  ): Promise<ResendAsk | undefined> {
    // Every status of every store comes here: the usual answer (nothing lost, nothing pending) is one read.
    const quick = await this.pool.query<{ held: string; pending: boolean }>(
      `SELECT s.contiguous_through AS held, EXISTS (SELECT 1 FROM hub_resend_requests r
         WHERE r.store_id = s.store_id AND r.epoch = s.epoch AND r.reported_at IS NULL AND r.settled_at IS NULL) AS pending
       FROM hub_streams s WHERE s.store_id = $1 AND s.epoch = $2`,
      [storeId, epoch],
    );
    const row = quick.rows[0];
    if (row && ackedThrough <= Number(row.held) && !row.pending) return undefined;
    return this.transaction(async (c) => {
      const stream = await c.query<{ contiguous_through: string }>(
        'SELECT contiguous_through FROM hub_streams WHERE store_id = $1 AND epoch = $2',
        [storeId, epoch],
      );
      const requests = (
        await c.query<ResendRow>('SELECT * FROM hub_resend_requests WHERE store_id = $1 AND epoch = $2', [
          storeId,
          epoch,
        ])
      ).rows.map(toResendFacts);
      let held = Number(stream.rows[0]?.contiguous_through ?? 0);
      for (let step = 0; step < MAX_LOST_STEPS; step++) {
        const answered = requests.find((r) => r.fromSeq === held + 1);
        const lost = answered ? unrecoverableRange(answered) : null;
        if (!lost) break;
        held = await this.advance(c, storeId, epoch, lost.to);
      }
      const decision = decideResend({
        ackedThrough,
        heldThrough: held,
        request: requests.find((r) => r.fromSeq === held + 1),
        now: options.now,
        reaskAfterMs: options.reaskAfterMs,
      });
      // Requests below what the hub now holds were answered by the events themselves (or superseded).
      await c.query(
        `UPDATE hub_resend_requests SET settled_at = $4
         WHERE store_id = $1 AND epoch = $2 AND from_seq <= $3 AND reported_at IS NULL AND settled_at IS NULL`,
        [storeId, epoch, held, options.now],
      );
      if (decision.action === 'ask') {
        await ensureStream(c, storeId, epoch, options.now);
        const inserted = await c.query(
          `INSERT INTO hub_resend_requests (store_id, epoch, from_seq, request_id, acked_through, hub_id,
             first_asked_at, last_asked_at, asks) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1) ON CONFLICT DO NOTHING`,
          [storeId, epoch, decision.fromSeq, options.requestId, ackedThrough, options.hubId, options.now],
        );
        return inserted.rowCount === 1
          ? { requestId: options.requestId, fromSeq: decision.fromSeq, asks: 1 }
          : undefined;
      }
      if (decision.action === 'reask') {
        const claimed = await c.query(
          `UPDATE hub_resend_requests SET last_asked_at = $4, asks = asks + 1, hub_id = $5,
             acked_through = greatest(acked_through, $6), reported_at = NULL, available_from = NULL,
             store_through = NULL
           WHERE store_id = $1 AND epoch = $2 AND from_seq = $3 AND last_asked_at = $7`,
          [
            storeId,
            epoch,
            decision.fromSeq,
            options.now,
            options.hubId,
            ackedThrough,
            decision.request.lastAskedAt,
          ],
        );
        return claimed.rowCount === 1
          ? {
              requestId: decision.request.requestId,
              fromSeq: decision.fromSeq,
              asks: decision.request.asks + 1,
            }
          : undefined;
      }
      return undefined;
    });
  }

  async dueResends(
    before: number,
    limit: number,
  ): Promise<{ storeId: string; epoch: string; ackedThrough: number }[]> {
    const { rows } = await this.pool.query<{ store_id: string; epoch: string; acked_through: string }>(
      `SELECT r.store_id, r.epoch, max(r.acked_through) AS acked_through FROM hub_resend_requests r
       JOIN hub_stores s ON s.store_id = r.store_id
       WHERE r.reported_at IS NULL AND r.settled_at IS NULL AND r.last_asked_at < $1 AND s.online
       GROUP BY r.store_id, r.epoch ORDER BY min(r.last_asked_at) LIMIT $2`,
      [before, limit],
    );
    return rows.map((r) => ({ storeId: r.store_id, epoch: r.epoch, ackedThrough: Number(r.acked_through) }));
  }

  recordResendReport(
    storeId: string,
    epoch: string,
    report: ResendReport['resend'],
    at: number,
  ): Promise<ResendReportOutcome> {
    return this.transaction(async (c) => {
      const updated = await c.query(
        `UPDATE hub_resend_requests SET reported_at = $4, available_from = $5, store_through = $6
         WHERE store_id = $1 AND epoch = $2 AND from_seq = $3`,
        [storeId, epoch, report.fromSeq, at, report.availableFrom, report.through],
      );
      await ensureStream(c, storeId, epoch, at);
      if (updated.rowCount === 0) {
        await c.query(
          `INSERT INTO hub_resend_requests (store_id, epoch, from_seq, request_id, acked_through, hub_id,
             first_asked_at, last_asked_at, asks, reported_at, available_from, store_through)
           VALUES ($1, $2, $3, $4, $5, '(none)', $6, $6, 0, $6, $7, $5) ON CONFLICT DO NOTHING`,
          [storeId, epoch, report.fromSeq, report.requestId, report.through, at, report.availableFrom],
        );
      }
      const held = await c.query<{ contiguous_through: string }>(
        'SELECT contiguous_through FROM hub_streams WHERE store_id = $1 AND epoch = $2',
        [storeId, epoch],
      );
      return {
        unrecoverable: reportedLoss(report, Number(held.rows[0]!.contiguous_through), at),
        asked: updated.rowCount === 1,
      };
    });
  }

  async all(): Promise<ResendRow[]> {
    const { rows } = await this.pool.query<ResendRow>(
      'SELECT * FROM hub_resend_requests ORDER BY store_id, epoch, from_seq',
    );
    return rows;
  }
}
