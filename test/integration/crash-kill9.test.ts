import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTerminals, spawnAgent, type TerminalCredential } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Promise 1 of DESIGN.md: a sale the agent answered 201 for is never lost and never doubled, here
 * against the crudest failure there is: SIGKILL while 16 tills are submitting. One data directory goes
 * through several kill cycles, so recovery is also tested on a database that already survived crashes.
 */

const CONCURRENCY = 16;
const TERMINALS = makeTerminals(['T1', 'T2', 'T3']);
/** Fewer acknowledgements than this before the kill and the test would prove nothing. */
const MIN_ACKS_BEFORE_KILL = 100;
/** Per cycle: kill once this many sales were acknowledged (plus a random extra), so each kill lands elsewhere. */
const KILL_AFTER_ACKS = [300, 550, 800];
const MAX_STREAM_MS = 30_000;

/** One POS submission as the till saw it. */
interface Attempt {
  terminalId: string;
  transactionId: string;
  /** The exact text sent; the outbox must store it byte for byte. */
  body: string;
  /** acked: answered 201 (or later 200 duplicate); unknown: the connection died before an answer. */
  outcome: 'acked' | 'unknown';
  eventId?: string;
  seq?: number;
}

interface OutboxRow {
  epoch: string;
  seq: number;
  event_id: string;
  terminal_id: string;
  transaction_id: string;
  body: string;
}

const keyOf = (terminalId: string, transactionId: string) => `${terminalId}/${transactionId}`;

/** Some bodies pretty-printed, so "byte-identical" is not satisfied by re-serialising the JSON. */
function saleText(terminalId: string, n: number): string {
  const sale = numberedSale(terminalId, n);
  return n % 3 === 0 ? JSON.stringify(sale, null, 2) : JSON.stringify(sale);
}

function postSale(url: string, terminal: TerminalCredential, body: string): Promise<Response> {
  return fetch(`${url}/v1/transactions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${terminal.token}`, 'content-type': 'application/json' },
    body,
  });
}

function readOutbox(dataDir: string): { rows: OutboxRow[]; integrity: string; lastSeq: number[] } {
  const db = new Database(path.join(dataDir, 'outbox.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return {
      rows: db
        .prepare('SELECT epoch, seq, event_id, terminal_id, transaction_id, body FROM event_log ORDER BY seq')
        .all() as OutboxRow[],
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      lastSeq: (db.prepare('SELECT last_seq FROM epochs').all() as { last_seq: number }[]).map(
        (r) => r.last_seq,
      ),
    };
  } finally {
    db.close();
  }
}

/**
 * Everything that would break the promise, in words: an acknowledged sale missing, stored twice, with
 * another body or other ids; a row nobody submitted; a seq out of 1..N. Empty means the outbox is sound.
 */
function durabilityViolations(rows: readonly OutboxRow[], attempts: Iterable<Attempt>): string[] {
  const problems: string[] = [];
  const rowsByKey = new Map<string, OutboxRow[]>();
  for (const row of rows) {
    const key = keyOf(row.terminal_id, row.transaction_id);
    rowsByKey.set(key, [...(rowsByKey.get(key) ?? []), row]);
  }
  const attempted = new Set<string>();
  for (const attempt of attempts) {
    const key = keyOf(attempt.terminalId, attempt.transactionId);
    attempted.add(key);
    if (attempt.outcome !== 'acked') continue;
    const stored = rowsByKey.get(key) ?? [];
    if (stored.length !== 1) {
      problems.push(`${key} was acknowledged (seq ${attempt.seq}) but is stored ${stored.length} times`);
      continue;
    }
    const row = stored[0]!;
    if (row.body !== attempt.body) problems.push(`${key} is stored with a body other than the one sent`);
    const idsKnown = attempt.eventId !== undefined; // unknown only if a 201's body was cut off by the kill
    if (idsKnown && (row.event_id !== attempt.eventId || row.seq !== attempt.seq)) {
      problems.push(
        `${key} was acknowledged as ${attempt.eventId}/seq ${attempt.seq} but is stored as ${row.event_id}/seq ${row.seq}`,
      );
    }
  }
  for (const row of rows) {
    const key = keyOf(row.terminal_id, row.transaction_id);
    if (!attempted.has(key)) problems.push(`seq ${row.seq} holds ${key}, which no till submitted`);
  }
  const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
  const firstBad = seqs.findIndex((seq, i) => seq !== i + 1);
  if (firstBad !== -1) {
    problems.push(
      `seqs are not exactly 1..${rows.length}: position ${firstBad + 1} holds seq ${seqs[firstBad]}`,
    );
  }
  const epochs = new Set(rows.map((r) => r.epoch));
  if (epochs.size > 1) problems.push(`rows span ${epochs.size} epochs; a restart must not start a new one`);
  return problems.slice(0, 20);
}

