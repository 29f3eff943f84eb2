import type Database from 'better-sqlite3';
import type { ResendReport } from '../contracts/sync-messages.js';
import { toResendFacts, type ResendRow } from './day-rows.js';
import type { ResendAsk, ResendReportOutcome } from './hub-store.js';
import type { SqliteStatements } from './sqlite-statements.js';
import { decideResend, MAX_LOST_STEPS, reportedLoss, unrecoverableRange } from './resend-rules.js';

/** The resync table of the embedded hub database (hub-migrations.ts, migration 4). */
export class SqliteResyncStore {
  constructor(
    private readonly db: Database.Database,
    private readonly sql: SqliteStatements,
    /** Contiguous-through from a seq on (a row or an answered loss at every seq up to it). */
    private readonly advance: (storeId: string, epoch: string, from: number) => number,
  ) {}

  planResend(
    storeId: string,
    epoch: string,
    ackedThrough: number,
    options: { hubId: string; now: number; reaskAfterMs: number; requestId: string },
  ): ResendAsk | undefined {
    const db = this.db;
    // Every status of every store comes here: the usual answer (nothing lost, nothing pending) is one read.
    const quick = this.sql
      .get(
        `SELECT s.contiguous_through AS held, EXISTS (SELECT 1 FROM hub_resend_requests r
           WHERE r.store_id = s.store_id AND r.epoch = s.epoch AND r.reported_at IS NULL AND r.settled_at IS NULL) AS pending
         FROM hub_streams s WHERE s.store_id = ? AND s.epoch = ?`,
      )
      .get(storeId, epoch) as { held: number; pending: number } | undefined;
    if (quick && ackedThrough <= quick.held && !quick.pending) return undefined;
    return db
      .transaction((): ResendAsk | undefined => {
        const stream = this.sql
          .pluck('SELECT contiguous_through FROM hub_streams WHERE store_id = ? AND epoch = ?')
          .get(storeId, epoch) as number | undefined;
        const requests = (
          this.sql
            .get('SELECT * FROM hub_resend_requests WHERE store_id = ? AND epoch = ?')
            .all(storeId, epoch) as ResendRow[]
        ).map(toResendFacts);
        let held = stream ?? 0;
        for (let step = 0; step < MAX_LOST_STEPS; step++) {
          const answered = requests.find((r) => r.fromSeq === held + 1);
          const lost = answered ? unrecoverableRange(answered) : null;
          if (!lost) break;
          held = this.advance(storeId, epoch, lost.to);
        }
        const decision = decideResend({
          ackedThrough,
          heldThrough: held,
          request: requests.find((r) => r.fromSeq === held + 1),
          now: options.now,
          reaskAfterMs: options.reaskAfterMs,
        });
        // Requests below what the hub now holds were answered by the events themselves (or superseded).
        this.sql
          .get(
            `UPDATE hub_resend_requests SET settled_at = ?
           WHERE store_id = ? AND epoch = ? AND from_seq <= ? AND reported_at IS NULL AND settled_at IS NULL`,
          )
          .run(options.now, storeId, epoch, held);
        if (decision.action === 'ask') {
          this.ensureStream(storeId, epoch, options.now);
          const inserted = this.sql
            .get(
              `INSERT INTO hub_resend_requests (store_id, epoch, from_seq, request_id, acked_through, hub_id,
                 first_asked_at, last_asked_at, asks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
            )
            .run(
              storeId,
              epoch,
              decision.fromSeq,
              options.requestId,
              ackedThrough,
              options.hubId,
              options.now,
              options.now,
            );
          return inserted.changes === 1
            ? { requestId: options.requestId, fromSeq: decision.fromSeq, asks: 1 }
            : undefined;
        }
        if (decision.action === 'reask') {
          const claimed = this.sql
            .get(
              `UPDATE hub_resend_requests SET last_asked_at = ?, asks = asks + 1, hub_id = ?,
                 acked_through = max(acked_through, ?), reported_at = NULL, available_from = NULL, store_through = NULL
               WHERE store_id = ? AND epoch = ? AND from_seq = ? AND last_asked_at = ?`,
            )
            .run(
              options.now,
              options.hubId,
              ackedThrough,
              storeId,
              epoch,
              decision.fromSeq,
              decision.request.lastAskedAt,
            );
          return claimed.changes === 1
            ? {
                requestId: decision.request.requestId,
                fromSeq: decision.fromSeq,
                asks: decision.request.asks + 1,
              }
            : undefined;
        }
        return undefined;
      })
      .immediate();
  }

  dueResends(before: number, limit: number): { storeId: string; epoch: string; ackedThrough: number }[] {
    return (
      this.sql
        .get(
          `SELECT r.store_id, r.epoch, max(r.acked_through) AS acked_through FROM hub_resend_requests r
           JOIN hub_stores s ON s.store_id = r.store_id
           WHERE r.reported_at IS NULL AND r.settled_at IS NULL AND r.last_asked_at < ? AND s.online = 1
           GROUP BY r.store_id, r.epoch ORDER BY min(r.last_asked_at) LIMIT ?`,
        )
        .all(before, limit) as { store_id: string; epoch: string; acked_through: number }[]
    ).map((r) => ({ storeId: r.store_id, epoch: r.epoch, ackedThrough: r.acked_through }));
  }

  recordResendReport(
    storeId: string,
    epoch: string,
    report: ResendReport['resend'],
    at: number,
  ): ResendReportOutcome {
    const db = this.db;
    return db
      .transaction((): ResendReportOutcome => {
        const updated = this.sql
          .get(
            `UPDATE hub_resend_requests SET reported_at = ?, available_from = ?, store_through = ?
             WHERE store_id = ? AND epoch = ? AND from_seq = ?`,
          )
          .run(at, report.availableFrom, report.through, storeId, epoch, report.fromSeq);
        this.ensureStream(storeId, epoch, at);
        if (updated.changes === 0) {
          this.sql
            .get(
              `INSERT INTO hub_resend_requests (store_id, epoch, from_seq, request_id, acked_through, hub_id,
               first_asked_at, last_asked_at, asks, reported_at, available_from, store_through)
             VALUES (?, ?, ?, ?, ?, '(none)', ?, ?, 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
            )
            .run(
              storeId,
              epoch,
              report.fromSeq,
              report.requestId,
              report.through,
              at,
              at,
              at,
              report.availableFrom,
              report.through,
            );
        }
        const held = this.sql
          .pluck('SELECT contiguous_through FROM hub_streams WHERE store_id = ? AND epoch = ?')
          .get(storeId, epoch) as number;
        return { unrecoverable: reportedLoss(report, held, at), asked: updated.changes === 1 };
      })
      .immediate();
  }

  /**
   * An epoch the hub lost entirely (it began after the backup) still gets its row, so that /v1/stores
   * shows the resend asked of it and what the store no longer had, before (or without) any event back.
   */
  private ensureStream(storeId: string, epoch: string, at: number): void {
    this.sql
      .get(
        `INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
         VALUES (?, ?, ?, ?, 0, 0) ON CONFLICT DO NOTHING`,
      )
      .run(storeId, epoch, at, at);
  }

  /** Every resend row, for /v1/stores: the losses they report and the latest ask per epoch. */
  all(): ResendRow[] {
    return this.sql
      .get('SELECT * FROM hub_resend_requests ORDER BY store_id, epoch, from_seq')
      .all() as ResendRow[];
  }
}
