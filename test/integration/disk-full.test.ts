import { closeSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTerminals, spawnAgent, type TerminalCredential } from '../support/spawn-agent.js';
import { makeTempDir, mountSmallDisk } from '../support/temp-dir.js';

/**
 * Promise 2 of DESIGN.md ends with "limited only by disk". When the disk is full, the tills must get a
 * clear 503 they can retry, nothing already stored may suffer, and the agent must notice by itself when
 * space comes back: a full disk at 3 a.m. must not need someone to restart it. The agent runs as it does
 * in a store, with its daily log files in dataDir/logs on the same small disk, so the logs fill with the
 * outbox: a log file that cannot be written must not stop capture, nor the process.
 */

const TERMINALS = makeTerminals(['T1', 'T2', 'T3', 'T4']);
const MiB = 1024 * 1024;
/** The agent probes a full disk every 2 s; watching /healthz this long sees at least two probes. */
const LONGER_THAN_TWO_PROBES_MS = 5_000;
/** Full-disk episodes in one run: the log file fails at a different moment in each (after a different fill). */
const ROUNDS = [{ leaveBytes: 0 }, { leaveBytes: 16 * 1024 }, { leaveBytes: 64 * 1024 }];

interface Submission {
  terminalId: string;
  transactionId: string;
  body: string;
  status: number;
  answer: { eventId?: string; seq?: number; duplicate?: boolean; error?: string };
  retryAfter: string | null;
}

/** Submits the exact text `body` as `terminal`, as a till does, and again on a retry. */
async function submit(
  url: string,
  terminal: TerminalCredential,
  transactionId: string,
  body: string,
): Promise<Submission> {
  const response = await fetch(`${url}/v1/transactions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${terminal.token}`, 'content-type': 'application/json' },
    body,
  });
  return {
    terminalId: terminal.id,
    transactionId,
    body,
    status: response.status,
    answer: (await response.json()) as Submission['answer'],
    retryAfter: response.headers.get('retry-after'),
  };
}

function submitSale(url: string, terminal: TerminalCredential, n: number): Promise<Submission> {
  return submit(url, terminal, `${terminal.id}-${n}`, JSON.stringify(numberedSale(terminal.id, n)));
}

/**
 * `tills` tills (spread over the four terminals) sell until the agent answers 503 or the bounds run
 * out; every submission is returned, whatever its answer.
 */
async function sellUntilUnavailable(
  url: string,
  nextNumber: () => number,
  bounds: { tills: number; maxSales: number; maxMs: number },
): Promise<Submission[]> {
  const submissions: Submission[] = [];
  const deadline = Date.now() + bounds.maxMs;
  const unavailable = () => submissions.some((s) => s.status === 503);
  const till = async (terminal: TerminalCredential) => {
    while (!unavailable() && submissions.length < bounds.maxSales && Date.now() < deadline) {
      submissions.push(await submitSale(url, terminal, nextNumber()));
    }
  };
  await Promise.all(Array.from({ length: bounds.tills }, (_, i) => till(TERMINALS[i % TERMINALS.length]!)));
  return submissions;
}

/**
 * Sells with `tills` tills until a 503, then with one till alone until it is refused too. At the very
 * edge a small batch may still fit after a large one did not; a refused lone sale means storage is
 * really out, which is what the assertions on /healthz and /v1/status need.
 */
async function sellUntilRefusedAlone(url: string, nextNumber: () => number, tills: number) {
  const together = await sellUntilUnavailable(url, nextNumber, { tills, maxSales: 5000, maxMs: 30_000 });
  const alone = await sellUntilUnavailable(url, nextNumber, { tills: 1, maxSales: 200, maxMs: 10_000 });
  return [...together, ...alone];
}

/** Fills the file system holding `dir` until only about `leaveBytes` are free, with real pages (tmpfs ignores sparse files). */
function fillDisk(dir: string, leaveBytes: number): string {
  const filler = path.join(dir, 'filler.bin');
  const { bavail, bsize } = statfsSync(dir);
  let remaining = bavail * bsize - leaveBytes;
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const fd = openSync(filler, 'w');
  try {
    while (remaining > 0) remaining -= writeSync(fd, chunk, 0, Math.min(chunk.length, remaining));
  } finally {
    closeSync(fd);
  }
  return filler;
}

async function health(url: string): Promise<{ status: number; body: { ok: boolean; reason?: string } }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: (await response.json()) as { ok: boolean; reason?: string } };
}

