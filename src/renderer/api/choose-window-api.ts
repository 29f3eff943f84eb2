import { WINDOW_BRIDGE_KEY, type WindowApi, type WindowBridge } from '../../contracts/window-api.js';
import { createBridgeWindowApi } from './bridge-window-api.js';
import { createHttpWindowApi } from './http-window-api.js';

/** Inside the desktop app the preload has put its bridge on `window`; in a browser the agent serves the page. */
export function chooseWindowApi(scope: Window): WindowApi {
  const bridge = (scope as unknown as Record<string, WindowBridge | undefined>)[WINDOW_BRIDGE_KEY];
  return bridge ? createBridgeWindowApi(bridge) : createHttpWindowApi({ baseUrl: scope.location.origin });
}
