/**
 * The status window's preload: exposes the narrow window API as `window.outpost` and nothing else (no
 * ipcRenderer, no Node). It runs sandboxed, where only `electron` can be required, so the channel names
 * are repeated here; the type below holds them equal to the contract's.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a sandboxed preload is CommonJS
import electron = require('electron');
import type { IpcRendererEvent } from 'electron';
import type { WINDOW_IPC, WindowBridge, WindowLinkState } from '../contracts/window-api.js';

const { contextBridge, ipcRenderer } = electron;

const IPC = {
  snapshot: 'outpost:window:snapshot',
  retry: 'outpost:window:retry',
  discard: 'outpost:window:discard',
  message: 'outpost:window:message',
  link: 'outpost:window:link',
} as const satisfies typeof WINDOW_IPC;

const bridge: WindowBridge = {
  snapshot: () => ipcRenderer.invoke(IPC.snapshot),
  subscribe(onMessage, onLink) {
    // The page gets the message only, never the IPC event (which would hand it the sender).
    const message = (_event: IpcRendererEvent, payload: unknown) => onMessage(payload);
    const link = (_event: IpcRendererEvent, state: unknown) =>
      onLink((state === 'lost' ? 'lost' : 'open') satisfies WindowLinkState);
    ipcRenderer.on(IPC.message, message);
    ipcRenderer.on(IPC.link, link);
    return () => {
      ipcRenderer.removeListener(IPC.message, message);
      ipcRenderer.removeListener(IPC.link, link);
    };
  },
  retryDeadLetter: (eventId) => ipcRenderer.invoke(IPC.retry, String(eventId)),
  discardDeadLetter: (eventId, note) => ipcRenderer.invoke(IPC.discard, String(eventId), String(note)),
};

contextBridge.exposeInMainWorld('outpost', bridge);
