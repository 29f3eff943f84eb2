/**
 * Keeps a long-running part alive until SIGINT or SIGTERM, then stops it gracefully (in-flight
 * commits finish, databases close, logs are flushed). A second signal during shutdown exits at once.
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
    // Once the server has closed, parts that unref their handles (worker threads, timers) could leave
    // the event loop empty and end the process halfway through the shutdown, before the outbox closes
    // and the "stopped" line reaches the log. Hold it open until the shutdown has finished.
    const keepAlive = setInterval(() => {}, 60_000);
    stop()
      .then(onStopped)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`outpost: shutdown failed: ${String(error)}\n`);
          process.exit(1);
        },
      )
      .finally(() => clearInterval(keepAlive));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
