import pg from 'pg';
import {
  stormBody,
  stormBodyDigest,
  stormEpoch,
  stormEventId,
  stormStoreId,
  type StormRun,
} from './storm-bodies.js';

export interface StormCheck {
  /** Stores whose every event is stored once, gapless, with the body it was sent with. */
  storesExact: number;
  rows: number;
  /** What hub_events takes on disk (every partition: rows, TOAST and indexes) per row. */
  bytesPerEvent: number;
  /** What is wrong, store by store (empty: exactly once). */
  problems: string[];
}

/** Seqs whose stored body text is compared character for character, per store (50: escapes, big number). */
const TEXT_SAMPLES = [1, 50, 1000];

/**
 * Exactly once, read from the hub's database after the storm: for every store, one `stored` row per seq
 * 1…N of its epoch and nothing else (no duplicate, refused or quarantined row), each with the eventId
 * and the digest of the very text that store sent; its epoch contiguous through N by the hub's own
 * counters; and the stored text of a few seqs equal to what was sent, character for character.
 */
export async function checkExactlyOnce(url: string, run: StormRun): Promise<StormCheck> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const problems: string[] = [];
  let storesExact = 0;
  try {
    const total = await client.query<{ rows: string; quarantined: string }>(
      'SELECT (SELECT count(*) FROM hub_events) AS rows, (SELECT count(*) FROM hub_quarantine) AS quarantined',
    );
    const rows = Number(total.rows[0]!.rows);
    const size = await client.query<{ bytes: string }>(
      "SELECT sum(pg_total_relation_size(inhrelid)) AS bytes FROM pg_inherits WHERE inhparent = 'hub_events'::regclass",
    );
    const bytesPerEvent = Number(size.rows[0]!.bytes) / Math.max(1, rows);
    if (rows !== run.stores * run.eventsPerStore)
      problems.push(`hub_events holds ${rows} rows, not ${run.stores * run.eventsPerStore}`);
    if (Number(total.rows[0]!.quarantined) > 0)
      problems.push(`hub_quarantine holds ${total.rows[0]!.quarantined} rows`);
    for (let index = 0; index < run.stores; index++) {
      const storeId = stormStoreId(index);
      const epoch = stormEpoch(run, index);
      const found: string[] = [];
      const streams = await client.query<{
        epoch: string;
        contiguous_through: string;
        stored: string;
        duplicates: string;
        rejected: string;
      }>(
        'SELECT epoch, contiguous_through, stored, duplicates, rejected FROM hub_streams WHERE store_id = $1',
        [storeId],
      );
      const stream = streams.rows[0];
      if (streams.rows.length !== 1 || !stream || stream.epoch !== epoch) {
        found.push(`epochs ${JSON.stringify(streams.rows.map((s) => s.epoch))}, expected [${epoch}]`);
      } else if (
        Number(stream.contiguous_through) !== run.eventsPerStore ||
        Number(stream.stored) !== run.eventsPerStore ||
        Number(stream.duplicates) !== 0 ||
        Number(stream.rejected) !== 0
      ) {
        found.push(`counters ${JSON.stringify(stream)}`);
      }
      const { rows: events } = await client.query<{
        seq: string;
        event_id: string;
        status: string;
        body_hash: string;
      }>('SELECT seq, event_id, status, body_hash FROM hub_events WHERE store_id = $1 ORDER BY epoch, seq', [
        storeId,
      ]);
      if (events.length !== run.eventsPerStore) found.push(`${events.length} rows`);
      events.forEach((e, i) => {
        const seq = i + 1;
        if (found.length > 5) return;
        if (Number(e.seq) !== seq) found.push(`row ${i + 1} is seq ${e.seq}`);
        else if (e.status !== 'stored') found.push(`seq ${seq} is ${e.status}`);
        else if (e.event_id !== stormEventId(run, index, seq))
          found.push(`seq ${seq} holds event ${e.event_id}`);
        else if (e.body_hash !== stormBodyDigest(index, seq)) found.push(`seq ${seq} holds another body`);
      });
      const texts = await client.query<{ seq: string; body: string }>(
        'SELECT seq, body FROM hub_events WHERE store_id = $1 AND epoch = $2 AND seq = ANY($3::bigint[])',
        [storeId, epoch, TEXT_SAMPLES.filter((s) => s <= run.eventsPerStore)],
      );
      for (const t of texts.rows)
        if (t.body !== stormBody(index, Number(t.seq))) found.push(`seq ${t.seq}: stored text differs`);
      if (found.length === 0) storesExact++;
      else problems.push(`${storeId}: ${found.slice(0, 5).join('; ')}`);
    }
    return { storesExact, rows, bytesPerEvent, problems };
  } finally {
    await client.end();
  }
}
