/**
 * The desktop app's main process: hosts the store agent (in a utility process), owns the status window,
 * the tray, start at login and updates. Thin: every rule it follows lives in a module of its own.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, utilityProcess, type BrowserWindow } from 'electron';
import {
  WINDOW_IPC,
  type UpdateState,
  type WindowLinkState,
  type WindowMessage,
  type WindowSnapshot,
} from '../contracts/window-api.js';
import { errorMessage } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { UtilityAgentHost } from './agent-host.js';
import { AGENT_CONFIG_ARG } from './agent-link-messages.js';
import { registerAppScheme, serveAppFiles } from './app-protocol.js';
import {
  desktopConfigPath,
  loadDesktopConfig,
  updaterChannel,
  type DesktopConfig,
} from './desktop-config.js';
import { electronUpdaterPort } from './electron-updater-port.js';
import { applyStartAtLogin, HIDDEN_ARG } from './login-item.js';
import { QuitFlow, routeQuitThroughFlow } from './quit-flow.js';
import { shellText } from './shell-text.js';
import { claimSingleInstance } from './single-instance.js';
import { createStatusWindow, showStatusWindow } from './status-window.js';
import { StatusTray } from './tray.js';
import { trayStateOf } from './tray-state.js';
import { UpdateController } from './update-controller.js';
import { registerWindowIpc } from './window-ipc.js';
import { hardenApp } from './window-security.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RENDERER_DIR = path.join(here, '..', 'renderer');
const PRELOAD = path.join(here, 'preload.cjs');
const AGENT_PROCESS = path.join(here, 'agent-process.js');

let statusWindow: BrowserWindow | null = null;

async function run(config: DesktopConfig, logger: Logger): Promise<void> {
  serveAppFiles(RENDERER_DIR);
  try {
    applyStartAtLogin(config.startAtLogin, {
      platform: process.platform,
      home: os.homedir(),
      executable: process.env.APPIMAGE ?? process.execPath,
    });
  } catch (error) {
    logger.warn('could not set start at login', { error: errorMessage(error) });
  }

  const agent = new UtilityAgentHost({
    fork: () =>
      utilityProcess.fork(AGENT_PROCESS, [AGENT_CONFIG_ARG, config.agentConfig], {
        serviceName: 'Outpost store agent',
        stdio: 'ignore',
      }),
    logger,
  });

  let snapshot: WindowSnapshot | null = null;
  let link: WindowLinkState = 'lost';
  let updateState: UpdateState = { state: 'disabled', reason: app.isPackaged ? 'no-feed' : 'not-packaged' };
  const withUpdate = (s: WindowSnapshot): WindowSnapshot => ({
    ...s,
    app: { ...s.app, update: updateState },
  });
  const send = (channel: string, payload: WindowMessage | WindowLinkState) => {
    if (statusWindow && !statusWindow.isDestroyed()) statusWindow.webContents.send(channel, payload);
  };

  let updates: UpdateController | null = null;
  const quitFlow = new QuitFlow({
    agent,
    confirmUnsent: async (unsent) => {
      const words = shellText.quitDialog;
      const answer = await dialog.showMessageBox({
        type: 'warning',
        title: words.title,
        message: words.message(unsent),
        detail: words.detail,
        buttons: [words.keep, words.quit],
        defaultId: 0,
        cancelId: 0,
        noLink: true,
      });
      return answer.response === 1;
    },
    installerFor: (stopped, reason) => updates?.installerFor(stopped, reason) ?? null,
    exit: (code) => app.exit(code),
    logger,
  });
  routeQuitThroughFlow(quitFlow);

  statusWindow = createStatusWindow({
    preload: PRELOAD,
    devTools: !app.isPackaged,
    quitting: () => quitFlow.quitting,
    logger,
  });
  const window = statusWindow;
  if (!process.argv.includes(HIDDEN_ARG)) window.once('ready-to-show', () => window.show());

  registerWindowIpc(
    {
      snapshot: async () => withUpdate(await agent.snapshot()),
      retry: (eventId) => agent.retryDeadLetter(eventId),
      discard: (eventId, note) => agent.discardDeadLetter(eventId, note),
    },
    () => statusWindow?.webContents ?? null,
    logger,
  );

  const confirmInstall = async () => {
    const version = updates?.ready;
    if (!updates || !version) return;
    const readiness = await agent.readiness();
    const words = shellText.installDialog;
    const unsent = readiness?.unsentCount ?? 0;
    const answer = await dialog.showMessageBox({
      type: 'question',
      title: words.title,
      message: words.message(version),
      detail: [unsent > 0 ? words.unsent(unsent) : '', words.detail].filter(Boolean).join('\n\n'),
      buttons: [words.later, words.install],
      defaultId: 0,
      cancelId: 0,
      noLink: true,
    });
    // The manager saw the unsent count and chose to install: that is the force the rules allow.
    if (answer.response === 1) await updates.tryInstall('manual', true);
  };

  const tray = new StatusTray({
    open: () => showStatusWindow(window),
    checkForUpdates: () => void updates?.check(),
    installUpdate: () => void confirmInstall(),
    quit: () => void quitFlow.requestQuit(),
  });

  agent.onSnapshot((next) => {
    snapshot = next;
    send(WINDOW_IPC.message, { type: 'snapshot', snapshot: withUpdate(next) });
    tray.setState(trayStateOf(snapshot, link));
  });
  agent.onLink((state) => {
    link = state;
    send(WINDOW_IPC.link, state);
    tray.setState(trayStateOf(snapshot, link));
  });

  const feedUrl = config.updates.feedUrl;
  if (app.isPackaged && feedUrl) {
    updates = new UpdateController({
      updater: electronUpdaterPort(logger),
      config: { ...config.updates, feedUrl },
      updaterChannel: updaterChannel(config.updates.channel),
      agent,
      quitForUpdate: () => quitFlow.quit('update'),
      onState: (state) => {
        updateState = state;
        send(WINDOW_IPC.message, { type: 'update', update: state });
        tray.setUpdateReady(updates?.ready ?? null);
      },
      logger,
    });
    updateState = updates.current;
    updates.start();
  }

  try {
    await agent.start();
  } catch (error) {
    // The host keeps trying with backoff; the window and tray show the agent as not running meanwhile.
    logger.error('agent did not start; retrying', { error: errorMessage(error) });
  }
}

function main(): void {
  registerAppScheme();
  if (!claimSingleInstance(() => statusWindow && showStatusWindow(statusWindow))) return;
  const logger = createLogger({
    dir: app.getPath('logs'),
    name: 'desktop',
    level: 'info',
    console: !app.isPackaged,
  });
  hardenApp(logger);
  app.on('window-all-closed', () => {
    // The tray and the agent stay: closing the window is not quitting.
  });
  void app.whenReady().then(async () => {
    let config: DesktopConfig;
    const file = desktopConfigPath(process.argv, process.env, process.platform);
    try {
      config = loadDesktopConfig(file);
    } catch (error) {
      dialog.showErrorBox(
        shellText.startFailed.title,
        `${errorMessage(error)}\n\n${shellText.startFailed.detail}`,
      );
      app.exit(2);
      return;
    }
    logger.info('desktop app starting', { config: file, agentConfig: config.agentConfig });
    await run(config, logger);
  });
}

main();
