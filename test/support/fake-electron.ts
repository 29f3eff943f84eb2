import { vi } from 'vitest';

/**
 * A stand-in for the `electron` module, for unit tests of the desktop shell (Electron's binary is never
 * needed). Use it with `vi.mock('electron', () => import('../support/fake-electron.js'))`: each test file
 * gets its own instance. It records what the shell asked for and lets a test fire the events Electron
 * would (navigation, IPC from a given sender, before-quit, a second instance).
 */

type Listener = (...args: never[]) => unknown;

export class FakeEmitter {
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped = ((...args: never[]) => {
      this.removeListener(event, wrapped);
      return listener(...args);
    }) as Listener;
    return this.on(event, wrapped);
  }

  removeListener(event: string, listener: Listener): this {
    this.listeners.set(
      event,
      (this.listeners.get(event) ?? []).filter((l) => l !== listener),
    );
    return this;
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit(event: string, ...args: unknown[]): boolean {
    const listeners = this.listeners.get(event) ?? [];
    for (const listener of listeners) (listener as (...a: unknown[]) => unknown)(...args);
    return listeners.length > 0;
  }
}

/** An Electron event: records preventDefault. */
export function fakeEvent<T extends object>(
  extra?: T,
): { defaultPrevented: boolean; preventDefault(): void } & T {
  const event = {
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
    ...extra,
  };
  return event as { defaultPrevented: boolean; preventDefault(): void } & T;
}

let nextId = 1;

export class FakeWebFrame {
  constructor(public url: string) {}
}

export class FakeWebContents extends FakeEmitter {
  readonly id = nextId++;
  mainFrame = new FakeWebFrame('outpost://app/index.html');
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  destroyed = false;
  readonly send = vi.fn();
  setWindowOpenHandler = vi.fn((handler: (details: { url: string }) => { action: string }) => {
    this.windowOpenHandler = handler;
  });
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class BrowserWindow extends FakeEmitter {
  static readonly created: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  readonly loadURL = vi.fn(async (_url: string) => {});
  readonly removeMenu = vi.fn();
  readonly hide = vi.fn(() => {
    this.visible = false;
  });
  readonly show = vi.fn(() => {
    this.visible = true;
  });
  readonly focus = vi.fn();
  readonly restore = vi.fn();

  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.created.push(this);
  }

  isMinimized(): boolean {
    return false;
  }

  isDestroyed(): boolean {
    return false;
  }

  /** What Electron does when the user closes the window: a 'close' event that may be prevented. */
  userCloses(): { defaultPrevented: boolean } {
    const event = fakeEvent();
    this.emit('close', event);
    return event;
  }
}

type InvokeHandler = (event: unknown, ...args: unknown[]) => unknown;

class FakeIpcMain extends FakeEmitter {
  readonly handlers = new Map<string, InvokeHandler>();
  readonly handle = vi.fn((channel: string, handler: InvokeHandler) => {
    if (this.handlers.has(channel))
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  });
  readonly removeHandler = vi.fn((channel: string) => {
    this.handlers.delete(channel);
  });

  /** What Electron does when a renderer invokes `channel`: no handler, the invoke is refused. */
  async invoke(channel: string, event: unknown, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, ...args);
  }
}

export const ipcMain = new FakeIpcMain();

class FakeApp extends FakeEmitter {
  isPackaged = true;
  lockGranted = true;
  readonly requestSingleInstanceLock = vi.fn(() => this.lockGranted);
  readonly quit = vi.fn();
  readonly exit = vi.fn();
  readonly enableSandbox = vi.fn();
  readonly setLoginItemSettings = vi.fn();
  readonly whenReady = vi.fn(() => Promise.resolve());
  readonly getPath = vi.fn(() => '/tmp');
}

export const app = new FakeApp();

export class FakeSession {
  permissionRequestHandler:
    ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
  permissionCheckHandler: ((...args: unknown[]) => boolean) | undefined;
  devicePermissionHandler: ((...args: unknown[]) => boolean) | undefined;
  beforeRequest:
    ((details: { url: string }, callback: (response: { cancel: boolean }) => void) => void) | undefined;
  setPermissionRequestHandler = vi.fn((handler: FakeSession['permissionRequestHandler']) => {
    this.permissionRequestHandler = handler;
  });
  setPermissionCheckHandler = vi.fn((handler: FakeSession['permissionCheckHandler']) => {
    this.permissionCheckHandler = handler;
  });
  setDevicePermissionHandler = vi.fn((handler: FakeSession['devicePermissionHandler']) => {
    this.devicePermissionHandler = handler;
  });
  webRequest = {
    onBeforeRequest: vi.fn((handler: FakeSession['beforeRequest']) => {
      this.beforeRequest = handler;
    }),
  };
}

export const session = { defaultSession: new FakeSession() };

export const protocol = {
  registerSchemesAsPrivileged: vi.fn(),
  handle: vi.fn(),
};

export const dialog = {
  showMessageBox: vi.fn(async () => ({ response: 0, checkboxChecked: false })),
  showErrorBox: vi.fn(),
};

export class Tray extends FakeEmitter {
  readonly setImage = vi.fn();
  readonly setToolTip = vi.fn();
  readonly setContextMenu = vi.fn();
  readonly destroy = vi.fn();
  constructor(readonly image: unknown) {
    super();
  }
}

export const Menu = { buildFromTemplate: vi.fn((template: unknown[]) => ({ template })) };

export const nativeImage = {
  createEmpty: () => {
    const representations: unknown[] = [];
    return { representations, addRepresentation: (r: unknown) => representations.push(r) };
  },
};

export const utilityProcess = { fork: vi.fn() };

export const contextBridge = { exposeInMainWorld: vi.fn() };
export const ipcRenderer = new FakeEmitter();

export default {
  app,
  BrowserWindow,
  ipcMain,
  session,
  protocol,
  dialog,
  Tray,
  Menu,
  nativeImage,
  utilityProcess,
  contextBridge,
  ipcRenderer,
};
