/**
 * Keeps a long-running part alive until SIGINT or SIGTERM, then stops it gracefully (in-flight
 * commits finish, databases close). A second signal during shutdown exits at once.
 */
export function runUntilSignal(
  stop: () => Promise<void>,
  onStopped: () => Promise<void> = async () => {},
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`outpost: ${signal} received, shutting down\n`);
    stop()
      .then(onStopped)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`outpost: shutdown failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
