/**
 * The line protocol between the sync bench (parent) and a process under test (child) that must load
 * first and start only when told: a child takes a second or so to load TypeScript, and that must not
 * count as drain time. The child prints one JSON message per line on stdout; the parent writes one
 * command per line on stdin. Closing stdin stops the child, so a bench that dies leaves nothing behind.
 */
export type StagedCommand = 'go' | 'sample' | 'endprofile' | 'stop';

/**
 * Set in a child's environment, a file path: the child runs the V8 CPU profiler from `go` until
 * `endprofile` and writes the profile there (module loading and the bench's own checks stay out of it).
 */
export const PROFILE_ENV = 'OUTPOST_BENCH_PROFILE';

/** Flat figures a child reports about its own work (times in ms, counts). */
export type Figures = Record<string, number>;

/** What the child process did since `go` (or since the previous sample). */
export interface StagedSample {
  elapsedMs: number;
  /** CPU time of the child process (all its threads), milliseconds. */
  cpuMs: number;
  /** Fraction of the interval its event loop was busy (0..1). */
  eventLoopUtilization: number;
  figures: Figures;
}

export type StagedMessage =
  | { type: 'loaded'; pid: number }
  | { type: 'ready'; url: string; info: Figures }
  | { type: 'mark'; name: string; info: Figures }
  | { type: 'sample'; sample: StagedSample }
  | { type: 'profiled'; file: string | null }
  | { type: 'stopped'; info: Record<string, number | string> }
  | { type: 'error'; message: string };