/** Every answer of /healthz over `ms` milliseconds, asked four times a second. */
async function pollHealth(url: string, ms: number): Promise<Awaited<ReturnType<typeof health>>[]> {
  const answers: Awaited<ReturnType<typeof health>>[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    answers.push(await health(url));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return answers;
}

/** Polls /healthz (and only it: no POS traffic) until it answers 200 or the time is up. */
async function waitUntilHealthy(url: string, maxMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    if ((await health(url)).status === 200) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the agent did not report itself healthy within ${maxMs} ms of space coming back`);
}

interface OutboxRow {
  seq: number;
  event_id: string;
  terminal_id: string;
  transaction_id: string;
  body: string;
}

function readOutbox(dataDir: string): { rows: OutboxRow[]; quickCheck: string } {
  const db = new Database(path.join(dataDir, 'outbox.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return {
      rows: db
        .prepare('SELECT seq, event_id, terminal_id, transaction_id, body FROM event_log ORDER BY seq')
        .all() as OutboxRow[],
      quickCheck: db.pragma('quick_check', { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

/** The outbox holds exactly the 201-acknowledged sales, each once, byte for byte, under seqs 1..N. */
function expectExactlyTheAcknowledged(rows: readonly OutboxRow[], acknowledged: readonly Submission[]) {
  const stored = rows.map((r) => ({
    seq: r.seq,
    eventId: r.event_id,
    key: `${r.terminal_id}/${r.transaction_id}`,
    body: r.body,
  }));
  const expected = [...acknowledged]
    .sort((a, b) => a.answer.seq! - b.answer.seq!)
    .map((s) => ({
      seq: s.answer.seq!,
      eventId: s.answer.eventId!,
      key: `${s.terminalId}/${s.transactionId}`,
      body: s.body,
    }));
  expect(stored).toEqual(expected);
  expect(stored.map((r) => r.seq)).toEqual(stored.map((_, i) => i + 1));
}

interface AgentStatusView {
  lastSeq: number;
  capture: { state: string };
  logging: { state: string; error: string | null; droppedLines: number };
  problems: { code: string; message: string }[];
}

async function status(url: string): Promise<AgentStatusView> {
  const response = await fetch(`${url}/v1/status`);
  expect(response.status).toBe(200);
  return (await response.json()) as AgentStatusView;
}

/** Polls /v1/status until `done` holds or the time is up; returns the last answer. */
async function waitForStatus(
  url: string,
  what: string,
  done: (s: AgentStatusView) => boolean,
  maxMs: number,
): Promise<AgentStatusView> {
  const until = Date.now() + maxMs;
  for (;;) {
    const answer = await status(url);
    if (done(answer)) return answer;
    if (Date.now() > until)
      throw new Error(`${what} not seen within ${maxMs} ms; status: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every line of the agent's daily log files, parsed (a line cut short by the full disk is skipped). */
function logLines(dataDir: string): { message: string; level: string }[] {
  const dir = path.join(dataDir, 'logs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { message: string; level: string }];
      } catch {
        return [];
      }
    });
}

/** Re-sent sales log about 300 bytes each: far more than a log file's last page can still take. */
const MAX_RESENT = 2000;
const LOGGING_PROBLEM = 'The log file cannot be written (disk full); sales are still being saved.';

