/**
 * Every word the desktop shell itself shows (tray, dialogs), in one place so it can be translated like the
 * window's own text (src/renderer/text.ts).
 */
const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export const shellText = {
  appName: 'Outpost',
  tray: {
    tooltip: {
      ok: 'Outpost: connected to head office',
      attention: 'Outpost: needs a look (offline or sales waiting)',
      problem: 'Outpost: something is wrong, open the window',
      unknown: 'Outpost: starting or not running',
    },
    open: 'Open Outpost',
    checkForUpdates: 'Check for updates',
    installUpdate: (version: string) => `Install update ${version} now…`,
    quit: 'Quit Outpost',
  },
  quitDialog: {
    title: 'Quit Outpost?',
    message: (unsent: number) =>
      `${unsent} ${plural(unsent, 'sale has', 'sales have')} not reached head office yet.`,
    detail:
      'They are safe on this PC and will be sent when Outpost runs again. While Outpost is closed, the tills cannot save new sales.',
    quit: 'Quit anyway',
    keep: 'Keep Outpost running',
  },
  installDialog: {
    title: 'Install the update now?',
    message: (version: string) => `Outpost ${version} is ready to install.`,
    unsent: (unsent: number) =>
      `${unsent} ${plural(unsent, 'sale has', 'sales have')} not reached head office yet. They stay safe on this PC and are sent after the update.`,
    detail: 'Outpost closes for about a minute; the tills cannot save sales while it restarts.',
    install: 'Install now',
    later: 'Later',
  },
  startFailed: {
    title: 'Outpost cannot start',
    detail: 'Call support with this message.',
  },
} as const;
