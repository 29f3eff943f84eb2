import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import {
  deadLetterIdSchema,
  discardRequestSchema,
  WINDOW_IPC,
  type DeadLetterActionOutcome,
  type WindowSnapshot,
} from '../contracts/window-api.js';
import type { Logger } from '../lib/logger.js';
import { isAppUrl } from './app-protocol.js';

/** What the window may ask of the main process; nothing else is answered. */
export interface WindowIpcHandlers {
  snapshot(): Promise<WindowSnapshot>;
  retry(eventId: string): Promise<DeadLetterActionOutcome>;
  discard(eventId: string, note: string): Promise<DeadLetterActionOutcome>;
}

/**
 * A sender is trusted only if it is the status window's own web contents, from its main frame (never a
 * subframe), showing one of the app's own pages. Anything else (another window, a page that navigated
 * somewhere despite the guards, an injected frame) is refused.
 */
export function isTrustedSender(event: IpcMainInvokeEvent, statusWindow: WebContents | null): boolean {
  if (!statusWindow || statusWindow.isDestroyed() || event.sender !== statusWindow) return false;
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame) return false;
  return isAppUrl(frame.url);
}

const invalid = (message: string): DeadLetterActionOutcome => ({ ok: false, refusal: 'invalid', message });

/**
 * Registers the window's three invoke channels, each checking its sender and its arguments. The preload
 * exposes exactly these to the page, and the main process listens on no other channel: a page cannot reach
 * anything else, whatever it sends. Returns the unregister.
 */
export function registerWindowIpc(
  handlers: WindowIpcHandlers,
  statusWindow: () => WebContents | null,
  logger: Logger,
): () => void {
  const guarded =
    <A extends unknown[], R>(channel: string, handler: (...args: A) => Promise<R>) =>
    (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<R> => {
      if (!isTrustedSender(event, statusWindow())) {
        logger.warn('IPC refused: unknown sender', { channel, url: event.senderFrame?.url ?? null });
        return Promise.reject(new Error(`${channel} refused: unknown sender`));
      }
      return handler(...(args as A));
    };

  ipcMain.handle(
    WINDOW_IPC.snapshot,
    guarded(WINDOW_IPC.snapshot, () => handlers.snapshot()),
  );
  ipcMain.handle(
    WINDOW_IPC.retry,
    guarded(WINDOW_IPC.retry, async (eventId: unknown) => {
      const id = deadLetterIdSchema.safeParse(eventId);
      return id.success ? handlers.retry(id.data) : invalid('not the eventId of a dead letter');
    }),
  );
  ipcMain.handle(
    WINDOW_IPC.discard,
    guarded(WINDOW_IPC.discard, async (eventId: unknown, note: unknown) => {
      const id = deadLetterIdSchema.safeParse(eventId);
      const request = discardRequestSchema.safeParse({ note });
      if (!id.success) return invalid('not the eventId of a dead letter');
      if (!request.success) return invalid(request.error.issues[0]?.message ?? 'the note is not valid');
      return handlers.discard(id.data, request.data.note);
    }),
  );
  return () => {
    for (const channel of [WINDOW_IPC.snapshot, WINDOW_IPC.retry, WINDOW_IPC.discard])
      ipcMain.removeHandler(channel);
  };
}
