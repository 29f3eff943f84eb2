import { readFileSync } from 'node:fs';
import { createContext, Script } from 'node:vm';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import {
  WINDOW_IPC,
  type DeadLetterActionOutcome,
  type WindowBridge,
} from '../../src/contracts/window-api.js';
import { silentLogger } from '../../src/lib/logger.js';
import { FakeEmitter, FakeWebContents, FakeWebFrame, ipcMain } from '../support/fake-electron.js';

vi.mock('electron', () => import('../support/fake-electron.js'));

const { registerWindowIpc } = await import('../../src/main/window-ipc.js');

const ok = (state: 'retried' | 'discarded'): DeadLetterActionOutcome => ({
  ok: true,
  result: { eventId: 'E1', state },
});

function setUp() {
  const window = new FakeWebContents();
  const handlers = {
    snapshot: vi.fn(async () => ({ fake: 'snapshot' }) as never),
    retry: vi.fn(async () => ok('retried')),
    discard: vi.fn(async () => ok('discarded')),
  };
  const unregister = registerWindowIpc(handlers, () => window as never, silentLogger());
  const from = (sender: FakeWebContents, frame = sender.mainFrame) => ({ sender, senderFrame: frame });
  return { window, handlers, unregister, from };
}

describe('IPC between the window and the main process', () => {
  it('answers the window on exactly its three channels, and listens on no other', async () => {
    const { window, handlers, unregister, from } = setUp();
    try {
      expect([...ipcMain.handlers.keys()].sort()).toEqual(
        [WINDOW_IPC.discard, WINDOW_IPC.retry, WINDOW_IPC.snapshot].sort(),
      );
      expect(ipcMain.listenerCount(WINDOW_IPC.message)).toBe(0);
      await expect(ipcMain.invoke(WINDOW_IPC.snapshot, from(window))).resolves.toEqual({ fake: 'snapshot' });
      await expect(ipcMain.invoke(WINDOW_IPC.retry, from(window), '01JEVENT')).resolves.toEqual(
        ok('retried'),
      );
      expect(handlers.retry).toHaveBeenCalledWith('01JEVENT');
      await expect(
        ipcMain.invoke(WINDOW_IPC.discard, from(window), '01JEVENT', 'wrong price, re-rung'),
      ).resolves.toEqual(ok('discarded'));
      expect(handlers.discard).toHaveBeenCalledWith('01JEVENT', 'wrong price, re-rung');
      // Any other channel a page might try has no handler: Electron refuses the invoke.
      for (const channel of ['outpost:window:shell', 'outpost:agent:stop', 'ELECTRON_BROWSER_REQUIRE'])
        await expect(ipcMain.invoke(channel, from(window))).rejects.toThrow(/No handler registered/);
    } finally {
      unregister();
    }
    expect(ipcMain.handlers.size).toBe(0);
  });

  it("refuses senders that are not the status window's own main frame showing the app", async () => {
    const { window, handlers, unregister, from } = setUp();
    try {
      const stranger = new FakeWebContents();
      const subframe = new FakeWebFrame('outpost://app/index.html');
      const wandered = new FakeWebContents();
      wandered.mainFrame = new FakeWebFrame('https://evil.example/');
      const refusedSenders = [
        from(stranger), // another window, even one showing the app
        from(window, subframe), // an iframe inside the window
        { sender: window, senderFrame: null }, // a frame already gone
      ];
      for (const event of refusedSenders) {
        for (const channel of [WINDOW_IPC.snapshot, WINDOW_IPC.retry, WINDOW_IPC.discard])
          await expect(ipcMain.invoke(channel, event, '01JEVENT', 'some note')).rejects.toThrow(
            /unknown sender/,
          );
      }
      // The window itself, if it ever showed something other than the app.
      window.mainFrame.url = 'https://evil.example/';
      await expect(ipcMain.invoke(WINDOW_IPC.retry, from(window), '01JEVENT')).rejects.toThrow(
        /unknown sender/,
      );
      window.mainFrame.url = 'outpost://app/index.html';
      window.destroyed = true;
      await expect(ipcMain.invoke(WINDOW_IPC.snapshot, from(window))).rejects.toThrow(/unknown sender/);
      expect(handlers.snapshot).not.toHaveBeenCalled();
      expect(handlers.retry).not.toHaveBeenCalled();
      expect(handlers.discard).not.toHaveBeenCalled();
    } finally {
      unregister();
    }
  });

  it('checks the arguments before acting: a bad eventId or an empty note changes nothing', async () => {
    const { window, handlers, unregister, from } = setUp();
    try {
      for (const bad of [undefined, 42, '', '../../etc', 'x'.repeat(65), { eventId: 'E1' }])
        await expect(ipcMain.invoke(WINDOW_IPC.retry, from(window), bad)).resolves.toMatchObject({
          ok: false,
          refusal: 'invalid',
        });
      for (const note of [undefined, '', '  ', 'ok', 'x'.repeat(501), 7])
        await expect(
          ipcMain.invoke(WINDOW_IPC.discard, from(window), '01JEVENT', note),
        ).resolves.toMatchObject({
          ok: false,
          refusal: 'invalid',
        });
      expect(handlers.retry).not.toHaveBeenCalled();
      expect(handlers.discard).not.toHaveBeenCalled();
    } finally {
      unregister();
    }
  });
});

