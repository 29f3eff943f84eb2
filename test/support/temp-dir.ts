import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Temporary directories for one test file, removed after its last test (afterAll runs after every
 * afterEach, so processes spawned with spawn-agent.ts are already dead by then). Small tmpfs mounts
 * stand in for a disk that fills up; they are unmounted before their directory is removed.
 */
const created: string[] = [];
const mounted: string[] = [];

export function makeTempDir(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `outpost-${label}-`));
  created.push(dir);
  return dir;
}

/**
 * Mounts a tmpfs of `sizeBytes` on a fresh temp directory: a disk that really fills up, with ENOSPC
 * from the kernel. Needs root (CAP_SYS_ADMIN); a failure throws with the reason, so a test that needs a
 * full disk fails loudly instead of passing without having filled anything.
 */
export function mountSmallDisk(label: string, sizeBytes: number): string {
  const dir = makeTempDir(label);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `cannot mount a ${sizeBytes}-byte tmpfs on ${dir} (this test needs root to simulate a full disk): ` +
        (stderr || String(error)),
    );
  }
  mounted.push(dir);
  return dir;
}

/** Remounts a small disk of mountSmallDisk read-only: even root cannot write there (EROFS). */
export function makeDiskReadOnly(dir: string): void {
  if (!mounted.includes(dir)) throw new Error(`${dir} is not a disk mounted by mountSmallDisk`);
  execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' });
}

export function unmountSmallDisk(dir: string): void {
  const at = mounted.indexOf(dir);
  if (at === -1) return;
  // Lazy unmount: a process killed a moment ago may still be releasing its files.
  execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
  mounted.splice(at, 1);
}

export function removeTempDirs(): void {
  for (const dir of [...mounted]) unmountSmallDisk(dir);
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

afterAll(removeTempDirs);