describe('store agent when storage runs out', () => {
  it('keeps capturing through full disks, with its log files on the same disk: 503 while full, 201 after', async () => {
    const disk = mountSmallDisk('disk-full', 4 * MiB);
    const dataDir = path.join(disk, 'data');
    const agent = await spawnAgent({ dataDir, terminals: TERMINALS });
    let counter = 0;
    const nextNumber = () => ++counter;
    const acknowledged: Submission[] = [];
    const alive = () =>
      expect(agent.child.exitCode, `the agent exited; stderr:\n${agent.stderr()}`).toBeNull();

    // Trade normally for a while: these sales must come through every episode untouched.
    const before = await sellUntilUnavailable(agent.url, nextNumber, {
      tills: 4,
      maxSales: 40,
      maxMs: 10_000,
    });
    expect(before.map((s) => s.status)).toEqual(before.map(() => 201));
    acknowledged.push(...before);

    for (const [round, { leaveBytes }] of ROUNDS.entries()) {
      const filler = fillDisk(disk, leaveBytes);
      const duringFull = await sellUntilRefusedAlone(agent.url, nextNumber, 4);
      alive();
      const refused = duringFull.filter((s) => s.status === 503);
      expect(refused.length, `round ${round}: no 503 although the disk is full`).toBeGreaterThan(0);
      expect(duringFull.filter((s) => s.status !== 201 && s.status !== 503)).toEqual([]);
      for (const s of refused) {
        expect(s.answer.error).toMatch(/disk .*full/i);
        expect(Number(s.retryAfter)).toBeGreaterThan(0);
      }
      acknowledged.push(...duringFull.filter((s) => s.status === 201));

      // Tills re-send sales already stored (a lost answer, a retry): each is answered from the outbox and
      // logged, so the log file needs room the disk no longer has. Until its write fails, keep going.
      const resent: Submission[] = [];
      const stored = [...acknowledged];
      let whenLogFails = await status(agent.url);
      for (let i = 0; whenLogFails.logging.state !== 'failing' && i < MAX_RESENT; i += 1) {
        const s = stored[i % stored.length]!;
        const terminal = TERMINALS.find((t) => t.id === s.terminalId)!;
        resent.push(await submit(agent.url, terminal, s.transactionId, s.body));
        if (i % 20 === 19) whenLogFails = await status(agent.url);
      }
      whenLogFails = await status(agent.url);
      alive();
      expect(resent.filter((s) => s.status !== 200 || s.answer.duplicate !== true)).toEqual([]);
      expect(whenLogFails.logging, `round ${round}`).toMatchObject({
        state: 'failing',
        error: expect.stringMatching(/ENOSPC/) as string,
      });
      expect(whenLogFails.problems.map((p) => p.message)).toContain(LOGGING_PROBLEM);
      expect(whenLogFails.capture.state).toBe('unavailable');

      // The disk stays full: the agent's own probing must not declare it writable again. A store manager
      // told "all is well" while every till gets 503 is worse off than one told nothing.
      const whileFull = await pollHealth(agent.url, LONGER_THAN_TWO_PROBES_MS);
      expect(
        whileFull.map((a) => a.status).join(' '),
        `round ${round}: /healthz while the disk stays full`,
      ).toBe(whileFull.map(() => '503').join(' '));
      expect(whileFull[0]!.body.reason).toMatch(/disk .*full/i);
      alive();

      // Space comes back; no till submits anything. The agent must find out on its own, for the outbox
      // and for its log files.
      rmSync(filler);
      await waitUntilHealthy(agent.url, 10_000);
      const recovered = await waitForStatus(
        agent.url,
        `round ${round}: file logging resumed`,
        (s) => s.logging.state === 'ok',
        10_000,
      );
      expect(recovered.problems.map((p) => p.code)).not.toContain('log-file-unwritable');

      // The tills retry what was refused, one at a time, then sell on: each is new, with the next seq.
      for (const s of refused) {
        const terminal = TERMINALS.find((t) => t.id === s.terminalId)!;
        const retry = await submit(agent.url, terminal, s.transactionId, s.body);
        expect({ status: retry.status, seq: retry.answer.seq }).toEqual({
          status: 201,
          seq: acknowledged.length + 1,
        });
        acknowledged.push(retry);
      }
      const after = await submitSale(agent.url, TERMINALS[0]!, nextNumber());
      expect({ status: after.status, seq: after.answer.seq }).toEqual({
        status: 201,
        seq: acknowledged.length + 1,
      });
      acknowledged.push(after);
    }

    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const outbox = readOutbox(dataDir);
    expect(outbox.quickCheck).toBe('ok');
    expectExactlyTheAcknowledged(outbox.rows, acknowledged);
    // The log files say what happened: lines lost while the disk was full, and the stop, flushed.
    const messages = logLines(dataDir).map((l) => l.message);
    expect(
      messages.filter((m) => m === 'log file writable again; lines were dropped while it was not'),
    ).toHaveLength(ROUNDS.length);
    expect(messages[messages.length - 1]).toBe('agent stopped');
  }, 240_000);

  it('answers 503 at the configured outbox size cap and stays up to answer status', async () => {
    const dataDir = makeTempDir('outbox-cap');
    const agent = await spawnAgent({ dataDir, terminals: TERMINALS, config: { outbox: { maxSizeMb: 1 } } });
    let counter = 0;
    const submissions = await sellUntilRefusedAlone(agent.url, () => ++counter, 16);
    const refused = submissions.filter((s) => s.status === 503);
    const acknowledged = submissions.filter((s) => s.status === 201);
    expect(refused.length, 'the 1 MB cap was never reached').toBeGreaterThan(0);
    expect(acknowledged.length, 'a 1 MB outbox holds hundreds of sales').toBeGreaterThan(200);
    expect(submissions.filter((s) => s.status !== 201 && s.status !== 503)).toEqual([]);
    expect(refused[0]!.answer.error).toMatch(/full/i);
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThan(0);

    const response = await fetch(`${agent.url}/v1/status`);
    expect(response.status).toBe(200);
    const status = (await response.json()) as { lastSeq: number; capture: { state: string } };
    expect(status).toMatchObject({ lastSeq: acknowledged.length, capture: { state: 'unavailable' } });
    const whileCapped = await pollHealth(agent.url, LONGER_THAN_TWO_PROBES_MS);
    const whileCappedStatuses = whileCapped.map((a) => a.status).join(' ');
    expect(whileCappedStatuses, '/healthz while the outbox stays at its cap').toBe(
      whileCapped.map(() => '503').join(' '),
    );
    expect(agent.child.exitCode).toBeNull();

    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const outbox = readOutbox(dataDir);
    expect(outbox.quickCheck).toBe('ok');
    expectExactlyTheAcknowledged(outbox.rows, acknowledged);
  }, 120_000);
});