/**
 * The preload as Electron runs it in a sandboxed renderer: compiled to CommonJS, wrapped with the
 * sandbox's arguments, and given a `require` that knows only `electron`.
 */
function runPreload() {
  const source = readFileSync(new URL('../../src/main/preload.cts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const exposed = new Map<string, unknown>();
  const ipcRenderer = Object.assign(new FakeEmitter(), {
    invoke: vi.fn(async (..._args: unknown[]) => 'answer'),
  });
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer,
  };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name === 'electron') return electron;
    throw new Error(`module not found: ${name} (a sandboxed preload can only require electron)`);
  };
  const wrapped = new Script(
    `(function (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {\n${outputText}\n})`,
  ).runInContext(createContext({})) as (...args: unknown[]) => void;
  const module = { exports: {} };
  wrapped(sandboxRequire, {}, undefined, {}, undefined, undefined, module.exports, module);
  return { exposed, ipcRenderer, required };
}

describe('the preload', () => {
  it('runs in the sandbox, requiring nothing but electron', () => {
    expect(runPreload().required).toEqual(['electron']);
  });

  it('exposes only the narrow window API, as window.outpost', () => {
    const { exposed } = runPreload();
    expect([...exposed.keys()]).toEqual(['outpost']);
    const bridge = exposed.get('outpost') as Record<string, unknown>;
    expect(Object.keys(bridge).sort()).toEqual([
      'discardDeadLetter',
      'retryDeadLetter',
      'snapshot',
      'subscribe',
    ]);
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });

  it('sends each call on its own channel, with its arguments as strings, and nothing else', async () => {
    const { exposed, ipcRenderer } = runPreload();
    const bridge = exposed.get('outpost') as WindowBridge;
    await bridge.snapshot();
    await bridge.retryDeadLetter('01JEVENT');
    await bridge.discardDeadLetter('01JEVENT', 'rung twice');
    expect(ipcRenderer.invoke.mock.calls).toEqual([
      [WINDOW_IPC.snapshot],
      [WINDOW_IPC.retry, '01JEVENT'],
      [WINDOW_IPC.discard, '01JEVENT', 'rung twice'],
    ]);
  });

  it('hands the page the message only, never the IPC event, and unsubscribes cleanly', () => {
    const { exposed, ipcRenderer } = runPreload();
    const bridge = exposed.get('outpost') as WindowBridge;
    const messages: unknown[][] = [];
    const links: unknown[][] = [];
    const unsubscribe = bridge.subscribe(
      (...args) => messages.push(args),
      (...args) => links.push(args),
    );
    const ipcEvent = { sender: 'the-ipc-renderer', ports: [] };
    ipcRenderer.emit(WINDOW_IPC.message, ipcEvent, { type: 'update', update: { state: 'not-applicable' } });
    ipcRenderer.emit(WINDOW_IPC.link, ipcEvent, 'lost');
    ipcRenderer.emit(WINDOW_IPC.link, ipcEvent, 'something-else');
    expect(messages).toEqual([[{ type: 'update', update: { state: 'not-applicable' } }]]);
    expect(links).toEqual([['lost'], ['open']]);
    unsubscribe();
    expect(ipcRenderer.listenerCount(WINDOW_IPC.message)).toBe(0);
    expect(ipcRenderer.listenerCount(WINDOW_IPC.link)).toBe(0);
  });
});