interface StreamResult {
  attempts: Attempt[];
  acksAtKill: number;
  inFlightAtKill: number;
  unexpected: string[];
}

/**
 * 16 tills submit numbered sales as fast as the agent answers; once `killAfterAcks` were acknowledged,
 * and after a random few milliseconds more, the agent gets SIGKILL while requests are in flight.
 */
async function sellUntilKilled(
  agent: { url: string; kill(signal: NodeJS.Signals): Promise<unknown> },
  nextNumber: () => number,
  killAfterAcks: number,
): Promise<StreamResult> {
  const attempts: Attempt[] = [];
  const unexpected: string[] = [];
  let acked = 0;
  let inFlight = 0;
  let killed = false;
  let killing: Promise<unknown> | undefined;
  let acksAtKill = 0;
  let inFlightAtKill = 0;
  const deadline = Date.now() + MAX_STREAM_MS;

  const kill = () => {
    killed = true;
    acksAtKill = acked;
    inFlightAtKill = inFlight;
    killing = agent.kill('SIGKILL');
  };

  const till = async () => {
    while (!killed) {
      if (Date.now() > deadline) {
        kill();
        break;
      }
      const n = nextNumber();
      const terminal = TERMINALS[n % TERMINALS.length]!;
      const attempt: Attempt = {
        terminalId: terminal.id,
        transactionId: `${terminal.id}-${n}`,
        body: saleText(terminal.id, n),
        outcome: 'unknown',
      };
      attempts.push(attempt);
      inFlight++;
      let status = 0;
      try {
        const response = await postSale(agent.url, terminal, attempt.body);
        status = response.status;
        const text = await response.text();
        if (response.status !== 201) {
          unexpected.push(`${attempt.transactionId}: ${response.status} ${text}`);
          continue;
        }
        // A 201 that arrives after the kill was still sent by the agent: it counts.
        const answer = JSON.parse(text) as { eventId: string; seq: number };
        Object.assign(attempt, { outcome: 'acked', eventId: answer.eventId, seq: answer.seq });
        acked++;
        if (acked === killAfterAcks && !killed) setTimeout(() => killed || kill(), Math.random() * 5);
      } catch (error) {
        // Reset or refused by the dying agent: the sale may or may not have been committed, unless
        // the 201 itself arrived and only its body was cut off.
        if (status === 201) attempt.outcome = 'acked';
        if (!killed) unexpected.push(`${attempt.transactionId}: ${String(error)}`);
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, till));
  await killing;
  return { attempts, acksAtKill, inFlightAtKill, unexpected };
}

/** Re-submits every attempt the way a till retries after a restart, 16 at a time; returns the answers in order. */
async function resubmit(
  url: string,
  attempts: readonly Attempt[],
): Promise<{ status: number; eventId?: string; seq?: number; duplicate?: boolean }[]> {
  const answers: { status: number; eventId?: string; seq?: number; duplicate?: boolean }[] = [];
  let next = 0;
  const till = async () => {
    while (next < attempts.length) {
      const i = next++;
      const attempt = attempts[i]!;
      const terminal = TERMINALS.find((t) => t.id === attempt.terminalId)!;
      const response = await postSale(url, terminal, attempt.body);
      answers[i] = { status: response.status, ...((await response.json()) as object) };
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, till));
  return answers;
}

describe('store agent under kill -9', () => {
  it('keeps every 201-acknowledged sale exactly once after kill -9 mid-stream', async () => {
    const dataDir = makeTempDir('crash-kill9');
    const ledger = new Map<string, Attempt>();
    let counter = 0;
    const nextNumber = () => ++counter;

    for (const [cycle, base] of KILL_AFTER_ACKS.entries()) {
      const killAfterAcks = base + Math.floor(Math.random() * 150);
      const context = `cycle ${cycle + 1}, kill after ${killAfterAcks} acks`;

      const agent = await spawnAgent({ dataDir, terminals: TERMINALS });
      const stream = await sellUntilKilled(agent, nextNumber, killAfterAcks);
      expect(await agent.waitExit(), context).toEqual({ code: null, signal: 'SIGKILL' });
      expect(stream.unexpected, context).toEqual([]);
      expect(stream.acksAtKill, context).toBeGreaterThanOrEqual(MIN_ACKS_BEFORE_KILL);
      expect(
        stream.inFlightAtKill,
        `${context}: the kill must land while requests are in flight`,
      ).toBeGreaterThan(0);
      for (const attempt of stream.attempts)
        ledger.set(keyOf(attempt.terminalId, attempt.transactionId), attempt);

      // Restart on the crashed database (SQLite recovers its WAL), stop it cleanly, then look inside.
      const recovered = await spawnAgent({ dataDir, terminals: TERMINALS });
      expect(await recovered.kill('SIGTERM'), context).toEqual({ code: 0, signal: null });
      const afterCrash = readOutbox(dataDir);
      expect(afterCrash.integrity, context).toBe('ok');
      expect(durabilityViolations(afterCrash.rows, ledger.values()), context).toEqual([]);
      expect(afterCrash.lastSeq, context).toEqual([afterCrash.rows.length]);

      // The tills retry everything they sent. Acknowledged sales are recognised with their original ids;
      // a sale whose answer was lost is recognised if the crash spared its commit, and stored now if not.
      const committed = new Map(afterCrash.rows.map((r) => [keyOf(r.terminal_id, r.transaction_id), r]));
      const attempts = [...ledger.values()];
      const again = await spawnAgent({ dataDir, terminals: TERMINALS });
      const answers = await resubmit(again.url, attempts);
      let stored = afterCrash.rows.length;
      attempts.forEach((attempt, i) => {
        const answer = answers[i]!;
        const key = keyOf(attempt.terminalId, attempt.transactionId);
        const row = committed.get(key);
        if (attempt.outcome === 'acked' || row) {
          const original = row ? { eventId: row.event_id, seq: row.seq } : attempt;
          expect(answer, `${context}: re-submission of ${key}`).toEqual({
            status: 200,
            duplicate: true,
            eventId: original.eventId,
            seq: original.seq,
          });
        } else {
          expect(answer.status, `${context}: re-submission of never-committed ${key}`).toBe(201);
          stored++;
        }
        Object.assign(attempt, { outcome: 'acked', eventId: answer.eventId, seq: answer.seq });
      });
      expect(await again.kill('SIGTERM'), context).toEqual({ code: 0, signal: null });

      const afterRetry = readOutbox(dataDir);
      expect(afterRetry.integrity, context).toBe('ok');
      expect(afterRetry.rows.length, context).toBe(ledger.size);
      expect(afterRetry.rows.length, context).toBe(stored);
      expect(durabilityViolations(afterRetry.rows, ledger.values()), context).toEqual([]);
    }
  }, 180_000);

  it('has an outbox check that catches a lost, a doubled, an altered and a renumbered sale', () => {
    const attempt = (n: number): Attempt => ({
      terminalId: 'T1',
      transactionId: `T1-${n}`,
      body: saleText('T1', n),
      outcome: 'acked',
      eventId: `E${n}`,
      seq: n,
    });
    const row = (a: Attempt): OutboxRow => ({
      epoch: 'ep',
      seq: a.seq!,
      event_id: a.eventId!,
      terminal_id: a.terminalId,
      transaction_id: a.transactionId,
      body: a.body,
    });
    const attempts = [1, 2, 3].map(attempt);
    const sound = attempts.map(row);
    expect(durabilityViolations(sound, attempts)).toEqual([]);

    const lost = [sound[0]!, sound[2]!];
    expect(durabilityViolations(lost, attempts).join('\n')).toMatch(/T1\/T1-2 .* stored 0 times/);

    const doubled = [...sound, { ...sound[1]!, seq: 4, event_id: 'E4' }];
    expect(durabilityViolations(doubled, attempts).join('\n')).toMatch(/T1\/T1-2 .* stored 2 times/);

    const altered = [sound[0]!, { ...sound[1]!, body: sound[1]!.body.replace('"v":1', '"v": 1') }, sound[2]!];
    expect(durabilityViolations(altered, attempts).join('\n')).toMatch(/body other than the one sent/);

    const renumbered = [sound[0]!, { ...sound[1]!, seq: 5 }, sound[2]!];
    expect(durabilityViolations(renumbered, attempts).join('\n')).toMatch(/stored as E2\/seq 5/);
    expect(durabilityViolations(renumbered, attempts).join('\n')).toMatch(/not exactly 1\.\.3/);

    const phantom = [...sound, { ...row(attempt(4)) }];
    expect(durabilityViolations(phantom, attempts).join('\n')).toMatch(/T1-4, which no till submitted/);
  });
});
