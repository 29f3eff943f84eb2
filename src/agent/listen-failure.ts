import { ConfigError } from '../lib/errors.js';

/**
 * Why the capture API could not bind, as a message naming the setting and what to do. A taken port is a
 * configuration problem, not a crash: as a service, the agent would otherwise restart in a loop without
 * a word. Undefined for anything that is not about the address.
 */
export function describeListenFailure(
  error: unknown,
  api: { host: string; port: number },
  fieldName: (path: string) => string = (field) => field,
): ConfigError | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const port = fieldName('api.port');
  const host = fieldName('api.host');
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError(
        `${port} ${api.port} is in use on ${api.host}: another program (perhaps another Outpost agent) ` +
          `listens there. Stop it, or set ${port} to a free port.`,
      );
    case 'EACCES':
      return new ConfigError(
        `${port} ${api.port} on ${api.host} needs administrator rights (ports below 1024): ` +
          `set ${port} to 1024 or above, e.g. 8787.`,
      );
    case 'EADDRNOTAVAIL':
      return new ConfigError(
        `${host} ${api.host} is not an address of this PC: use 0.0.0.0 (every address), 127.0.0.1 ` +
          "(this PC only) or this PC's address on the store LAN.",
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new ConfigError(
        `${host} ${api.host} cannot be resolved to an address of this PC: use an IP address such as 0.0.0.0.`,
      );
    default:
      return undefined;
  }
}
