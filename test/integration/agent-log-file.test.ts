import { closeSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeLogger, createLogger, logFileHealth } from '../../src/lib/logger.js';
import { mountSmallDisk } from '../support/temp-dir.js';

/**
 * The agent's daily log files on a disk that fills up. winston-daily-rotate-file emits its write errors
 * with no one listening, which ends the process: here a full disk must only pause file logging, be
 * reported, and end by itself when there is room again.
 */

function fill(dir: string): string {
  const filler = path.join(dir, 'filler.bin');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: the disk is full
  } finally {
    closeSync(fd);
  }
  expect(statfsSync(dir).bavail).toBe(0);
  return filler;
}

function lines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter(Boolean);
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('log files on a disk that fills', () => {
  it('pause while the disk is full, say so, and resume by themselves on a line of their own', async () => {
    const disk = mountSmallDisk('log-file', 1024 * 1024);
    const dir = path.join(disk, 'logs');
    const logger = createLogger({ dir, name: 'agent', level: 'info', console: false, fileProbeEveryMs: 50 });
    logger.info('before');
    await until('the first line is written', () => lines(dir).length === 1);
    expect(logFileHealth(logger)).toEqual({ state: 'ok', dir });

    const filler = fill(disk);
    // Enough lines to need pages the disk no longer has; none of them may end the process.
    for (let i = 0; i < 200; i += 1) logger.info('while full', { i, pad: 'x'.repeat(200) });
    await until('the failure is noticed', () => logFileHealth(logger)?.state === 'failing');
    for (let i = 0; i < 10; i += 1) logger.info('dropped', { i });
    const failing = logFileHealth(logger);
    expect(failing).toMatchObject({ state: 'failing', dir, reason: 'disk-full' });
    expect(failing?.state === 'failing' && failing.error).toMatch(/ENOSPC/);
    expect(failing?.state === 'failing' && failing.droppedLines).toBeGreaterThanOrEqual(10);

    rmSync(filler);
    await until('file logging resumes', () => logFileHealth(logger)?.state === 'ok');
    logger.info('after');
    await closeLogger(logger);

    const written = lines(dir);
    // Every line but one cut short by the full disk is whole JSON; the recovery note starts a line.
    const parsed = written.flatMap((line) => {
      try {
        return [JSON.parse(line) as { message: string; droppedLines?: number }];
      } catch {
        return [];
      }
    });
    expect(written.length - parsed.length).toBeLessThanOrEqual(1);
    const messages = parsed.map((l) => l.message);
    expect(messages[0]).toBe('before');
    expect(messages).not.toContain('dropped');
    expect(messages.slice(-2)).toEqual([
      'log file writable again; lines were dropped while it was not',
      'after',
    ]);
    expect(parsed.at(-2)?.droppedLines).toBeGreaterThanOrEqual(10);
  });

  it('come back in a log directory that was removed to make room', async () => {
    const disk = mountSmallDisk('log-dir', 1024 * 1024);
    const dir = path.join(disk, 'logs');
    const logger = createLogger({ dir, name: 'agent', level: 'info', console: false, fileProbeEveryMs: 50 });
    logger.info('before');
    await until('the first line is written', () => lines(dir).length === 1);
    const filler = fill(disk);
    for (let i = 0; i < 200; i += 1) logger.info('while full', { i, pad: 'x'.repeat(200) });
    await until('the failure is noticed', () => logFileHealth(logger)?.state === 'failing');
    rmSync(filler);
    rmSync(dir, { recursive: true });
    await until('file logging resumes', () => logFileHealth(logger)?.state === 'ok');
    logger.info('after');
    await closeLogger(logger);
    expect(lines(dir).map((l) => (JSON.parse(l) as { message: string }).message)).toEqual([
      'log file writable again; lines were dropped while it was not',
      'after',
    ]);
  });
});
