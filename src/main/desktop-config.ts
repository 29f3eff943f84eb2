import path from 'node:path';
import { z } from 'zod';
import { loadConfigFile } from '../lib/config-file.js';

const bool = z.stringbool().or(z.boolean());
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The desktop app's own settings (`desktop.json`, written by store IT beside the agent's `agent.json`):
 * which agent config to host, start at login, and where and when to take updates. Environment variables
 * override fields as for the agent: OUTPOST_UPDATES__CHANNEL=pilot.
 */
export const desktopConfigSchema = z.strictObject({
  /** The store agent's config file; relative paths are read from the folder holding desktop.json. */
  agentConfig: z.string().min(1, { error: 'must be the path of the agent config (agent.json)' }),
  startAtLogin: bool.default(true),
  updates: z
    .strictObject({
      /**
       * The generic feed head office publishes to (the folder holding latest.yml / pilot.yml). Without it
       * the app never updates itself (store IT deploys each version).
       */
      feedUrl: z
        .url({ protocol: /^https?$/, error: 'must be an https:// URL' })
        .refine((url) => url.startsWith('https://') || LOOPBACK.has(new URL(url).hostname), {
          error: 'must be an https:// URL (plain http only on this PC, for testing)',
        })
        .optional(),
      /** `pilot` stores take a version first; `stable` ones once head office promotes it. */
      channel: z.enum(['stable', 'pilot']).default('stable'),
      checkEveryHours: z.coerce.number().min(1).max(24).default(4),
      /** Local time (HH:MM, 24-hour) at which a ready update installs unattended. */
      quietHour: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a time of day such as "03:00"' })
        .default('03:00'),
      quietWindowMinutes: z.coerce.number().int().min(5).max(240).default(60),
      /** Install at the quiet hour even with sales not yet at head office (they stay safe on disk). */
      installWithUnsentSales: bool.default(false),
    })
    .default({
      channel: 'stable',
      checkEveryHours: 4,
      quietHour: '03:00',
      quietWindowMinutes: 60,
      installWithUnsentSales: false,
    }),
});

export type DesktopConfig = z.infer<typeof desktopConfigSchema>;
export type UpdatesConfig = DesktopConfig['updates'];

/**
 * Where desktop.json is: `--config <file>` on the command line, else OUTPOST_DESKTOP_CONFIG, else the
 * machine-wide place (the app is installed per machine, and IT configures it per machine).
 */
export function desktopConfigPath(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): string {
  const at = argv.indexOf('--config');
  if (at !== -1 && argv[at + 1]) return path.resolve(argv[at + 1]!);
  const inline = argv.find((a) => a.startsWith('--config='));
  if (inline) return path.resolve(inline.slice('--config='.length));
  if (env.OUTPOST_DESKTOP_CONFIG) return path.resolve(env.OUTPOST_DESKTOP_CONFIG);
  return platform === 'win32'
    ? path.win32.join(env.ProgramData ?? 'C:\\ProgramData', 'Outpost', 'desktop.json')
    : '/etc/outpost/desktop.json';
}

/** Reads and validates desktop.json; a mistake is a ConfigError naming the field. */
export function loadDesktopConfig(file: string, env: NodeJS.ProcessEnv = process.env): DesktopConfig {
  const config = loadConfigFile(desktopConfigSchema, file, env);
  return { ...config, agentConfig: path.resolve(path.dirname(file), config.agentConfig) };
}

/** electron-updater's channel name: stable stores read latest.yml, pilot stores pilot.yml. */
export const updaterChannel = (channel: UpdatesConfig['channel']): string =>
  channel === 'stable' ? 'latest' : 'pilot';
