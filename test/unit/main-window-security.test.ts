import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/lib/logger.js';
import {
  app,
  fakeEvent,
  FakeSession,
  FakeWebContents,
  session,
  type BrowserWindow,
} from '../support/fake-electron.js';

vi.mock('electron', () => import('../support/fake-electron.js'));

const { createStatusWindow } = await import('../../src/main/status-window.js');
const { hardenApp, hardenSession, hardenWebContents, isAllowedRequest, secureWebPreferences } =
  await import('../../src/main/window-security.js');
const { APP_ENTRY_URL } = await import('../../src/main/app-protocol.js');

const logger = silentLogger();

describe('the status window is created with the secure web preferences', () => {
  it('isolates the page: context isolation, sandbox, no Node, no webviews, its own preload only', () => {
    let quitting = false;
    const window = createStatusWindow({
      preload: '/app/dist/main/preload.cjs',
      devTools: false,
      quitting: () => quitting,
      logger,
    });
    const fake = window as unknown as BrowserWindow;
    const prefs = fake.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      preload: '/app/dist/main/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      devTools: false,
    });
    // Loaded from the app's own scheme, never from the network or file://.
    expect(fake.loadURL).toHaveBeenCalledWith(APP_ENTRY_URL);
    expect(APP_ENTRY_URL).toBe('outpost://app/index.html');

    // Closing the window hides it: the agent keeps serving the tills.
    expect(fake.userCloses().defaultPrevented).toBe(true);
    expect(fake.hide).toHaveBeenCalledTimes(1);
    quitting = true;
    expect(fake.userCloses().defaultPrevented).toBe(false);
  });

  it('never turns a security preference off, whatever the devTools choice', () => {
    for (const devTools of [true, false]) {
      const prefs = secureWebPreferences('/p.cjs', { devTools });
      expect([prefs.contextIsolation, prefs.sandbox, prefs.webSecurity]).toEqual([true, true, true]);
      expect([prefs.nodeIntegration, prefs.webviewTag, prefs.allowRunningInsecureContent]).toEqual([
        false,
        false,
        false,
      ]);
    }
  });
});

describe('web contents cannot navigate, open windows or attach webviews', () => {
  it('prevents every navigation and redirect, denies window.open and webviews', () => {
    const contents = new FakeWebContents();
    hardenWebContents(contents as never, logger);
    for (const [event, url] of [
      ['will-navigate', 'https://evil.example/'],
      ['will-navigate', 'file:///etc/passwd'],
      ['will-navigate', 'outpost://app/other.html'],
      ['will-redirect', 'https://evil.example/'],
    ] as const) {
      const e = fakeEvent();
      contents.emit(event, e, url);
      expect(e.defaultPrevented, `${event} ${url}`).toBe(true);
    }
    const webview = fakeEvent();
    contents.emit('will-attach-webview', webview, {}, {});
    expect(webview.defaultPrevented).toBe(true);
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });

  it('applies to every web contents the app ever creates, with the sandbox on for all', async () => {
    hardenApp(logger);
    expect(app.enableSandbox).toHaveBeenCalled();
    const later = new FakeWebContents();
    app.emit('web-contents-created', fakeEvent(), later);
    const e = fakeEvent();
    later.emit('will-navigate', e, 'https://evil.example/');
    expect(e.defaultPrevented).toBe(true);
    await Promise.resolve();
    expect(session.defaultSession.permissionRequestHandler).toBeDefined();
  });
});

describe('the session refuses permissions and remote content', () => {
  it('denies every permission request and check', () => {
    const target = new FakeSession();
    hardenSession(target as never, logger);
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      const callback = vi.fn();
      target.permissionRequestHandler?.({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
    }
    expect(target.permissionCheckHandler?.()).toBe(false);
    expect(target.devicePermissionHandler?.()).toBe(false);
  });

  it("cancels any request that is not the app's own files", () => {
    const target = new FakeSession();
    hardenSession(target as never, logger);
    const cancelled = (url: string) => {
      let answer: { cancel: boolean } | undefined;
      target.beforeRequest?.({ url }, (response) => (answer = response));
      return answer?.cancel;
    };
    expect(cancelled('outpost://app/index.html')).toBe(false);
    expect(cancelled('outpost://app/assets/index.js')).toBe(false);
    expect(cancelled('https://cdn.example/lib.js')).toBe(true);
    expect(cancelled('http://127.0.0.1:8787/v1/status')).toBe(true);
    expect(cancelled('file:///C:/Windows/win.ini')).toBe(true);
    expect(cancelled('outpost://elsewhere/index.html')).toBe(true);
    expect(isAllowedRequest('data:text/html,<script>1</script>')).toBe(false);
  });
});
